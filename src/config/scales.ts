/**
 * The kit's scales: how much one run trains and evaluates. Every count of every scale is here, so the
 * README table, the notebooks' captions and the CLI read one source.
 *   smoke     seconds, for CI: tiny models, a few steps;
 *   notebook  the committed notebooks: about a minute per run on the 2-core machine, so that all of them
 *             (58 runs) fit an hour;
 *   quick     a first real run from the CLI: minutes per run, official widths;
 *   paper     the official counts (docs/spec.md §9 and §10).
 */
import { checkOneOf } from '../util/check';

export const SCALES = ['smoke', 'notebook', 'quick', 'paper'] as const;
export type Scale = (typeof SCALES)[number];

export function parseScale(value: string | undefined, fallback: Scale = 'quick'): Scale {
  return checkOneOf('parseScale', 'scale', value === undefined || value === '' ? fallback : value, SCALES);
}

/** The scale a notebook runs at: DMM_SCALE, set by the notebook runner (default notebook). */
export function scaleFromEnv(): Scale {
  return parseScale(process.env.DMM_SCALE, 'notebook');
}

/** Sizes of kit-generated datasets (data/recipes.json); each scale names the one it trains on. */
export const DATA_SCALES = ['smoke', 'quick', 'paper'] as const;
export type DataScale = (typeof DATA_SCALES)[number];

/** The dataset size of a scale name (a run scale, or a dataset size itself). */
export function dataScaleOf(scale: string | undefined, fallback: Scale = 'quick'): DataScale {
  return RUN_SCALES[parseScale(scale, fallback)].dataScale;
}

/** Training and evaluation counts of one scale (docs/spec.md §9 and §10 give the `paper` column). */
export interface RunScale {
  /** Evaluation iterations; a checkpoint and an evaluation follow each one. */
  iterations: number;
  /** Optimiser steps per iteration. */
  stepsPerIteration: number;
  /** Linear warm-up length; paper 10k of 100k steps. */
  warmupSteps: number;
  /** Batch size override (undefined = the preset's, official 64). */
  batchSize?: number;
  /** Model overrides applied before the spec's (undefined = official sizes). */
  modelOverrides: Readonly<Record<string, number>>;
  /** Episodes per RTG target per evaluation. */
  episodesPerTarget: number;
  /** RTG targets evaluated: all of the model's (docs/spec.md §10), or the environment's primary target only. */
  targets: 'all' | 'primary';
  /** Cap on evaluation episode length; 1000 is official (docs/spec.md §10), smoke shortens it (labelled in records). */
  maxEpisodeSteps: number;
  /** Default seeds (docs/spec.md §9: 12, 23, 34, 45, 51). */
  seeds: readonly number[];
  /** Kit dataset size; the notebook scale trains on the quick-size datasets. */
  dataScale: DataScale;
}

export const RUN_SCALES: Readonly<Record<Scale, Readonly<RunScale>>> = Object.freeze({
  smoke: Object.freeze({
    iterations: 2,
    stepsPerIteration: 3,
    warmupSteps: 2,
    batchSize: 4,
    modelOverrides: Object.freeze({ hiddenSize: 16, nLayer: 1 }),
    episodesPerTarget: 2,
    targets: 'all',
    maxEpisodeSteps: 20,
    seeds: Object.freeze([12]),
    dataScale: 'smoke',
  }),
  notebook: Object.freeze({
    // Sized from steps measured on the 2-core machine (wasm, one thread, quiet): at D=32, batch 32 a step
    // takes DMM ~70 ms, DC ~70, DT ~150-200, Decision Mamba ~240, and an evaluation step of 5 episodes
    // 7-27 ms. 500 steps and two evaluations of 5 full-length episodes per run, all nine datasets in the
    // main table, fit the 60-minute budget with two worker processes.
    iterations: 2,
    stepsPerIteration: 250,
    warmupSteps: 50,
    batchSize: 32,
    modelOverrides: Object.freeze({ hiddenSize: 32 }),
    episodesPerTarget: 5,
    targets: 'primary',
    maxEpisodeSteps: 1000,
    seeds: Object.freeze([12]),
    dataScale: 'quick',
  }),
  quick: Object.freeze({
    // Sized from DMM at ~0.7 steps/s on the shared machine under load ~12 (about 1/6 of a core); on an idle
    // core that is ~4 steps/s, so 2,000 steps plus 4 evaluations of 40 episodes fit in ~10 minutes.
    iterations: 4,
    stepsPerIteration: 500,
    warmupSteps: 200,
    modelOverrides: Object.freeze({}),
    episodesPerTarget: 10,
    targets: 'all',
    maxEpisodeSteps: 1000,
    seeds: Object.freeze([12, 23]),
    dataScale: 'quick',
  }),
  paper: Object.freeze({
    iterations: 10,
    stepsPerIteration: 10000,
    warmupSteps: 10000,
    modelOverrides: Object.freeze({}),
    episodesPerTarget: 100,
    targets: 'all',
    maxEpisodeSteps: 1000,
    seeds: Object.freeze([12, 23, 34, 45, 51]),
    dataScale: 'paper',
  }),
});
