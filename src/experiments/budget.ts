/**
 * How much each scale of the paper notebooks trains (issue 8). `smoke` and `paper` use the run scales of
 * src/config/scales.ts unchanged; `quick` is cut further (fewer steps and iterations, one seed on most cells)
 * so that all eleven notebooks fit 60 minutes on the 2-core machine. Every figure states these counts, and
 * `deviation()` is the one sentence that labels them.
 */
import { RUN_SCALES, type Scale } from '../config/scales';
import type { EvalCut } from '../sweep/spec';
import { check, nearest } from '../util/check';

export interface ExperimentBudget {
  scale: Scale;
  /** Seeds of every cell (the protocol notebook adds more on hopper-medium). */
  seeds: readonly number[];
  /** Extra seeds for the protocol study on hopper-medium (DMM and Decision Mamba). */
  protocolSeeds: readonly number[];
  /** Trainer overrides put into each RunSpec (empty = the run scale's own counts). */
  train: Readonly<Record<string, number>>;
  /** Model overrides put into each RunSpec (quick: one small width for every model). */
  model: Readonly<Record<string, number>>;
  /** Main-table coverage. */
  envs: readonly string[];
  datasets: readonly string[];
  /** Local worker processes that train cells in parallel. */
  workers: number;
  /** Evaluation cut (quick only), put into each RunSpec: episodes per target, the primary RTG target only. */
  eval?: Readonly<EvalCut>;
}

export const BUDGETS: Readonly<Record<Scale, Readonly<ExperimentBudget>>> = Object.freeze({
  smoke: Object.freeze({
    scale: 'smoke',
    seeds: [12],
    protocolSeeds: [],
    train: {},
    model: {},
    envs: ['hopper'],
    datasets: ['medium'],
    workers: 2,
  }),
  quick: Object.freeze({
    scale: 'quick',
    seeds: [12],
    protocolSeeds: [23],
    // Sized from steps measured on this 2-core machine (wasm, one thread, quiet; .scratch timings in the
    // session-2 note): at D=32, batch 32 a step takes DMM ~70 ms, DC ~70, DT ~150-200, Decision Mamba ~240,
    // and an evaluation step of 5 episodes 7-27 ms. 500 steps and two evaluations of 5 full-length episodes
    // per cell, all nine datasets in the main table, fit the 60-minute budget with two worker processes.
    train: Object.freeze({ iterations: 2, stepsPerIteration: 250, warmupSteps: 50, batchSize: 32 }),
    model: Object.freeze({ hiddenSize: 32 }),
    eval: Object.freeze({ episodesPerTarget: 5, targets: 'primary' as const }),
    envs: ['hopper', 'halfcheetah', 'walker2d'],
    datasets: ['medium', 'medium-replay', 'medium-expert'],
    workers: 2,
  }),
  paper: Object.freeze({
    scale: 'paper',
    seeds: [12, 23, 34, 45, 51],
    protocolSeeds: [],
    train: {},
    model: {},
    envs: ['hopper', 'halfcheetah', 'walker2d'],
    datasets: ['medium', 'medium-replay', 'medium-expert'],
    workers: 2,
  }),
});

export function budgetFor(scale: string): Readonly<ExperimentBudget> {
  check(
    scale in BUDGETS,
    () =>
      `Error in budgetFor: scale must be one of ${Object.keys(BUDGETS).join(', ')}, got '${scale}'. Did you mean '${nearest(scale, Object.keys(BUDGETS))}'?`,
  );
  return BUDGETS[scale as Scale];
}

/** Steps, evaluations and episodes one cell of this scale actually runs. */
export function cellCounts(scale: string): {
  iterations: number;
  stepsPerIteration: number;
  steps: number;
  batchSize: number;
  episodesPerTarget: number;
  maxEpisodeSteps: number;
  primaryOnly: boolean;
} {
  const b = budgetFor(scale);
  const run = RUN_SCALES[b.scale];
  const iterations = b.train.iterations ?? run.iterations;
  const stepsPerIteration = b.train.stepsPerIteration ?? run.stepsPerIteration;
  return {
    iterations,
    stepsPerIteration,
    steps: iterations * stepsPerIteration,
    batchSize: b.train.batchSize ?? run.batchSize ?? 64,
    episodesPerTarget: b.eval?.episodesPerTarget ?? run.episodesPerTarget,
    maxEpisodeSteps: b.eval?.maxEpisodeSteps ?? run.maxEpisodeSteps,
    primaryOnly: b.eval?.targets === 'primary',
  };
}

/** One sentence for captions: what this scale ran, against the official counts (model-spec §9, §10). */
export function deviation(scale: string): string {
  const c = cellCounts(scale);
  const p = cellCounts('paper');
  if (scale === 'paper')
    return `Official counts: ${p.iterations}×${p.stepsPerIteration} steps, ${p.episodesPerTarget} episodes per target.`;
  const cap =
    c.maxEpisodeSteps < p.maxEpisodeSteps
      ? `, episodes cut at ${c.maxEpisodeSteps} steps (official ${p.maxEpisodeSteps}; a cut episode scores at most ~${Math.round((100 * c.maxEpisodeSteps) / p.maxEpisodeSteps)}% of a full one)`
      : '';
  return (
    `${scale} scale, NOT the official protocol: ${c.iterations}×${c.stepsPerIteration} = ${c.steps} training steps at batch ${c.batchSize} ` +
    `(official ${p.steps} at 64), ${c.episodesPerTarget} episodes per target (official ${p.episodesPerTarget})` +
    `${c.primaryOnly ? ', primary RTG target only (official: all targets)' : ''}${cap}` +
    (budgetFor(scale).model.hiddenSize
      ? `; every model at D=${budgetFor(scale).model.hiddenSize} unless swept (official: DMM 64, DT 128, DC 128/256, Decision Mamba 128/256); datasets: ${budgetFor(scale).envs.join(', ')} × ${budgetFor(scale).datasets.join(', ')}`
      : '') +
    (scale === 'smoke' ? '; smoke models D=16, 1 layer' : '')
  );
}
