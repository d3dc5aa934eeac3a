/**
 * The kit's scales: how much one run trains and evaluates. Every count of every scale is here, so the
 * README table, the notebooks' captions and the CLI read one source.
 *   smoke     seconds, for CI: tiny models, a few steps;
 *   notebook  the committed notebooks: 2,000 steps per run at D = 32, a few minutes per run on the 2-core
 *             machine, so that all of them (the runs budget.ts plans) fit about an hour;
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
    // 4 × 500 = 2,000 steps for every model (4× the 500 before), at D = 32 and batch 32: the official widths do
    // not fit. Measured with bench/engine.ts (hopper, batch 32, --seconds 2, ms per step on the path training
    // takes on the CPU: DMM fused, the others tfjs-wasm) on the 2-core machine at load 2.4–5.5 (three other
    // agents): D 32: DMM 52, DC 45, DT 89, Decision Mamba 284; official D: DMM 64 154, DC 128 174 (256: 647),
    // DT 128 654, Decision Mamba 128 1,012. An evaluation of 5 episodes steps ≤ 1,000 times at one model call
    // (D 32: 1.7–3.6 ms, Decision Mamba 14) plus ~1 ms of 5 MuJoCo steps: ~4 s, ~16 s for Decision Mamba.
    // At 2,000 steps, the old coverage of 58 runs (36 in the main table) comes to ~13,700 process-s of training
    // alone (Decision Mamba's 15 runs: 8,500), ~1 h 55 min on two workers: it cannot fit. So budget.ts trains
    // the main table on the three `medium` datasets at this scale (34 runs; sweeps unchanged on hopper-medium):
    // ~6,200 s of training (scaling ms per step with K and D: DMM 1,400, Decision Mamba 3,500, DT 730,
    // DC 590) + ~750 s of 4 evaluations ≈ 58 min on two workers, plus ~12 min of notebook overhead (the 500-step
    // reproduce: 54 min wall for 83 process-min of runs) ≈ 70 min at today's load. A 1.5× faster CPU path for
    // DT, DC and Decision Mamba saves ~1,600 process-s (≈ 57 min in all); the next cuts would be 2 evaluations
    // instead of 4 (~3 min) or Decision Mamba's second protocol seed (~5 min).
    // AntMaze (issue 21) adds 9 runs: the four models on umaze and umaze-diverse, and Decision Mamba at K = 8 for
    // notebook 06 (43 in all, test/experiments/plan.test.ts).
    iterations: 4,
    stepsPerIteration: 500,
    warmupSteps: 200,
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
