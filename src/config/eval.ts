/**
 * The evaluator's configuration (docs/spec.md §10): one interface, frozen defaults (the official values) and the
 * resolver that is its only constructor. The RTG targets depend on the model and env
 * (src/config/presets.ts `rtgTargets`), so they have no default and must be given.
 */
import { check, checkKnownKeys, checkOneOf } from '../util/check';
import { EVAL_PADDINGS, type EvalPadding } from './names';

export interface EvalConfig {
  /** RTG targets in raw return units, each evaluated on its own episodes. */
  targets: readonly number[];
  episodesPerTarget: number;
  /** Cap on episode length: 1000 officially (max_ep_len); the environment's time limit also applies. */
  maxEpisodeSteps: number;
  /** Timestep clip for the embedding table (max_ep_len − 1). */
  maxEpLen: number;
  /** RTG scale (docs/spec.md §8.9), the trainer's. */
  returnScale: number;
  evalPadding: EvalPadding;
}

export const EVAL_DEFAULTS: Readonly<Omit<EvalConfig, 'targets'>> = Object.freeze({
  episodesPerTarget: 100,
  maxEpisodeSteps: 1000,
  maxEpLen: 1000,
  returnScale: 1000,
  evalPadding: 'official',
});

const EVAL_KEYS = ['targets', ...Object.keys(EVAL_DEFAULTS)];

export function resolveEvalConfig(partial: Partial<EvalConfig>): Readonly<EvalConfig> {
  const fn = 'resolveEvalConfig';
  checkKnownKeys(fn, partial, EVAL_KEYS);
  const c = { ...EVAL_DEFAULTS, ...partial };
  const targets = c.targets;
  check(
    Array.isArray(targets) && targets.length > 0 && targets.every((t) => Number.isFinite(t)),
    () => `Error in ${fn}: targets must be a non-empty list of finite returns, got ${JSON.stringify(targets)}.`,
  );
  for (const key of ['episodesPerTarget', 'maxEpisodeSteps', 'maxEpLen'] as const)
    check(
      Number.isInteger(c[key]) && c[key] > 0,
      () => `Error in ${fn}: ${key} must be a positive integer, got ${JSON.stringify(c[key])}.`,
    );
  check(
    Number.isFinite(c.returnScale) && c.returnScale > 0,
    () => `Error in ${fn}: returnScale must be a positive number, got ${JSON.stringify(c.returnScale)}.`,
  );
  checkOneOf(fn, 'evalPadding', c.evalPadding, EVAL_PADDINGS);
  return Object.freeze({ ...c, targets: Object.freeze([...targets]) });
}
