/**
 * Kit-generated AntMaze datasets in the layout of D4RL's antmaze v2 files (docs/data.md, "AntMaze datasets"),
 * made the way D4RL's generate_ant_maze_datasets.py and relabel_antmaze_rewards.py made theirs:
 * - the collection env: the maze's data-collection map (its goal cells), episodes that reaching a goal does not
 *   end (`endAtGoal: false`), 1000-step time limits, a new navigation goal drawn from the goal cells at every reset;
 *   `-diverse` starts each episode in a random free, non-goal cell (`sampleStart`), the plain dataset at the start;
 * - the driver: the kit's goal-reaching controller (./ant-controller.ts) along shortest-path waypoints, with
 *   N(0, 0.2²) added to every action and the sum clipped to [−1, 1] (D4RL's --noisy, used by every released file);
 * - N rows (D4RL's default 1,000,000 at paper scale); observation = the 29-number env observation;
 * - rewards and terminals relabelled with one evaluation goal, drawn once by the evaluation map's goal sampler:
 *   1 where ‖observations[t + 1][0:2] − goal‖ ≤ 0.5, else 0, and 0 on the last row (D4RL compares the next row
 *   even across an episode boundary; so does the kit).
 * Keys: observations, actions, rewards, terminals (float32 0/1, as the relabel script writes them), timeouts,
 * infos/goal (the navigation goal), infos/qpos, infos/qvel; no next_observations. Same seed, same bytes.
 */
import { dataScaleOf, type DataScale } from '../config/scales';
import { check } from '../util/check';
import { Rng, deriveSeed } from '../util/rng';
import { progress } from '../util/progress';
import { makeEnv } from '../envs';
import { GOAL_RADIUS, MAZES, sampleGoal, sampleStart } from '../envs/maze';
import { AntController, Navigator, loadController } from './ant-controller';
import { parseAntMazeName } from './d4rl-ids';
import { sha256File } from './download';
import { writeHdf5, type H5Entry } from './h5';
import { cacheDir } from './paths';
import type { LinearPolicy } from './policy';
import { loadRecipe, recordChecksum, type Recipe } from './recipe';
import * as path from 'path';

/** D4RL's --noisy action noise: N(0, 0.2²) on every action entry. */
export const ANTMAZE_ACTION_NOISE = 0.2;
/** The collection run's time limit (max_episode_steps of the data-collection env). */
export const ANTMAZE_COLLECTION_STEPS = 1000;

/** Rows per data scale (data/recipes.json `antmazeSizes`). */
export function antMazeTransitions(recipe: Recipe, scale: DataScale): number {
  const n = recipe.antmazeSizes?.[scale];
  check(
    Number.isInteger(n) && (n as number) > 0,
    () =>
      `Error in antMazeTransitions: data/recipes.json must give antmazeSizes.${scale} as a positive integer, got ${JSON.stringify(n)}.`,
  );
  return n as number;
}

export function antMazeCachePath(name: string, scale: DataScale, seed: number): string {
  return path.join(cacheDir(), `${name.replace(/-/g, '_')}-v2-kit-${scale}-seed${seed}.hdf5`);
}

export interface AntMazeColumns {
  n: number;
  observations: Float32Array; // [N*29]
  actions: Float32Array; // [N*8]
  rewards: Float32Array; // [N]
  terminals: Float32Array; // [N], 0/1
  timeouts: Int8Array; // [N]
  goals: Float32Array; // [N*2], the navigation goal
  qpos: Float32Array; // [N*15]
  qvel: Float32Array; // [N*14]
  /** The evaluation goal the rewards are relabelled with. */
  evalGoal: [number, number];
}

/**
 * Collects `n` rows of `name` with `policy` (the controller), seeded by `seed`, then relabels them. Every random
 * draw has its own stream: the env's reset noise, the navigation goals and starts, the waypoint offsets, the
 * action noise, the evaluation goal.
 */
export async function collectAntMaze(
  name: string,
  n: number,
  seed: number,
  policy: LinearPolicy,
  tick: (rows: number) => void = () => {},
): Promise<AntMazeColumns> {
  const spec = parseAntMazeName(name, 'collectAntMaze');
  const maze = MAZES[spec.env];
  const env = await makeEnv(spec.env, {
    seed: deriveSeed(seed, name, 'env'),
    endAtGoal: false,
    maxEpisodeSteps: ANTMAZE_COLLECTION_STEPS,
  });
  const goalRng = new Rng(deriveSeed(seed, name, 'goals'));
  const wayRng = new Rng(deriveSeed(seed, name, 'waypoints'));
  const noiseRng = new Rng(deriveSeed(seed, name, 'actions'));
  const controller = new AntController(policy);
  const cols: AntMazeColumns = {
    n,
    observations: new Float32Array(n * 29),
    actions: new Float32Array(n * 8),
    rewards: new Float32Array(n),
    terminals: new Float32Array(n),
    timeouts: new Int8Array(n),
    goals: new Float32Array(n * 2),
    qpos: new Float32Array(n * 15),
    qvel: new Float32Array(n * 14),
    evalGoal: sampleGoal([maze.evalGoal], new Rng(deriveSeed(seed, name, 'eval-goal'))),
  };
  let obs = new Float64Array(29);
  const act = new Float64Array(8);
  try {
    for (let i = 0; i < n; ) {
      env.resetInto(obs, 0);
      if (spec.multiStart) {
        // D4RL's non_zero_reset: the reset state moved to a random start location.
        const { qpos, qvel } = env.getState();
        const [sx, sy] = sampleStart(maze, maze.trainGoals, goalRng);
        qpos[0] += sx;
        qpos[1] += sy;
        obs = env.setState(qpos, qvel);
      }
      const goal = sampleGoal(maze.trainGoals, goalRng);
      env.setGoal(goal[0], goal[1]);
      const nav = new Navigator(maze, goal, wayRng);
      for (; i < n; i++) {
        const { qpos, qvel } = env.getState();
        cols.observations.set(obs, 29 * i);
        cols.qpos.set(qpos, 15 * i);
        cols.qvel.set(qvel, 14 * i);
        cols.goals.set(goal, 2 * i);
        controller.act(obs, nav.direction(obs[0], obs[1]), act, ANTMAZE_ACTION_NOISE, noiseRng);
        cols.actions.set(act, 8 * i);
        env.stepInto(act, 0, obs, 0);
        tick(1);
        if (env.lastTruncated) {
          cols.timeouts[i] = 1;
          i++;
          break;
        }
      }
    }
  } finally {
    env.close();
  }
  relabel(cols);
  return cols;
}

/** relabel_antmaze_rewards.py: reward and terminal 1 where the next row's (x, y) is within 0.5 m of the eval goal. */
export function relabel(cols: AntMazeColumns): void {
  const [gx, gy] = cols.evalGoal;
  for (let t = 0; t < cols.n; t++) {
    const hit =
      t + 1 < cols.n &&
      Math.hypot(cols.observations[29 * (t + 1)] - gx, cols.observations[29 * (t + 1) + 1] - gy) <= GOAL_RADIUS;
    cols.rewards[t] = hit ? 1 : 0;
    cols.terminals[t] = hit ? 1 : 0;
  }
}

export interface AntMazeGenerateOptions {
  scale: DataScale | string;
  /** Default: the recipe's seed (the one the committed checksums are for). */
  seed?: number;
  file?: string;
  /** Write the file's sha256 into data/recipes.json (only for the recipe's seed). */
  record?: boolean;
  progress?: boolean;
  /** The controller's policy; default the committed one (data/policies/antmaze-controller.json). */
  policy?: LinearPolicy;
  /** Rows; default the recipe's for the scale (tests pass a few). */
  transitions?: number;
}

export interface AntMazeFile {
  name: string;
  file: string;
  sha256: string;
  transitions: number;
  seconds: number;
  scale: DataScale;
  seed: number;
  evalGoal: [number, number];
}

/** Generates `name` at `scale` into an HDF5 file in D4RL's antmaze v2 layout, with the kit's metadata. */
export async function generateAntMazeDataset(nameOrId: string, options: AntMazeGenerateOptions): Promise<AntMazeFile> {
  const t0 = Date.now();
  const name = parseAntMazeName(nameOrId, 'generateAntMazeDataset').name;
  const scale = dataScaleOf(String(options.scale));
  const recipe = loadRecipe();
  const seed = options.seed ?? recipe.seed;
  check(Number.isInteger(seed), () => `Error in generateAntMazeDataset: seed must be an integer, got ${seed}.`);
  const n = options.transitions ?? antMazeTransitions(recipe, scale);
  const policy = options.policy ?? loadController().policy;
  const bar = progress(`generate ${name} (${scale})`, n, options.progress === false ? { silent: true } : {});
  const cols = await collectAntMaze(name, n, seed, policy, (k) => bar.tick(k));
  bar.done();
  const entries: Record<string, H5Entry> = {
    observations: { data: cols.observations, shape: [n, 29] },
    actions: { data: cols.actions, shape: [n, 8] },
    rewards: { data: cols.rewards, shape: [n] },
    terminals: { data: cols.terminals, shape: [n] },
    timeouts: { data: cols.timeouts, shape: [n] },
    'infos/goal': { data: cols.goals, shape: [n, 2] },
    'infos/qpos': { data: cols.qpos, shape: [n, 15] },
    'infos/qvel': { data: cols.qvel, shape: [n, 14] },
    'metadata/generator': { data: recipe.generator },
    'metadata/generator_version': { data: recipe.generatorVersion },
    'metadata/algorithm': { data: 'ARS direction-conditioned ant + BFS waypoints' },
    'metadata/policy': {
      data: `kit AntMaze controller (ARS iteration ${policy.iteration}, ${policy.envSteps} env steps), shortest-path waypoints`,
    },
    'metadata/dataset': { data: name },
    'metadata/scale': { data: scale },
    'metadata/seed': { data: seed, dtype: '<i' },
    'metadata/action_noise': { data: ANTMAZE_ACTION_NOISE, dtype: '<d' },
    'metadata/eval_goal_x': { data: cols.evalGoal[0], dtype: '<d' },
    'metadata/eval_goal_y': { data: cols.evalGoal[1], dtype: '<d' },
  };
  const file = options.file ?? antMazeCachePath(name, scale, seed);
  await writeHdf5(file, entries);
  const sha256 = sha256File(file);
  if (options.record) {
    check(
      seed === recipe.seed && options.transitions === undefined && options.policy === undefined,
      () =>
        `Error in generateAntMazeDataset: record must only be used with the recipe's seed ${recipe.seed}, size and the committed controller, got seed ${seed}.`,
    );
    recordChecksum(name, scale, sha256);
  }
  return {
    name,
    file,
    sha256,
    transitions: n,
    seconds: (Date.now() - t0) / 1000,
    scale,
    seed,
    evalGoal: cols.evalGoal,
  };
}
