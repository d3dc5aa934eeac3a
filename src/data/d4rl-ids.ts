/**
 * D4RL gym-mujoco names, file URLs, dimensions and reference scores (docs/spec.md §15.1, §15.2, §15.5), and the
 * names and files of the AntMaze datasets (docs/data.md, "AntMaze datasets").
 * A dataset is named `<env>-<kind>` ('hopper-medium'); the D4RL id adds '-v2' ('hopper-medium-v2'). AntMaze
 * datasets are named as D4RL names them ('antmaze-umaze-diverse'), and recorded in the maze's env ('antmaze-umaze').
 */
import {
  ANTMAZE_KINDS,
  ANTMAZE_MAZE_OF,
  DATASET_KINDS,
  ENV_NAMES,
  type AntMazeKind,
  type AntMazeName,
  type DatasetEnv,
  type DatasetKind,
  type EnvName,
  type RunEnv,
} from '../config/names';
import { check, nearest } from '../util/check';

/**
 * Observation, action, qpos and qvel sizes (docs/spec.md §15.2; AntMaze: docs/envs.md), per dataset env and per
 * run env ('antmaze', whose mazes share the ant's sizes).
 */
export const ENV_DIMS: Readonly<
  Record<DatasetEnv | RunEnv, { observationDim: number; actionDim: number; nq: number; nv: number }>
> = Object.freeze({
  hopper: { observationDim: 11, actionDim: 3, nq: 6, nv: 6 },
  halfcheetah: { observationDim: 17, actionDim: 6, nq: 9, nv: 9 },
  walker2d: { observationDim: 17, actionDim: 6, nq: 9, nv: 9 },
  antmaze: { observationDim: 29, actionDim: 8, nq: 15, nv: 14 },
  'antmaze-umaze': { observationDim: 29, actionDim: 8, nq: 15, nv: 14 },
  'antmaze-medium': { observationDim: 29, actionDim: 8, nq: 15, nv: 14 },
  'antmaze-large': { observationDim: 29, actionDim: 8, nq: 15, nv: 14 },
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
 * passes the mean return over episodes (docs/spec.md §10). On AntMaze (MIN 0, MAX 1, an episode's return 0 or 1)
 * it is 100 × the success rate, not comparable with the MuJoCo scores.
 */
export function normalizedScore(env: string, episodeReturn: number): number {
  const ref = referenceScores(env);
  return (100 * (episodeReturn - ref.min)) / (ref.max - ref.min);
}

/** The reference scores of an env: its own, or its family's ('antmaze-umaze' → antmaze). */
export function referenceScores(env: string): { min: number; max: number } {
  const ref = REFERENCE_SCORES[env] ?? REFERENCE_SCORES[String(env).split('-')[0]];
  check(
    ref,
    () => `Error in normalizedScore: env must be one of ${Object.keys(REFERENCE_SCORES).join(', ')}, got '${env}'.`,
  );
  return ref;
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

/** An AntMaze dataset's names: 'antmaze-umaze-diverse', its maze env, and D4RL's v2 id and file. */
export interface AntMazeDatasetName {
  env: AntMazeName;
  kind: AntMazeKind;
  /** 'antmaze-umaze-diverse' */
  name: string;
  /** 'antmaze-umaze-diverse-v2' */
  d4rlId: string;
  /** D4RL's v2 file (its `_fixed` files, with timeouts in step with the episodes). */
  d4rlFile: string;
  /** Random starts in free cells (D4RL's multistart), the `-diverse` datasets. */
  multiStart: boolean;
}

/** D4RL's v2 AntMaze files, by kind (docs/data.md, "AntMaze datasets"). */
const ANTMAZE_FILES: Readonly<Record<AntMazeKind, string>> = Object.freeze({
  umaze: 'Ant_maze_u-maze_noisy_multistart_False_multigoal_False_sparse_fixed.hdf5',
  'umaze-diverse': 'Ant_maze_u-maze_noisy_multistart_True_multigoal_True_sparse_fixed.hdf5',
});

export const ANTMAZE_BASE_URL = 'http://rail.eecs.berkeley.edu/datasets/offline_rl/ant_maze_v2';

/** True for 'antmaze-…' names, which `parseAntMazeName` reads. */
export function isAntMazeName(id: string): boolean {
  return String(id).trim().replace(/_/g, '-').startsWith('antmaze-');
}

/** Parses 'antmaze-umaze', 'antmaze-umaze-diverse-v2' or 'antmaze_umaze_diverse-v2'. */
export function parseAntMazeName(id: string, fn = 'parseAntMazeName'): AntMazeDatasetName {
  const clean = String(id).trim().replace(/_/g, '-').replace(/-v2$/, '');
  const kind = clean.slice('antmaze-'.length);
  const valid = ANTMAZE_KINDS.map((k) => `antmaze-${k}`);
  check(
    clean.startsWith('antmaze-') && (ANTMAZE_KINDS as readonly string[]).includes(kind),
    () =>
      `Error in ${fn}: an AntMaze dataset must be one of ${valid.join(', ')}, got '${id}'. Did you mean '${nearest(clean, valid)}'?`,
  );
  const k = kind as AntMazeKind;
  return {
    env: ANTMAZE_MAZE_OF[k],
    kind: k,
    name: clean,
    d4rlId: `${clean}-v2`,
    d4rlFile: ANTMAZE_FILES[k],
    multiStart: k.endsWith('-diverse'),
  };
}
