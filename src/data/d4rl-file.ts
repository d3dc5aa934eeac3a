/**
 * Reading a D4RL gym-mujoco HDF5 file (docs/spec.md §15.2) with the checks of D4RL's
 * `get_dataset` (docs/spec.md §15.3): required keys, observation and action dimensions for the environment, rewards
 * and terminals squeezed from (N, 1) to (N,). The kit adds what `get_dataset` leaves unchecked but
 * training relies on: `timeouts` present (docs/spec.md §8.1), every per-row key with N rows, and no NaN
 * or infinity. Each failure is one line naming the key and the problem.
 */
import { check } from '../util/check';
import { readHdf5, type H5Array } from './h5';
import { ENV_DIMS } from './d4rl-ids';
import { type DatasetEnv } from '../config/names';

/** The columns of a D4RL file, row-major, one row per transition. */
export interface TransitionArrays {
  env: DatasetEnv;
  /** Number of transitions N. */
  n: number;
  observations: Float32Array; // [N*s]
  actions: Float32Array; // [N*a]
  rewards: Float32Array; // [N]
  terminals: Uint8Array; // [N], 0/1
  timeouts: Uint8Array; // [N], 0/1
  nextObservations?: Float32Array; // [N*s]
  qpos?: Float32Array; // [N*nq]
  qvel?: Float32Array; // [N*nv]
  actionLogProbs?: Float32Array; // [N]
  /** Scalar entries under metadata/ (strings and numbers), e.g. 'generator', 'seed'. */
  metadata: Record<string, string | number>;
  /** Every dataset key of the file, read or not ('infos/qpos', …). */
  keys?: string[];
  /** HDF5 dtype of each key read: 'f4', 'i1', 'bool' (h5py's numpy bool), … (./h5.ts). */
  dtypes?: Record<string, string>;
}

export const REQUIRED_KEYS = ['observations', 'actions', 'rewards', 'terminals', 'timeouts'] as const;
/** Checked for shape when present; infos/goal is AntMaze's navigation goal. */
const OPTIONAL_ROW_KEYS = [
  'next_observations',
  'infos/qpos',
  'infos/qvel',
  'infos/action_log_probs',
  'infos/goal',
] as const;

function toFloat32(key: string, a: H5Array, where: string): Float32Array {
  const d = a.data;
  check(
    ArrayBuffer.isView(d) && !(d instanceof BigInt64Array) && !(d instanceof BigUint64Array),
    () => `Error in readD4rlFile: key '${key}' must be a numeric array, got dtype ${a.dtype} in ${where}.`,
  );
  const out = d instanceof Float32Array ? d : Float32Array.from(d as ArrayLike<number>);
  const width = Math.max(
    1,
    a.shape.slice(1).reduce((p, q) => p * q, 1),
  );
  for (let i = 0; i < out.length; i++) {
    const v = out[i];
    // v - v is NaN for NaN and ±Infinity, 0 otherwise: one comparison per element.
    check(
      v - v === 0,
      () =>
        `Error in readD4rlFile: key '${key}' must hold finite numbers, got ${v} at row ${Math.floor(i / width)}, column ${i % width} in ${where}. The file is corrupt: download or generate it again.`,
    );
  }
  return out;
}

function toFlags(key: string, a: H5Array, where: string): Uint8Array {
  const d = a.data;
  check(
    ArrayBuffer.isView(d) && !(d instanceof BigInt64Array) && !(d instanceof BigUint64Array),
    () => `Error in readD4rlFile: key '${key}' must be a bool array, got dtype ${a.dtype} in ${where}.`,
  );
  const src = d as ArrayLike<number>;
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    check(v === v, () => `Error in readD4rlFile: key '${key}' must hold 0/1 flags, got NaN at row ${i} in ${where}.`);
    out[i] = v ? 1 : 0;
  }
  return out;
}

/** Rows N and the width of one row; (N, 1) counts as (N,) for rewards and flags, as get_dataset squeezes them. */
function rowsOf(a: H5Array): { rows: number; width: number } {
  const shape = a.shape;
  return { rows: shape[0] ?? 1, width: shape.slice(1).reduce((p, q) => p * q, 1) };
}

/**
 * Validates the arrays of a D4RL file for `env` and returns them as typed columns. `where` names the
 * file in errors.
 */
export function checkD4rlArrays(
  arrays: Map<string, H5Array>,
  env: DatasetEnv,
  where: string,
  keys: string[] = [...arrays.keys()],
): TransitionArrays {
  const dims = ENV_DIMS[env];
  for (const key of REQUIRED_KEYS) {
    check(
      arrays.has(key),
      () =>
        `Error in readD4rlFile: key '${key}' is missing in ${where}; a D4RL file must hold ${REQUIRED_KEYS.join(', ')}. Download or generate the file again.`,
    );
  }
  const get = (key: string): H5Array => arrays.get(key) as H5Array;
  const obs = get('observations');
  check(
    obs.shape.length === 2,
    () =>
      `Error in readD4rlFile: key 'observations' must be 2-D (N, ${dims.observationDim}), got shape (${obs.shape.join(', ')}) in ${where}.`,
  );
  const n = obs.shape[0];
  check(
    obs.shape[1] === dims.observationDim,
    () =>
      `Error in readD4rlFile: key 'observations' must have ${dims.observationDim} columns for ${env}, got shape (${obs.shape.join(', ')}) in ${where}. Is this a file for another environment?`,
  );
  const widths: Record<string, number> = {
    actions: dims.actionDim,
    rewards: 1,
    terminals: 1,
    timeouts: 1,
    next_observations: dims.observationDim,
    'infos/qpos': dims.nq,
    'infos/qvel': dims.nv,
    'infos/action_log_probs': 1,
    'infos/goal': 2,
  };
  for (const key of [...REQUIRED_KEYS.slice(1), ...OPTIONAL_ROW_KEYS]) {
    const a = arrays.get(key);
    if (!a) continue;
    const { rows, width } = rowsOf(a);
    check(
      rows === n,
      () =>
        `Error in readD4rlFile: key '${key}' must have as many rows as 'observations' (${n}), got ${rows} in ${where}.`,
    );
    check(
      width === widths[key] && (widths[key] > 1 || a.shape.length <= 2),
      () =>
        `Error in readD4rlFile: key '${key}' must have shape (${n}${widths[key] > 1 ? `, ${widths[key]}` : ''}) for ${env}, got (${a.shape.join(', ')}) in ${where}.`,
    );
  }
  const metadata: Record<string, string | number> = {};
  for (const [key, a] of arrays) {
    if (!key.startsWith('metadata/')) continue;
    if (typeof a.data === 'string' || typeof a.data === 'number') metadata[key.slice('metadata/'.length)] = a.data;
    else if (typeof a.data === 'bigint') metadata[key.slice('metadata/'.length)] = Number(a.data);
  }
  const opt = (key: string): Float32Array | undefined =>
    arrays.has(key) ? toFloat32(key, get(key), where) : undefined;
  return {
    env,
    n,
    observations: toFloat32('observations', obs, where),
    actions: toFloat32('actions', get('actions'), where),
    rewards: toFloat32('rewards', get('rewards'), where),
    terminals: toFlags('terminals', get('terminals'), where),
    timeouts: toFlags('timeouts', get('timeouts'), where),
    nextObservations: opt('next_observations'),
    qpos: opt('infos/qpos'),
    qvel: opt('infos/qvel'),
    actionLogProbs: opt('infos/action_log_probs'),
    metadata,
    keys,
    dtypes: Object.fromEntries([...arrays].map(([k, a]) => [k, a.dtype])),
  };
}

/**
 * Reads and checks a D4RL-format file. `withInfos` also loads next_observations and infos/* (the
 * training pipeline needs neither, and skipping them halves the load time of a 1M-row file).
 */
export async function readD4rlFile(
  file: string,
  env: DatasetEnv,
  options: { withInfos?: boolean } = {},
): Promise<TransitionArrays> {
  const { keys, arrays } = await readHdf5(
    file,
    (key) => options.withInfos === true || !(key === 'next_observations' || key.startsWith('infos/')),
  );
  return checkD4rlArrays(arrays, env, `'${file}'`, keys);
}
