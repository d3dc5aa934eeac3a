/**
 * D4RL gym-mujoco names, file URLs, dimensions and reference scores (docs/spec.md §15.1, §15.2, §15.5).
 * A dataset is named `<env>-<kind>` ('hopper-medium'); the D4RL id adds '-v2' ('hopper-medium-v2').
 */
import { DATASET_KINDS, ENV_NAMES, type DatasetKind, type EnvName } from '../config/names';
import { check, nearest } from '../util/check';

/** Observation, action, qpos and qvel sizes (docs/spec.md §15.2). */
export const ENV_DIMS: Readonly<
  Record<EnvName, { observationDim: number; actionDim: number; nq: number; nv: number }>
> = Object.freeze({
  hopper: { observationDim: 11, actionDim: 3, nq: 6, nv: 6 },
  halfcheetah: { observationDim: 17, actionDim: 6, nq: 9, nv: 9 },
  walker2d: { observationDim: 17, actionDim: 6, nq: 9, nv: 9 },
});

/**
 * REF_MIN_SCORE / REF_MAX_SCORE of d4rl/infos.py (docs/spec.md §15.5): the *-v2 gym-mujoco ids (v2 copies the
 * -random-v0 values), and the sparse-reward suites the papers also report (antmaze, kitchen).
 */
export const REFERENCE_SCORES: Readonly<Record<string, { min: number; max: number }>> = Object.freeze({
  hopper: { min: -20.272305, max: 3234.3 },
  halfcheetah: { min: -280.178953, max: 12135.0 },
  walker2d: { min: 1.629008, max: 4592.3 },
  antmaze: { min: 0, max: 1 },
  kitchen: { min: 0, max: 4 },
});

/**
 * D4RL's normalised score, 100·(return − MIN)/(MAX − MIN) (the usual "D4RL score", 0–100). The evaluator
 * passes the mean return over episodes (docs/spec.md §10).
 */
export function normalizedScore(env: string, episodeReturn: number): number {
  const ref = REFERENCE_SCORES[env];
  check(
    ref,
    () => `Error in normalizedScore: env must be one of ${Object.keys(REFERENCE_SCORES).join(', ')}, got '${env}'.`,
  );
  return (100 * (episodeReturn - ref.min)) / (ref.max - ref.min);
}

export const MAX_EPISODE_STEPS = 1000;

export interface DatasetName {
  env: EnvName;
  kind: DatasetKind;
  /** 'hopper-medium' */
  name: string;
  /** 'hopper-medium-v2' */
  d4rlId: string;
}

/** Parses 'hopper-medium', 'hopper-medium-v2' or 'hopper_medium-v2'. */
export function parseDatasetName(id: string, fn = 'parseDatasetName'): DatasetName {
  const clean = String(id).trim().replace(/_/g, '-').replace(/-v2$/, '');
  const env = ENV_NAMES.find((e) => clean.startsWith(e + '-'));
  const valid = ENV_NAMES.flatMap((e) => DATASET_KINDS.map((k) => `${e}-${k}`));
  check(
    env !== undefined,
    () =>
      `Error in ${fn}: dataset must be <env>-<kind> with env one of ${ENV_NAMES.join(', ')}, got '${id}'. Did you mean '${nearest(clean, valid)}'?`,
  );
  const kind = clean.slice(env.length + 1);
  check(
    (DATASET_KINDS as readonly string[]).includes(kind),
    () =>
      `Error in ${fn}: dataset kind must be one of ${DATASET_KINDS.join(', ')}, got '${kind}' in '${id}'. Did you mean '${nearest(clean, valid)}'?`,
  );
  return { env, kind: kind as DatasetKind, name: `${env}-${kind}`, d4rlId: `${env}-${kind}-v2` };
}

export const D4RL_BASE_URL = 'http://rail.eecs.berkeley.edu/datasets/offline_rl/gym_mujoco_v2';

/** The v2 URL rule: `<base>/<env>_<kind with '-'→'_'>-v2.hdf5` (docs/spec.md §15.1). */
export function d4rlFileName(name: DatasetName): string {
  return `${name.env}_${name.kind.replace(/-/g, '_')}-v2.hdf5`;
}

export function d4rlUrl(name: DatasetName, baseUrl = D4RL_BASE_URL): string {
  return `${baseUrl.replace(/\/$/, '')}/${d4rlFileName(name)}`;
}
