/**
 * The trainer's configuration (docs/spec.md §9): one interface, frozen defaults (the official values) and the
 * resolver that is its only constructor. Counts come from the scale and the rest from the official preset
 * (src/config/resolve.ts); the Trainer (src/train/trainer.ts) reads only a resolved config.
 */
import { check, checkKnownKeys } from '../util/check';

export interface TrainConfig {
  iterations: number;
  stepsPerIteration: number;
  warmupSteps: number;
  batchSize: number;
  learningRate: number;
  weightDecay: number;
  /** Global L2 norm clip (docs/spec.md §9). */
  gradClip: number;
  /** RTG scale (docs/spec.md §8.9). */
  returnScale: number;
  /** Episode length bound for timesteps (docs/spec.md §8.7) and evaluation (§10). */
  maxEpLen: number;
}

export const TRAIN_DEFAULTS: Readonly<TrainConfig> = Object.freeze({
  iterations: 10,
  stepsPerIteration: 10000,
  warmupSteps: 10000,
  batchSize: 64,
  learningRate: 1e-4,
  weightDecay: 1e-4,
  gradClip: 0.25,
  returnScale: 1000,
  maxEpLen: 1000,
});

export const TRAIN_KEYS = Object.keys(TRAIN_DEFAULTS) as (keyof TrainConfig)[];

export function resolveTrainConfig(partial: Partial<TrainConfig> = {}): Readonly<TrainConfig> {
  checkKnownKeys('resolveTrainConfig', partial, TRAIN_KEYS);
  const c = { ...TRAIN_DEFAULTS, ...partial };
  for (const key of ['iterations', 'stepsPerIteration', 'batchSize', 'maxEpLen'] as const) {
    check(
      Number.isInteger(c[key]) && c[key] > 0,
      () => `Error in resolveTrainConfig: ${key} must be a positive integer, got ${c[key]}.`,
    );
  }
  check(
    Number.isInteger(c.warmupSteps) && c.warmupSteps >= 0,
    () => `Error in resolveTrainConfig: warmupSteps must be a non-negative integer, got ${c.warmupSteps}.`,
  );
  for (const key of ['learningRate', 'gradClip', 'returnScale'] as const) {
    check(
      Number.isFinite(c[key]) && c[key] > 0,
      () => `Error in resolveTrainConfig: ${key} must be a positive number, got ${c[key]}.`,
    );
  }
  check(
    Number.isFinite(c.weightDecay) && c.weightDecay >= 0,
    () => `Error in resolveTrainConfig: weightDecay must be a non-negative number, got ${c.weightDecay}.`,
  );
  return Object.freeze(c);
}
