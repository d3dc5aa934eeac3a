/**
 * A run's identity. `RunSpec` names one training run (one cell of a grid); `specHash` turns it into the
 * deterministic id that keys the results cache (`results/<experiment>/<specHash>.json`), the checkpoint
 * folder and the job queue (BullMQ jobId), so enqueuing a grid twice, or a second machine finishing a run,
 * never duplicates a record. Everything that changes a run's result is in the spec: the dataset source too,
 * so a kit run and a D4RL run of the same cell never share a record.
 */
import { createHash } from 'crypto';
import * as path from 'path';
import { stableStringify } from '../util/atomic';
import { check, checkOneOf, nearest } from '../util/check';
import { kitRoot } from '../util/kit-root';
import {
  ANTMAZE_KINDS,
  ANTMAZE_MAZE_OF,
  DATA_SOURCES,
  DATASET_KINDS,
  EVAL_PADDINGS,
  MODEL_NAMES,
  RUN_ENVS,
  type AntMazeKind,
  type DataSource,
  type EnvId,
  type EnvName,
  type EvalPadding,
  type ModelName,
  type RunEnv,
} from './names';
import { SCALES, type Scale } from './scales';

/** Experiment name used when a spec gives none. */
export const DEFAULT_EXPERIMENT = 'runs';

export interface RunSpec {
  model: ModelName;
  /** A locomotion task or 'antmaze' (RUN_ENVS). */
  env: string;
  /**
   * Dataset id, e.g. `hopper-medium` or `antmaze-umaze-diverse` (what `loadDataset` takes); a bare kind
   * (`medium`, `umaze-diverse`) normalises to it.
   */
  dataset: string;
  seed: number;
  scale: Scale;
  /** Kit-generated data (default) or the original D4RL files. */
  source?: DataSource;
  /** Model or trainer overrides (camelCase keys); validated by the resolvers, not here. */
  overrides?: Record<string, unknown>;
  experiment?: string;
  evalPadding?: EvalPadding;
}

/** The normal form of a spec (see `normaliseRunSpec`): every default filled in. */
export type NormalRunSpec = Required<Omit<RunSpec, 'overrides'>> & { overrides?: Record<string, unknown> };

export const RUN_SPEC_KEYS = [
  'model',
  'env',
  'dataset',
  'seed',
  'scale',
  'source',
  'overrides',
  'experiment',
  'evalPadding',
] as const;

const NAME_RE = /^[a-z0-9][a-z0-9._-]*$/;

/** The dataset kinds a run env trains on (docs/spec.md §8.2): D4RL's gym-mujoco kinds, or AntMaze's. */
export function datasetKindsOf(env: RunEnv): readonly string[] {
  return env === 'antmaze' ? ANTMAZE_KINDS : DATASET_KINDS;
}

/**
 * The env a run is evaluated in (docs/spec.md §10): its locomotion task, or the maze its AntMaze dataset was
 * recorded in (antmaze-umaze and antmaze-umaze-diverse: `antmaze-umaze`, 700-step episodes that end at the goal).
 */
export function evalEnvOf(spec: RunSpec): EnvId {
  const n = normaliseRunSpec(spec, 'evalEnvOf');
  if (n.env !== 'antmaze') return n.env as EnvName;
  return ANTMAZE_MAZE_OF[n.dataset.slice('antmaze-'.length) as AntMazeKind];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON values only (no functions, NaN or undefined), so the hash sees exactly what the record stores. */
function checkJsonValue(fn: string, where: string, value: unknown): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    check(Number.isFinite(value), () => `Error in ${fn}: ${where} must be a finite number, got ${value}.`);
    return;
  }
  if (Array.isArray(value)) return value.forEach((v, i) => checkJsonValue(fn, `${where}[${i}]`, v));
  check(isPlainObject(value), () => `Error in ${fn}: ${where} must be a JSON value, got ${typeof value}.`);
  for (const [k, v] of Object.entries(value)) checkJsonValue(fn, `${where}.${k}`, v);
}

/**
 * Validates a spec and returns its normal form: defaults filled in (`source`, `experiment`,
 * `evalPadding`), empty `overrides` dropped, keys in a fixed order. Two specs that mean the same run
 * normalise to equal objects, hence equal hashes.
 */
export function normaliseRunSpec(spec: unknown, fn = 'normaliseRunSpec'): NormalRunSpec {
  check(isPlainObject(spec), () => `Error in ${fn}: a run spec must be an object, got ${JSON.stringify(spec)}.`);
  for (const key of Object.keys(spec)) {
    check(
      (RUN_SPEC_KEYS as readonly string[]).includes(key),
      () =>
        `Error in ${fn}: unknown run-spec key '${key}'. Did you mean '${nearest(key, RUN_SPEC_KEYS)}'? Valid keys: ${RUN_SPEC_KEYS.join(', ')}.`,
    );
  }
  const model = checkOneOf(fn, 'model', spec.model, MODEL_NAMES);
  const env = checkOneOf(fn, 'env', spec.env, RUN_ENVS);
  const kinds = datasetKindsOf(env);
  const validDatasets = kinds.map((k) => `${env}-${k}`);
  // A bare kind (`medium`, `umaze`) means `<env>-<kind>`, so callers that keep env and kind apart hash the same.
  const given = (kinds as readonly unknown[]).includes(spec.dataset)
    ? `${env}-${spec.dataset as string}`
    : spec.dataset;
  const dataset = checkOneOf(fn, `dataset (for env '${env}')`, given, validDatasets);
  const seed = spec.seed;
  check(
    typeof seed === 'number' && Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff,
    () => `Error in ${fn}: seed must be an integer in [0, 2^32), got ${JSON.stringify(seed)}.`,
  );
  const scale = checkOneOf(fn, 'scale', spec.scale, SCALES);
  const source = spec.source === undefined ? 'kit' : checkOneOf(fn, 'source', spec.source, DATA_SOURCES);
  const experiment = spec.experiment ?? DEFAULT_EXPERIMENT;
  check(
    typeof experiment === 'string' && NAME_RE.test(experiment),
    () =>
      `Error in ${fn}: experiment must be a lower-case name of letters, digits, '.', '_' or '-' (it names a results folder), got ${JSON.stringify(experiment)}.`,
  );
  const evalPadding =
    spec.evalPadding === undefined ? 'official' : checkOneOf(fn, 'evalPadding', spec.evalPadding, EVAL_PADDINGS);
  const out: NormalRunSpec = { model, env, dataset, seed, scale, source, experiment, evalPadding };
  if (spec.overrides !== undefined) {
    check(
      isPlainObject(spec.overrides),
      () => `Error in ${fn}: overrides must be an object of config keys, got ${JSON.stringify(spec.overrides)}.`,
    );
    checkJsonValue(fn, 'overrides', spec.overrides);
    if (Object.keys(spec.overrides).length > 0)
      out.overrides = JSON.parse(stableStringify(spec.overrides)) as Record<string, unknown>;
  }
  return out;
}

/** sha256 (hex) of the normalised spec: the job id, the record's file name and the checkpoint folder's. */
export function specHash(spec: RunSpec): string {
  return createHash('sha256')
    .update(stableStringify(normaliseRunSpec(spec, 'specHash')))
    .digest('hex');
}

/**
 * The results folder for runs of a scale, unless the caller names one (`--results`): DMM_RESULTS_DIR when set
 * (relative to the kit root); at smoke scale `<kit>/.cache/results-smoke`, git-ignored, so CI and smoke runs
 * from the command line never write the committed results/; at paper scale `<kit>/results/paper` (the GPU
 * host's records, committed apart from the notebook scale's); else `<kit>/results`. The command line and the
 * notebooks both choose their folder here.
 */
export function resultsDir(scale: string): string {
  const env = process.env.DMM_RESULTS_DIR;
  if (env) return path.resolve(kitRoot(), env);
  if (scale === 'smoke') return path.join(kitRoot(), '.cache', 'results-smoke');
  return scale === 'paper' ? path.join(kitRoot(), 'results', 'paper') : path.join(kitRoot(), 'results');
}

/** Where a run's record lives: `<resultsDir>/<experiment>/<specHash>.json`. */
export function recordPath(spec: RunSpec, resultsDir = 'results'): string {
  const n = normaliseRunSpec(spec, 'recordPath');
  return path.join(resultsDir, n.experiment, `${specHash(n)}.json`);
}

/** A short human label for logs and status tables: `dmm hopper-medium s12 (quick)`, `… (quick, d4rl)`. */
export function specLabel(spec: RunSpec): string {
  const source = spec.source && spec.source !== 'kit' ? `, ${spec.source}` : '';
  return `${spec.model} ${spec.dataset} s${spec.seed} (${spec.scale}${source})`;
}

/**
 * A run's checkpoint folder: `<root>/<experiment>/checkpoints/<specHash>/` (git-ignored under results/).
 * `root` is the results folder, or the shared `--artifacts` folder of queue workers.
 */
export function checkpointDir(spec: RunSpec, root = 'results'): string {
  const n = normaliseRunSpec(spec, 'checkpointDir');
  return path.join(root, n.experiment, 'checkpoints', specHash(n));
}
