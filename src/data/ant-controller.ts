/**
 * The kit's goal-reaching AntMaze controller (docs/data.md, "AntMaze datasets"): a direction-conditioned linear
 * ant policy trained by the kit's ARS (./ars.ts), steered along shortest paths through the maze by a waypoint
 * navigator, as D4RL drove its pre-trained goal-reaching ant (an rlkit SAC policy) along BFS waypoints.
 *
 * The policy sees the ant in its own heading frame, so one set of weights walks in every world direction:
 *   s = [z, world-up in the torso frame (3), joint angles (8), torso velocity in the heading frame (3),
 *        torso angular velocity (3, MuJoCo's body frame), joint rates (8)]           26 numbers
 *   φ = desired direction − heading (yaw)
 *   features = [s, s·cos φ, s·sin φ, cos φ, sin φ]                                   80 numbers
 * and acts a = clip(W·(features − μ)/σ, −1, 1), ARS's linear form; the products let the gait depend on φ.
 * Training (`DirectedAnt`): the ant alone on the floor ('antmaze-ant'), a new uniformly random direction every
 * `switchEvery` steps, reward = velocity along the direction (m/s).
 */
import * as fs from 'fs';
import * as path from 'path';
import { check } from '../util/check';
import { Rng, deriveSeed } from '../util/rng';
import { makeEnv, recordRollout, type Env, type Rollout } from '../envs';
import { MAZES, cellCentre, cellOf, isWall, shortestPath, type Cell, type MazeSpec } from '../envs/maze';
import type { AntMazeName } from '../config/names';
import { COMMITTED_DATA_DIR } from './paths';
import { PolicyRunner, validatePolicy, type LinearPolicy } from './policy';

/** Heading-frame state numbers s, and the controller's feature count. */
export const STATE_FEATURES = 26;
export const CONTROLLER_FEATURES = 3 * STATE_FEATURES + 2;

/** Torso yaw (rad) from qpos's quaternion (w, x, y, z) at obs[3:7]. */
export function heading(obs: ArrayLike<number>): number {
  const [w, x, y, z] = [obs[3], obs[4], obs[5], obs[6]];
  return Math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z));
}

/** The controller's features of a 29-number AntMaze observation and a desired world direction θ (rad), into `out`. */
export function directedFeatures(obs: ArrayLike<number>, theta: number, out: Float64Array): Float64Array {
  const [w, x, y, z] = [obs[3], obs[4], obs[5], obs[6]];
  const psi = heading(obs);
  const c = Math.cos(psi);
  const s = Math.sin(psi);
  const vx = obs[15];
  const vy = obs[16];
  let j = 0;
  out[j++] = obs[2];
  // World z in the torso frame: the third row of the torso's rotation matrix (roll and pitch, not yaw).
  out[j++] = 2 * (x * z - w * y);
  out[j++] = 2 * (y * z + w * x);
  out[j++] = 1 - 2 * (x * x + y * y);
  for (let i = 7; i < 15; i++) out[j++] = obs[i];
  out[j++] = c * vx + s * vy;
  out[j++] = -s * vx + c * vy;
  out[j++] = obs[17];
  for (let i = 18; i < 29; i++) out[j++] = obs[i];
  const cp = Math.cos(theta - psi);
  const sp = Math.sin(theta - psi);
  for (let i = 0; i < STATE_FEATURES; i++) {
    out[STATE_FEATURES + i] = out[i] * cp;
    out[2 * STATE_FEATURES + i] = out[i] * sp;
  }
  out[3 * STATE_FEATURES] = cp;
  out[3 * STATE_FEATURES + 1] = sp;
  return out;
}

/**
 * The ARS training task: the AntMaze ant on an open floor asked to walk in a direction that changes every
 * `switchEvery` steps. It offers what ARS's rollouts use of an env (./ars-workers.ts); its observation is the
 * feature vector. Directions are seeded with the reset noise (`reseed`), so a rollout replays exactly.
 */
export class DirectedAnt {
  readonly observationDim = CONTROLLER_FEATURES;
  readonly actionDim = 8;
  readonly task = { healthyReward: 0 };
  lastReward = 0;
  lastTerminated = false;
  lastTruncated = false;
  private rng: Rng;
  private theta = 0;
  private readonly obs = new Float64Array(29);

  constructor(
    private readonly env: Env,
    readonly switchEvery: number,
  ) {
    this.rng = new Rng(0);
  }

  static async create(seed: number, switchEvery = DIRECTION_SWITCH_STEPS): Promise<DirectedAnt> {
    return new DirectedAnt(await makeEnv('antmaze-ant', { seed }), switchEvery);
  }

  reseed(seed: number): void {
    this.env.reseed(seed);
    this.rng = new Rng(deriveSeed(seed, 'direction'));
  }

  reset(): Float64Array {
    this.env.resetInto(this.obs, 0);
    this.theta = this.rng.range(-Math.PI, Math.PI);
    return directedFeatures(this.obs, this.theta, new Float64Array(CONTROLLER_FEATURES));
  }

  stepInto(actions: ArrayLike<number>, actionOffset: number, out: Float64Array, outOffset: number): void {
    const x0 = this.obs[0];
    const y0 = this.obs[1];
    this.env.stepInto(actions, actionOffset, this.obs, 0);
    this.lastReward =
      ((this.obs[0] - x0) * Math.cos(this.theta) + (this.obs[1] - y0) * Math.sin(this.theta)) / this.env.dt;
    this.lastTruncated = this.env.lastTruncated;
    if (this.env.elapsedSteps % this.switchEvery === 0) this.theta = this.rng.range(-Math.PI, Math.PI);
    const f = directedFeatures(this.obs, this.theta, new Float64Array(CONTROLLER_FEATURES));
    out.set(f, outOffset);
  }

  close(): void {
    this.env.close();
  }
}

/** Steps between direction changes in training: 10 s, about the time D4RL's navigator takes per 4 m cell. */
export const DIRECTION_SWITCH_STEPS = 100;

/**
 * D4RL's waypoint rule: in the goal's cell, head for the goal itself; elsewhere for the next cell of the
 * shortest path, at its centre plus U(0, 1) on each axis (drawn once per waypoint cell, from `rng`).
 */
export class Navigator {
  private goalCell: Cell;
  private waypointCell: Cell | undefined;
  private waypoint: [number, number] = [0, 0];

  constructor(
    readonly maze: MazeSpec,
    private goal: [number, number],
    private readonly rng: Rng,
  ) {
    this.goalCell = cellOf(goal[0], goal[1]);
  }

  setGoal(goal: [number, number]): void {
    this.goal = goal;
    this.goalCell = cellOf(goal[0], goal[1]);
    this.waypointCell = undefined;
  }

  /** The direction (rad) to walk from (x, y). */
  direction(x: number, y: number): number {
    const here = cellOf(x, y);
    if (here[0] === this.goalCell[0] && here[1] === this.goalCell[1]) {
      this.waypointCell = undefined;
      this.waypoint = this.goal;
    } else if (!isWall(this.maze, here)) {
      const next = shortestPath(this.maze, here, this.goalCell)[1] ?? this.goalCell;
      if (!this.waypointCell || next[0] !== this.waypointCell[0] || next[1] !== this.waypointCell[1]) {
        this.waypointCell = next;
        const [cx, cy] = cellCentre(next);
        this.waypoint =
          next[0] === this.goalCell[0] && next[1] === this.goalCell[1]
            ? this.goal
            : [cx + this.rng.range(0, 1), cy + this.rng.range(0, 1)];
      }
    }
    // Leaning into a wall cell keeps the last waypoint.
    return Math.atan2(this.waypoint[1] - y, this.waypoint[0] - x);
  }
}

export const CONTROLLER_FORMAT = 'dmm-kit antmaze controller v1';

/** data/policies/antmaze-controller.json: the selected ARS snapshot and how it was made and measured. */
export interface ControllerFile {
  format: typeof CONTROLLER_FORMAT;
  policy: LinearPolicy;
  /** Success rate on antmaze-umaze's evaluation task (700 steps, no action noise and with D4RL's σ 0.2). */
  success: { episodes: number; seed: number; clean: number; noisy: number };
  command: string;
  /** The training curve: iteration, env steps, noisy return along random directions. */
  curve: { iteration: number; envSteps: number; noisyReturn: number }[];
}

export function controllerFile(dir = COMMITTED_DATA_DIR): string {
  return path.join(dir, 'policies', 'antmaze-controller.json');
}

export function loadController(file = controllerFile()): ControllerFile {
  check(
    fs.existsSync(file),
    () =>
      `Error in loadController: the AntMaze controller must be committed at ${file}, got no file. Train it once with: node --import tsx src/data/train-ant-controller.ts --workers 16.`,
  );
  const c = JSON.parse(fs.readFileSync(file, 'utf8')) as ControllerFile;
  check(
    c.format === CONTROLLER_FORMAT,
    () => `Error in loadController: ${file} must have format '${CONTROLLER_FORMAT}', got '${c.format}'.`,
  );
  validatePolicy(c.policy, file);
  return c;
}

/** The controller in use: features, the linear policy and its Gaussian action noise. */
export class AntController {
  private readonly runner: PolicyRunner;
  private readonly f = new Float64Array(CONTROLLER_FEATURES);

  constructor(policy: LinearPolicy) {
    this.runner = PolicyRunner.of(policy);
  }

  /** Action for observation `obs` walking towards θ, plus N(0, noise²) per entry, clipped to [−1, 1]. */
  act(obs: ArrayLike<number>, theta: number, out: Float64Array, noise: number, rng: Rng | undefined): void {
    this.runner.act(directedFeatures(obs, theta, this.f), out, noise, rng);
  }
}

/**
 * The controller's own success rate on an AntMaze evaluation task: `episodes` episodes of the evaluation env
 * (its goal sampling, time limit and done at 0.5 m), steered by the navigator towards the env's goal, with
 * N(0, noise²) on every action.
 */
export async function controllerSuccess(
  policy: LinearPolicy,
  maze: AntMazeName,
  options: { episodes: number; seed: number; noise: number },
): Promise<number> {
  const env = await makeEnv(maze, { seed: deriveSeed(options.seed, 'controller-success', maze) });
  const controller = new AntController(policy);
  const rng = new Rng(deriveSeed(options.seed, 'controller-success-noise'));
  const act = new Float64Array(8);
  const obs = new Float64Array(29);
  let successes = 0;
  try {
    for (let e = 0; e < options.episodes; e++) {
      env.resetInto(obs, 0);
      const nav = new Navigator(MAZES[maze], env.goal, rng);
      for (;;) {
        controller.act(obs, nav.direction(obs[0], obs[1]), act, options.noise, rng);
        env.stepInto(act, 0, obs, 0);
        if (env.lastTerminated) successes++;
        if (env.lastTerminated || env.lastTruncated) break;
      }
    }
  } finally {
    env.close();
  }
  return successes / options.episodes;
}

/** One evaluation episode of the controller in `maze`, recorded from above (for `topViewSvg`). */
export async function controllerRollout(
  policy: LinearPolicy,
  maze: AntMazeName,
  options: { seed: number; noise: number },
): Promise<Rollout> {
  const env = await makeEnv(maze, { seed: deriveSeed(options.seed, 'controller-rollout', maze) });
  const controller = new AntController(policy);
  const rng = new Rng(deriveSeed(options.seed, 'controller-rollout-noise'));
  const act = new Float64Array(8);
  let nav: Navigator | undefined;
  try {
    return recordRollout(
      env,
      (obs, t) => {
        // recordRollout resets the env (and so samples its goal) before the first action.
        if (t === 0) nav = new Navigator(MAZES[maze], env.goal, rng);
        controller.act(obs, (nav as Navigator).direction(obs[0], obs[1]), act, options.noise, rng);
        return act;
      },
      {
        label: `kit controller (ARS iteration ${policy.iteration}), action noise σ ${options.noise}, seed ${options.seed}`,
      },
    );
  } finally {
    env.close();
  }
}
