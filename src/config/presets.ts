/**
 * The official settings per model and dataset, the first layer of every run's configuration
 * (src/config/resolve.ts puts the scale and the spec's overrides on top):
 *   officialModelConfig  the model side: width and DSM mode (docs/spec.md §3.5, §5, §6, §9);
 *   officialPreset       the trainer side: learning rate, batch, weight decay, RTG scale (docs/spec.md §5 table, §6, §9);
 *   rtgTargets           the evaluator side: the RTG targets of each model and env, and the primary one (docs/spec.md §10).
 * Env names are strings here: the sparse-reward envs (antmaze, kitchen, maze2d) have official settings too.
 */
import { check, checkOneOf, nearest } from '../util/check';
import { ENV_NAMES, MODEL_NAMES, type ModelName } from './names';

/** What the official code sets on the model per env and dataset kind (e.g. 'medium'). */
export interface OfficialModelSettings {
  hiddenSize: number;
  dsmMode?: 'per-layer' | 'shared-frozen';
}

export function officialModelConfig(name: ModelName, env: string, dataset = 'medium'): OfficialModelSettings {
  const sparse = env === 'antmaze' || env.includes('kitchen');
  switch (name) {
    case 'dmm':
      if (sparse) return { hiddenSize: 128, dsmMode: 'shared-frozen' };
      // Maze2D has no official DMM setup; the kit's protocol uses D = 128 (docs/spec.md §11, T-Maze2D).
      return { hiddenSize: env.includes('maze2d') ? 128 : 64, dsmMode: 'per-layer' };
    case 'dmamba':
      // AntMaze: no official setting (Ota's code has MuJoCo and Atari only); the kit uses D 128, the table's
      // width outside hopper (docs/spec.md §5).
      return { hiddenSize: env === 'hopper' && (dataset === 'medium' || dataset === 'medium-replay') ? 256 : 128 };
    case 'dt':
      return { hiddenSize: 128 };
    default:
      // DC on AntMaze: its command-line defaults, D 128 and lr 1e-3 (docs/spec.md §6.2).
      return { hiddenSize: env === 'hopper' && dataset === 'medium' ? 256 : 128 };
  }
}

/** The trainer settings the official code fixes per model and dataset (the counts come from the scale). */
export interface OfficialPreset {
  batchSize: number;
  learningRate: number;
  /** RTG scale (docs/spec.md §8.9): 1000 for MuJoCo, 1 for the sparse-reward envs (antmaze, kitchen). */
  returnScale: number;
  weightDecay: number;
}

/** DMa's per-dataset learning rate (docs/spec.md §5 table); AntMaze has none, and takes the table's 1e-3 outside hopper. */
function dmambaLearningRate(env: string, dataset: string): number {
  if (env === 'hopper') return dataset === 'medium-expert' ? 1e-3 : 1e-4;
  return env === 'walker2d' && dataset === 'medium' ? 1e-4 : 1e-3;
}

export function officialPreset(model: string, env: string, dataset: string): OfficialPreset {
  const name = checkOneOf('officialPreset', 'model', model, MODEL_NAMES);
  const shared = {
    batchSize: 64,
    returnScale: (ENV_NAMES as readonly string[]).includes(env) ? 1000 : 1,
    weightDecay: 1e-4,
  };
  switch (name) {
    case 'dmm':
      return { ...shared, learningRate: 1e-4 }; // docs/spec.md §9
    case 'dmamba':
      return { ...shared, learningRate: dmambaLearningRate(env, dataset) };
    case 'dt':
      return { ...shared, learningRate: 1e-4 };
    case 'dc':
      // docs/spec.md §6.2: the README's hopper-medium lr 1e-4; the CLI default 1e-3 elsewhere.
      return { ...shared, learningRate: env === 'hopper' && dataset === 'medium' ? 1e-4 : 1e-3 };
  }
}

const TARGETS: Readonly<Record<string, Readonly<Record<string, readonly number[]>>>> = Object.freeze({
  // DMM and DC share the lists; DMa adds the half target; DT uses [target, half].
  dmm: {
    hopper: [3600, 7200, 36000, 72000],
    halfcheetah: [12000, 24000, 120000, 240000],
    walker2d: [5000, 10000, 50000, 100000],
    antmaze: [1, 10, 100, 1000, 100000],
    kitchen: [4, 10, 100],
  },
  dc: {
    hopper: [3600, 7200, 36000, 72000],
    halfcheetah: [12000, 24000, 120000, 240000],
    walker2d: [5000, 10000, 50000, 100000],
    antmaze: [1, 10, 100, 1000, 100000],
  },
  // DMa's and DT's code have no AntMaze setting (docs/spec.md §10: their repositories cover MuJoCo and Atari
  // only); the kit evaluates them at DMM's AntMaze list, so all four models see the same targets there.
  dmamba: {
    hopper: [1800, 3600, 7200, 36000, 72000],
    halfcheetah: [6000, 12000, 24000, 120000, 240000],
    walker2d: [2500, 5000, 10000, 50000, 100000],
    antmaze: [1, 10, 100, 1000, 100000],
  },
  dt: {
    hopper: [3600, 1800],
    halfcheetah: [12000, 6000],
    walker2d: [5000, 2500],
    antmaze: [1, 10, 100, 1000, 100000],
  },
});

/** The target of the `final` protocol (docs/spec.md §10). */
export const PRIMARY_TARGET: Readonly<Record<string, number>> = Object.freeze({
  hopper: 3600,
  halfcheetah: 12000,
  walker2d: 5000,
  antmaze: 1,
  kitchen: 4,
});

/** The RTG targets (raw return units) a model is evaluated at on an env (docs/spec.md §10). */
export function rtgTargets(model: string, env: string): readonly number[] {
  const byEnv = TARGETS[model];
  check(
    byEnv,
    () =>
      `Error in rtgTargets: model must be one of ${Object.keys(TARGETS).join(', ')}, got '${model}'. Did you mean '${nearest(model, Object.keys(TARGETS))}'?`,
  );
  const list = byEnv[env];
  check(
    list,
    () => `Error in rtgTargets: env must be one of ${Object.keys(byEnv).join(', ')} for ${model}, got '${env}'.`,
  );
  return list;
}

export function primaryTarget(env: string): number {
  const t = PRIMARY_TARGET[env];
  check(
    t !== undefined,
    () => `Error in primaryTarget: env must be one of ${Object.keys(PRIMARY_TARGET).join(', ')}, got '${env}'.`,
  );
  return t;
}
