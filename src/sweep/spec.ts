/**
 * A run's identity. `RunSpec` names one training run (one cell of a grid); `specHash` turns it into
 * the deterministic id that keys the results cache (`results/<experiment>/<specHash>.json`) and the
 * job queue (BullMQ jobId), so enqueuing a grid twice, or a second machine finishing a run, never
 * duplicates a record (issue 9).
 */
import { createHash } from 'crypto';
import * as path from 'path';
import { stableStringify } from '../util/atomic';
import { check, nearest } from '../util/check';
import { SCALES, type Scale } from '../config/scales';

/** Model names of the registry (src/models/index.ts `createModel`). Kept here so grids validate without loading tfjs. */
export const MODEL_NAMES = ['dmm', 'dmamba', 'dt', 'dc'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** MuJoCo env ids (src/envs ENV_IDS), listed here so grids validate without loading the simulator. */
export const ENV_NAMES = ['hopper', 'halfcheetah', 'walker2d'] as const;

/** D4RL dataset kinds; a dataset id is `<env>-<kind>` as `loadDataset` takes it (model-spec §8). */
export const DATASET_KINDS = ['medium', 'medium-replay', 'medium-expert', 'expert', 'random'] as const;

/** Evaluation padding (model-spec §12 quirk 1): `official` replicates the train/eval mismatch. */
export const EVAL_PADDINGS = ['official', 'train-consistent'] as const;
export type EvalPadding = (typeof EVAL_PADDINGS)[number];

/** Experiment name used when a spec gives none. */
export const DEFAULT_EXPERIMENT = 'runs';

export interface RunSpec {
  model: ModelName;
  env: string;
  /** Dataset id, e.g. `hopper-medium` (what `loadDataset` takes); a bare kind `medium` normalises to it. */
  dataset: string;
  seed: number;
  scale: Scale;
  /** Model-config overrides (camelCase keys); validated by the model's resolver, not here. */
  overrides?: Record<string, unknown>;
  experiment?: string;
  evalPadding?: EvalPadding;
  /** A cut of the scale's evaluation (the notebooks' quick budget); part of the hash, so cut runs never
   * share a record with full ones. */
  eval?: EvalCut;
}

/** Fewer episodes, the primary RTG target only, or shorter episodes than the scale's evaluation. */
export interface EvalCut {
  episodesPerTarget?: number;
  targets?: 'primary' | 'all';
  maxEpisodeSteps?: number;
}
export const EVAL_CUT_KEYS = ['episodesPerTarget', 'targets', 'maxEpisodeSteps'] as const;

/** The normal form of a spec (see `normaliseRunSpec`). */
export type NormalRunSpec = Required<Omit<RunSpec, 'overrides' | 'eval'>> & {
  overrides?: Record<string, unknown>;
  eval?: EvalCut;
};

export const RUN_SPEC_KEYS = [
  'model',
  'env',
  'dataset',
  'seed',
  'scale',
  'overrides',
  'experiment',
  'evalPadding',
  'eval',
] as const;

const NAME_RE = /^[a-z0-9][a-z0-9._-]*$/;

function oneOf<T extends string>(fn: string, what: string, value: unknown, valid: readonly T[]): T {
  check(
    typeof value === 'string' && (valid as readonly string[]).includes(value),
    () =>
      `Error in ${fn}: ${what} must be one of ${valid.join(', ')}, got ${JSON.stringify(value)}.` +
      (typeof value === 'string' ? ` Did you mean '${nearest(value, valid)}'?` : ''),
  );
  return value as T;
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
 * Validates a spec and returns its normal form: defaults filled in (`experiment`, `evalPadding`),
 * empty `overrides` dropped, keys in a fixed order. Two specs that mean the same run normalise to equal
 * objects, hence equal hashes.
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
  const model = oneOf(fn, 'model', spec.model, MODEL_NAMES);
  const env = oneOf(fn, 'env', spec.env, ENV_NAMES);
  const validDatasets = DATASET_KINDS.map((k) => `${env}-${k}`);
  // A bare kind (`medium`) means `<env>-medium`, so callers that keep env and kind apart hash the same.
  const given = (DATASET_KINDS as readonly unknown[]).includes(spec.dataset)
    ? `${env}-${spec.dataset as string}`
    : spec.dataset;
  const dataset = oneOf(fn, `dataset (for env '${env}')`, given, validDatasets);
  const seed = spec.seed;
  check(
    typeof seed === 'number' && Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff,
    () => `Error in ${fn}: seed must be an integer in [0, 2^32), got ${JSON.stringify(seed)}.`,
  );
  const scale = oneOf(fn, 'scale', spec.scale, SCALES);
  const experiment = spec.experiment ?? DEFAULT_EXPERIMENT;
  check(
    typeof experiment === 'string' && NAME_RE.test(experiment),
    () =>
      `Error in ${fn}: experiment must be a lower-case name of letters, digits, '.', '_' or '-' (it names a results folder), got ${JSON.stringify(experiment)}.`,
  );
  const evalPadding =
    spec.evalPadding === undefined ? 'official' : oneOf(fn, 'evalPadding', spec.evalPadding, EVAL_PADDINGS);
  const out: NormalRunSpec = {
    model,
    env,
    dataset,
    seed,
    scale,
    experiment,
    evalPadding,
  };
  if (spec.overrides !== undefined) {
    check(
      isPlainObject(spec.overrides),
      () => `Error in ${fn}: overrides must be an object of model-config keys, got ${JSON.stringify(spec.overrides)}.`,
    );
    checkJsonValue(fn, 'overrides', spec.overrides);
    if (Object.keys(spec.overrides).length > 0)
      out.overrides = JSON.parse(stableStringify(spec.overrides)) as Record<string, unknown>;
  }
  if (spec.eval !== undefined) {
    const cut = normaliseEvalCut(spec.eval, fn);
    if (Object.keys(cut).length > 0) out.eval = cut;
  }
  return out;
}

function normaliseEvalCut(cut: unknown, fn: string): EvalCut {
  check(
    isPlainObject(cut),
    () => `Error in ${fn}: eval must be an object with ${EVAL_CUT_KEYS.join(', ')}, got ${JSON.stringify(cut)}.`,
  );
  for (const key of Object.keys(cut))
    check(
      (EVAL_CUT_KEYS as readonly string[]).includes(key),
      () =>
        `Error in ${fn}: unknown eval key '${key}'. Did you mean '${nearest(key, EVAL_CUT_KEYS)}'? Valid keys: ${EVAL_CUT_KEYS.join(', ')}.`,
    );
  const out: EvalCut = {};
  for (const key of ['episodesPerTarget', 'maxEpisodeSteps'] as const) {
    const v = cut[key];
    if (v === undefined) continue;
    check(
      typeof v === 'number' && Number.isInteger(v) && v > 0,
      () => `Error in ${fn}: eval.${key} must be a positive integer, got ${JSON.stringify(v)}.`,
    );
    out[key] = v;
  }
  // 'all' is the scale's own choice, so it normalises away (same run, same hash as no cut).
  if (cut.targets !== undefined && oneOf(fn, 'eval.targets', cut.targets, ['primary', 'all'] as const) === 'primary')
    out.targets = 'primary';
  return out;
}

/** sha256 (hex) of the normalised spec: the job id and the results file name. */
export function specHash(spec: RunSpec): string {
  return createHash('sha256')
    .update(stableStringify(normaliseRunSpec(spec, 'specHash')))
    .digest('hex');
}

/** Where a run's record lives: `<resultsDir>/<experiment>/<specHash>.json`. */
export function recordPath(spec: RunSpec, resultsDir = 'results'): string {
  const n = normaliseRunSpec(spec, 'recordPath');
  return path.join(resultsDir, n.experiment, `${specHash(n)}.json`);
}

/** A short human label for logs and status tables: `dmm hopper-medium s12 (quick)`. */
export function specLabel(spec: RunSpec): string {
  return `${spec.model} ${spec.dataset} s${spec.seed} (${spec.scale})`;
}
