/**
 * How much each scale of the paper notebooks trains (issue 8). `smoke` and `paper` use the run scales of
 * src/config/scales.ts unchanged; `quick` is cut further (fewer steps and iterations, one seed on most cells)
 * so that all eleven notebooks fit 60 minutes on the 2-core machine. Every figure states these counts, and
 * `deviation()` is the one sentence that labels them.
 */
import { RUN_SCALES, type Scale } from '../config/scales';
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
  /** Evaluation cut (quick only): episodes per target, and the primary RTG target only. */
  eval?: Readonly<{ episodesPerTarget: number; primaryOnly: boolean }>;
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
    protocolSeeds: [23, 34],
    // Two evaluations (so best-of and final can differ) after 75 steps each at batch 16, every model at D=64:
    // the 2-core budget of ~90 core-minutes for ~65 runs allows about this much. Measured on an idle core
    // (bench/results/train-step.json), one B=64 step takes DMM D=64 0.66 s, DT D=128 3.0 s, DC D=256 2.1 s
    // and Decision Mamba D=256 K=20 19.9 s, so official widths do not fit.
    train: Object.freeze({ iterations: 2, stepsPerIteration: 75, warmupSteps: 15, batchSize: 16 }),
    model: Object.freeze({ hiddenSize: 64 }),
    eval: Object.freeze({ episodesPerTarget: 4, primaryOnly: true }),
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
    maxEpisodeSteps: run.maxEpisodeSteps,
    primaryOnly: b.eval?.primaryOnly ?? false,
  };
}

/** One sentence for captions: what this scale ran, against the official counts (model-spec §9, §10). */
export function deviation(scale: string): string {
  const c = cellCounts(scale);
  const p = cellCounts('paper');
  if (scale === 'paper')
    return `Official counts: ${p.iterations}×${p.stepsPerIteration} steps, ${p.episodesPerTarget} episodes per target.`;
  const cap = c.maxEpisodeSteps < p.maxEpisodeSteps ? `, episodes cut at ${c.maxEpisodeSteps} steps` : '';
  return (
    `${scale} scale, NOT the official protocol: ${c.iterations}×${c.stepsPerIteration} = ${c.steps} training steps at batch ${c.batchSize} ` +
    `(official ${p.steps} at 64), ${c.episodesPerTarget} episodes per target (official ${p.episodesPerTarget})` +
    `${c.primaryOnly ? ', primary RTG target only (official: all targets)' : ''}${cap}` +
    (budgetFor(scale).model.hiddenSize
      ? `; every model at D=${budgetFor(scale).model.hiddenSize} unless swept (official: DMM 64, DT 128, DC 128/256, Decision Mamba 128/256)`
      : '') +
    (scale === 'smoke' ? '; smoke models D=16, 1 layer' : '')
  );
}
