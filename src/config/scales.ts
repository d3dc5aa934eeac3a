/**
 * The kit's three scales (DEVELOPERS' guide, issues 2, 5, 6, 8). `smoke` is seconds for CI, `quick`
 * is minutes per run on the 2-core machine, `paper` is the official counts of model-spec.md §9-§10.
 * Every module that depends on scale reads its numbers from here, so the README table has one source.
 */
import { check, nearest } from '../util/check';

export const SCALES = ['smoke', 'quick', 'paper'] as const;
export type Scale = (typeof SCALES)[number];

export function parseScale(value: string | undefined, fallback: Scale = 'quick'): Scale {
  const s = value === undefined || value === '' ? fallback : value;
  check(
    (SCALES as readonly string[]).includes(s),
    () =>
      `Error in parseScale: scale must be one of ${SCALES.join(', ')}, got '${s}'. Did you mean '${nearest(s, SCALES)}'?`,
  );
  return s as Scale;
}

/** The scale a notebook runs at: DMM_SCALE, set by the notebook runner (default quick). */
export function scaleFromEnv(): Scale {
  return parseScale(process.env.DMM_SCALE);
}

/** Training and evaluation counts of one scale (model-spec.md §9 and §10 give the `paper` column). */
export interface RunScale {
  /** Evaluation iterations; a checkpoint and an evaluation follow each one. */
  iterations: number;
  /** Optimiser steps per iteration. */
  stepsPerIteration: number;
  /** Linear warm-up length; paper 10k of 100k steps, the other scales keep that 10 % ratio. */
  warmupSteps: number;
  /** Episodes per RTG target per evaluation. */
  episodesPerTarget: number;
  /** Cap on evaluation episode length; 1000 is official (§10), smoke shortens it (labelled in records). */
  maxEpisodeSteps: number;
  /** Default seeds (§9: 12, 23, 34, 45, 51). */
  seeds: readonly number[];
  /** Model overrides applied before the user's (smoke shrinks the model; the others keep official sizes). */
  modelOverrides: Readonly<Record<string, number>>;
  /** Batch size override (undefined = official 64). */
  batchSize?: number;
}

export const RUN_SCALES: Readonly<Record<Scale, Readonly<RunScale>>> = Object.freeze({
  smoke: Object.freeze({
    iterations: 2,
    stepsPerIteration: 3,
    warmupSteps: 2,
    episodesPerTarget: 2,
    maxEpisodeSteps: 20,
    seeds: Object.freeze([12]),
    modelOverrides: Object.freeze({ hiddenSize: 16, nLayer: 1 }),
    batchSize: 4,
  }),
  quick: Object.freeze({
    // Sized from DMM at ~0.7 steps/s on the shared machine under load ~12 (about 1/6 of a core); on an idle
    // core that is ~4 steps/s, so 2,000 steps plus 4 evaluations of 40 episodes fit in ~10 minutes.
    iterations: 4,
    stepsPerIteration: 500,
    warmupSteps: 200,
    episodesPerTarget: 10,
    maxEpisodeSteps: 1000,
    seeds: Object.freeze([12, 23]),
    modelOverrides: Object.freeze({}),
  }),
  paper: Object.freeze({
    iterations: 10,
    stepsPerIteration: 10000,
    warmupSteps: 10000,
    episodesPerTarget: 100,
    maxEpisodeSteps: 1000,
    seeds: Object.freeze([12, 23, 34, 45, 51]),
    modelOverrides: Object.freeze({}),
  }),
});
