/**
 * What the paper notebooks cover at each scale: which datasets the main table trains on, the extra seeds of
 * the protocol study, and how many runs train at once. How much each run trains is the scale's
 * (scales.ts); the committed notebooks run at the `notebook` scale, which fits all of them into an hour on
 * the 2-core machine. Every figure states the counts, and `deviation()` is the one sentence that labels them.
 */
import { checkOneOf } from '../util/check';
import { ANTMAZE_KINDS, DATASET_KINDS, ENV_NAMES, type AntMazeKind } from './names';
import { resolveRun } from './resolve';
import { RUN_SCALES, SCALES, type Scale } from './scales';

export interface ExperimentBudget {
  scale: Scale;
  /** Seeds of every cell: the scale's (the protocol notebook adds more on hopper-medium). */
  seeds: readonly number[];
  /** Extra seeds for the protocol study on hopper-medium (DMM and Decision Mamba). */
  protocolSeeds: readonly number[];
  /** Main-table coverage: MuJoCo envs × dataset kinds. */
  envs: readonly string[];
  datasets: readonly string[];
  /** The main table's AntMaze section (env 'antmaze'): its dataset kinds, scored as success rates. */
  antmaze: readonly AntMazeKind[];
  /** Local worker processes that train cells in parallel. */
  workers: number;
}

/** The main table's three dataset kinds (the papers' D4RL MuJoCo table). */
const TABLE_KINDS = DATASET_KINDS.filter((k) => ['medium', 'medium-replay', 'medium-expert'].includes(k));

function budget(
  scale: Scale,
  protocolSeeds: number[],
  envs: readonly string[],
  datasets: readonly string[],
  antmaze: readonly AntMazeKind[],
): Readonly<ExperimentBudget> {
  return Object.freeze({ scale, seeds: RUN_SCALES[scale].seeds, protocolSeeds, envs, datasets, antmaze, workers: 2 });
}

export const BUDGETS: Readonly<Record<Scale, Readonly<ExperimentBudget>>> = Object.freeze({
  smoke: budget('smoke', [], ['hopper'], ['medium'], ['umaze']),
  // The MuJoCo table on the three `medium` datasets only: 2,000 steps per run leave no time for all nine (scales.ts).
  notebook: budget('notebook', [23], ENV_NAMES, ['medium'], ANTMAZE_KINDS),
  quick: budget('quick', [], ENV_NAMES, TABLE_KINDS, ANTMAZE_KINDS),
  paper: budget('paper', [], ENV_NAMES, TABLE_KINDS, ANTMAZE_KINDS),
});

export function budgetFor(scale: string): Readonly<ExperimentBudget> {
  return BUDGETS[checkOneOf('budgetFor', 'scale', scale, SCALES)];
}

/** Steps, evaluations and episodes one run of this scale does (DMM on hopper-medium, through resolveRun). */
export function cellCounts(scale: string): {
  iterations: number;
  stepsPerIteration: number;
  steps: number;
  batchSize: number;
  episodesPerTarget: number;
  maxEpisodeSteps: number;
  primaryOnly: boolean;
  hiddenSize?: number;
} {
  const s = budgetFor(scale).scale;
  const run = resolveRun({ model: 'dmm', env: 'hopper', dataset: 'hopper-medium', seed: 0, scale: s });
  const { iterations, stepsPerIteration, batchSize } = run.train;
  return {
    iterations,
    stepsPerIteration,
    steps: iterations * stepsPerIteration,
    batchSize,
    episodesPerTarget: run.eval.episodesPerTarget,
    maxEpisodeSteps: run.eval.maxEpisodeSteps,
    primaryOnly: RUN_SCALES[s].targets === 'primary',
    hiddenSize: RUN_SCALES[s].modelOverrides.hiddenSize,
  };
}

/**
 * One sentence for captions and the top of each notebook: what this scale ran, against the official counts
 * (docs/spec.md §9, §10), then which records the notebook renders (DMM_RECORDS_NOTE, set by the notebook
 * runner: retrained now or re-plotted, src/notebooks/records.ts).
 */
export function deviation(scale: string): string {
  const records = process.env.DMM_RECORDS_NOTE;
  return records ? `${countsDeviation(scale).replace(/\.$/, '')}; ${records}` : countsDeviation(scale);
}

function countsDeviation(scale: string): string {
  const c = cellCounts(scale);
  const p = cellCounts('paper');
  const b = budgetFor(scale);
  if (b.scale === 'paper')
    return `Official counts: ${p.iterations}×${p.stepsPerIteration} steps, ${p.episodesPerTarget} episodes per target.`;
  const cap =
    c.maxEpisodeSteps < p.maxEpisodeSteps
      ? `, episodes cut at ${c.maxEpisodeSteps} steps (official ${p.maxEpisodeSteps}; a cut episode scores at most ~${Math.round((100 * c.maxEpisodeSteps) / p.maxEpisodeSteps)}% of a full one)`
      : '';
  return (
    `${b.scale} scale, NOT the official protocol: ${c.iterations}×${c.stepsPerIteration} = ${c.steps} training steps at batch ${c.batchSize} ` +
    `(official ${p.steps} at 64), ${c.episodesPerTarget} episodes per target (official ${p.episodesPerTarget})` +
    `${c.primaryOnly ? ', primary RTG target only (official: all targets)' : ''}${cap}` +
    (b.scale !== 'smoke' && c.hiddenSize
      ? `; every model at D=${c.hiddenSize} unless swept (official: DMM 64, DT 128, DC 128/256, Decision Mamba 128/256); datasets: ${b.envs.join(', ')} × ${b.datasets.join(', ')}`
      : '') +
    (b.scale === 'smoke' ? '; smoke models D=16, 1 layer' : '')
  );
}
