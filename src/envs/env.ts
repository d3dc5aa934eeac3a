/**
 * One Gym v3 locomotion environment on mujoco-js, with D4RL's 1000-step time limit (docs/spec.md §14.2), or one
 * of D4RL's AntMaze envs (docs/envs.md, "AntMaze"), run by the same code from their task data (tasks.ts).
 *
 * step(a): clip a to [-1, 1] and scale it onto the ctrlrange (D4RL's NormalizedBoxEnv), write ctrl, mj_step ×
 * frameSkip, then reward, health and observation on the new state, exactly as the gym v3 classes compute them;
 * an AntMaze env instead pays 1 and ends the episode within 0.5 m of its goal, sampled anew at every reset.
 * The hot path allocates nothing: MuJoCo's arrays are read through cached views; `step` allocates only the
 * result it returns, and VecEnv uses the allocation-free `stepInto`.
 */
import * as path from 'path';
import { check, checkKnownKeys, KitError, nearest } from '../util/check';
import { Rng } from '../util/rng';
import { ASSET_DIR, loadModelXml, loadMujoco, type MainModule, type MjData, type MjModel } from './mujoco';
import { ENV_IDS, type EnvId } from '../config/names';
import { GOAL_RADIUS, MAZES, sampleGoal, wallXml } from './maze';
import { MAX_EPISODE_STEPS, TASKS, type TaskSpec } from './tasks';

export interface EnvOptions {
  /** Seeds the reset noise and an AntMaze env's goals (the env's own Rng stream). */
  seed: number;
  /** TimeLimit length: 1000 for the gym tasks, 700 (umaze) or 1000 for AntMaze; makeEnv defaults to the task's. */
  maxEpisodeSteps: number;
  /**
   * AntMaze only: reaching the goal ends the episode (D4RL's evaluation envs, eval=True). False gives the
   * data-collection env, whose episodes end only at the time limit; the reward is paid either way.
   */
  endAtGoal: boolean;
}

export const ENV_DEFAULTS: Readonly<EnvOptions> = Object.freeze({
  seed: 0,
  maxEpisodeSteps: MAX_EPISODE_STEPS,
  endAtGoal: true,
});

export function resolveEnvOptions(partial: Partial<EnvOptions> = {}): Readonly<EnvOptions> {
  checkKnownKeys('makeEnv', partial, Object.keys(ENV_DEFAULTS));
  const opts = { ...ENV_DEFAULTS, ...partial };
  check(Number.isInteger(opts.seed), () => `Error in makeEnv: seed must be an integer, got ${opts.seed}.`);
  check(
    Number.isInteger(opts.maxEpisodeSteps) && opts.maxEpisodeSteps >= 1,
    () => `Error in makeEnv: maxEpisodeSteps must be a positive integer, got ${opts.maxEpisodeSteps}.`,
  );
  check(
    typeof opts.endAtGoal === 'boolean',
    () => `Error in makeEnv: endAtGoal must be a boolean, got ${opts.endAtGoal}.`,
  );
  return Object.freeze(opts);
}

export interface StepInfo {
  /** State after the step (copies). The state before the step is `getState()` called before `step`. */
  qpos: Float64Array;
  qvel: Float64Array;
  xPosition: number;
  /** (x after − x before) / dt. */
  xVelocity: number;
  rewardForward: number;
  /** The control cost as a (positive) cost: reward = rewardForward + rewardHealthy − rewardCtrl. */
  rewardCtrl: number;
  rewardHealthy: number;
  /** Steps taken in this episode, this one included. */
  elapsedSteps: number;
  /** D4RL bookkeeping (docs/spec.md §15.2): `timeouts` is true on the time-limit step, whatever the health. */
  timeout: boolean;
  /** D4RL bookkeeping: `terminals` is true when the task is done and this is not the time-limit step. */
  terminal: boolean;
}

export interface StepResult {
  observation: Float64Array;
  reward: number;
  /** The task ended (unhealthy), Gym v3 `done` from the env itself. */
  terminated: boolean;
  /** The time limit ended the episode and the task did not (terminated takes precedence). */
  truncated: boolean;
  info: StepInfo;
}

export interface EnvState {
  qpos: Float64Array;
  qvel: Float64Array;
}

export class MujocoEnv {
  readonly id: EnvId;
  readonly observationDim: number;
  readonly actionDim: number;
  readonly nq: number;
  readonly nv: number;
  /** Environment time step: timestep × frameSkip (0.008 s hopper/walker, 0.05 s halfcheetah). */
  readonly dt: number;
  readonly maxEpisodeSteps: number;
  readonly endAtGoal: boolean;
  readonly task: Readonly<TaskSpec>;

  // Results of the last stepInto, read by step() and VecEnv (no allocation per step).
  lastReward = 0;
  lastTerminated = false;
  lastTruncated = false;
  lastXVelocity = 0;
  lastRewardForward = 0;
  lastRewardCtrl = 0;
  lastRewardHealthy = 0;

  private readonly mj: MainModule;
  private model: MjModel | undefined;
  private data: MjData | undefined;
  private rng: Rng;
  private qposView!: Float64Array;
  private qvelView!: Float64Array;
  private ctrlView!: Float64Array;
  private readonly initQpos: Float64Array;
  private readonly initQvel: Float64Array;
  private elapsed = 0;
  /** An AntMaze env's goal (x, y) in metres; sampled at every reset (D4RL's v2 resets), or set by setGoal. */
  private readonly goalXY = new Float64Array(2);
  /** 'idle' before the first reset, 'running' during an episode, 'done' after terminated/truncated. */
  private phase: 'idle' | 'running' | 'done' = 'idle';

  constructor(mj: MainModule, id: EnvId, options: Readonly<EnvOptions>) {
    this.mj = mj;
    this.id = id;
    this.task = TASKS[id];
    this.rng = new Rng(options.seed);
    this.maxEpisodeSteps = options.maxEpisodeSteps;
    this.endAtGoal = options.endAtGoal;
    const maze = this.task.maze;
    const model = loadModelXml(mj, path.join(ASSET_DIR, this.task.modelFile), (xml) => {
      if (!maze) return xml;
      const marker = '<!-- maze walls -->';
      check(xml.includes(marker), () => `Error in makeEnv: ${this.task.modelFile} must hold '${marker}', got none.`);
      return xml.replace(marker, wallXml(MAZES[maze]));
    });
    this.model = model;
    this.data = new mj.MjData(model);
    this.observationDim = this.task.observationDim;
    this.actionDim = model.nu;
    this.nq = model.nq;
    this.nv = model.nv;
    check(
      this.nq === this.task.nq && this.nv === this.task.nv && this.actionDim === this.task.actionDim,
      () =>
        `Error in makeEnv: ${this.task.modelFile} must have nq/nv/nu ${this.task.nq}/${this.task.nv}/` +
        `${this.task.actionDim}, got ${this.nq}/${this.nv}/${this.actionDim}.`,
    );
    this.dt = model.opt.timestep * this.task.frameSkip;
    this.refreshViews();
    // Gym's init_qpos / init_qvel: the state right after loading (qpos0, zeros).
    this.initQpos = Float64Array.from(this.qposView);
    this.initQvel = Float64Array.from(this.qvelView);
  }

  /** MuJoCo's typed-array views go stale (length 0) when the WebAssembly memory grows; fetch them again. */
  private refreshViews(): void {
    const data = this.live();
    this.qposView = data.qpos as Float64Array;
    this.qvelView = data.qvel as Float64Array;
    this.ctrlView = data.ctrl as Float64Array;
  }

  private views(): void {
    if (this.qposView.length === 0 || this.ctrlView.length === 0) this.refreshViews();
  }

  private live(): MjData {
    check(
      this.data,
      () => `Error in ${this.id} env: the environment must be open, got a closed one. Create a new one with makeEnv.`,
    );
    return this.data;
  }

  /**
   * Restarts the reset-noise stream from `seed`, so that one episode can be replayed on its own (the ARS
   * trainer seeds each rollout; src/data/ars.ts).
   */
  reseed(seed: number): void {
    check(Number.isInteger(seed), () => `Error in reseed: seed must be an integer, got ${seed}.`);
    this.rng = new Rng(seed);
  }

  /**
   * Starts an episode: mj_resetData, init state plus seeded noise (docs/spec.md §14.2), mj_forward. An AntMaze
   * env first samples its goal from the evaluation map's goal cell. Returns the observation.
   */
  reset(): Float64Array {
    const out = new Float64Array(this.observationDim);
    this.resetInto(out, 0);
    return out;
  }

  resetInto(out: Float64Array, offset: number): void {
    const data = this.live();
    const model = this.model as MjModel;
    this.mj.mj_resetData(model, data);
    this.refreshViews();
    const maze = this.task.maze;
    if (maze) this.goalXY.set(sampleGoal([MAZES[maze].evalGoal], this.rng));
    const s = this.task.resetNoiseScale;
    const qpos = this.qposView;
    const qvel = this.qvelView;
    // Draw order as gym v3: all qpos noise, then all qvel noise.
    for (let i = 0; i < this.nq; i++) qpos[i] = this.initQpos[i] + this.rng.range(-s, s);
    if (this.task.qvelNoise === 'uniform') {
      for (let i = 0; i < this.nv; i++) qvel[i] = this.initQvel[i] + this.rng.range(-s, s);
    } else {
      for (let i = 0; i < this.nv; i++) qvel[i] = this.initQvel[i] + s * this.rng.normal();
    }
    this.mj.mj_forward(model, data);
    this.elapsed = 0;
    this.phase = 'running';
    this.writeObservation(out, offset);
  }

  /** Sets the physics state (D4RL's set_state: qpos, qvel, mj_forward) and returns the observation. */
  setState(qpos: ArrayLike<number>, qvel: ArrayLike<number>): Float64Array {
    const data = this.live();
    check(
      qpos && qpos.length === this.nq,
      () => `Error in setState: qpos must have length ${this.nq} for ${this.id}, got ${qpos?.length}.`,
    );
    check(
      qvel && qvel.length === this.nv,
      () => `Error in setState: qvel must have length ${this.nv} for ${this.id}, got ${qvel?.length}.`,
    );
    this.views();
    for (let i = 0; i < this.nq; i++) this.qposView[i] = qpos[i];
    for (let i = 0; i < this.nv; i++) this.qvelView[i] = qvel[i];
    this.mj.mj_forward(this.model as MjModel, data);
    this.views();
    // A set state can be stepped from (replays, forced-state tests); the episode's step count is kept, or
    // restarts at 0 when the episode had not started or had ended.
    if (this.phase !== 'running') this.elapsed = 0;
    this.phase = 'running';
    const out = new Float64Array(this.observationDim);
    this.writeObservation(out, 0);
    return out;
  }

  getState(): EnvState {
    this.live();
    this.views();
    return { qpos: Float64Array.from(this.qposView), qvel: Float64Array.from(this.qvelView) };
  }

  /** An AntMaze env's goal (x, y) in metres (a copy). */
  get goal(): [number, number] {
    return [this.goalXY[0], this.goalXY[1]];
  }

  /** Replaces an AntMaze env's goal until the next reset (a data-collection navigator's target, a test's). */
  setGoal(x: number, y: number): void {
    check(
      this.task.maze !== undefined,
      () => `Error in setGoal: the env must be an AntMaze env, got '${this.id}'. Only mazes have goals.`,
    );
    check(
      Number.isFinite(x) && Number.isFinite(y),
      () => `Error in setGoal: the goal must be two finite numbers, got (${x}, ${y}).`,
    );
    this.goalXY[0] = x;
    this.goalXY[1] = y;
  }

  /** Steps in this episode so far. */
  get elapsedSteps(): number {
    return this.elapsed;
  }

  step(action: ArrayLike<number>): StepResult {
    check(
      action && action.length === this.actionDim,
      () =>
        `Error in step: action must have length ${this.actionDim} for ${this.id}, got ${action?.length}. Pass one number per actuator.`,
    );
    const observation = new Float64Array(this.observationDim);
    this.stepInto(action, 0, observation, 0);
    const state = this.getState();
    const timeout = this.elapsed >= this.maxEpisodeSteps;
    return {
      observation,
      reward: this.lastReward,
      terminated: this.lastTerminated,
      truncated: this.lastTruncated,
      info: {
        qpos: state.qpos,
        qvel: state.qvel,
        xPosition: state.qpos[0],
        xVelocity: this.lastXVelocity,
        rewardForward: this.lastRewardForward,
        rewardCtrl: this.lastRewardCtrl,
        rewardHealthy: this.lastRewardHealthy,
        elapsedSteps: this.elapsed,
        timeout,
        terminal: this.lastTerminated && !timeout,
      },
    };
  }

  /**
   * The allocation-free step: reads actionDim numbers of `actions` from `actionOffset`, writes the observation
   * into `out` at `outOffset`, and leaves reward and flags in the `last*` fields.
   */
  stepInto(actions: ArrayLike<number>, actionOffset: number, out: Float64Array, outOffset: number): void {
    const data = this.live();
    check(
      this.phase !== 'idle',
      () =>
        `Error in step: ${this.id} env must be reset before stepping, got a step before reset(). Call reset() first.`,
    );
    check(
      this.phase === 'running',
      () =>
        `Error in step: ${this.id} episode must be running, got a step after it ended (terminated or truncated). Call reset().`,
    );
    const model = this.model as MjModel;
    const nu = this.actionDim;
    this.views();
    const ctrl = this.ctrlView;
    let sumSq = 0;
    for (let i = 0; i < nu; i++) {
      const a = actions[actionOffset + i];
      // A plain branch, not check(): no closure is allocated on the hot path.
      if (!Number.isFinite(a)) {
        throw new KitError(
          `Error in step: action[${i}] must be a finite number, got ${a} (${this.id}). Check the policy output for NaN.`,
        );
      }
      // D4RL's NormalizedBoxEnv clips to the action box; the gym control cost then sees the clipped action.
      const clipped = a < -1 ? -1 : a > 1 ? 1 : a;
      ctrl[i] = this.task.actionScale * clipped;
      sumSq += clipped * clipped;
    }
    const xBefore = this.qposView[0];
    for (let k = 0; k < this.task.frameSkip; k++) this.mj.mj_step(model, data);
    this.views();
    const qpos = this.qposView;
    const qvel = this.qvelView;
    const xVelocity = (qpos[0] - xBefore) / this.dt;
    const task = this.task;
    const forward = task.forwardRewardWeight * xVelocity;
    const ctrlCost = task.ctrlCostWeight * sumSq;
    const healthy = task.healthyReward;
    // gym v3 order: (forward + healthy) − ctrl_cost.
    this.lastReward = forward + healthy - ctrlCost;
    this.lastXVelocity = xVelocity;
    this.lastRewardForward = forward;
    this.lastRewardCtrl = ctrlCost;
    this.lastRewardHealthy = healthy;
    this.elapsed++;
    let terminated = !task.isHealthy(qpos, qvel);
    if (task.maze) {
      // GoalReachingEnv's sparse reward, on the state after the step; the ant's own reward is discarded.
      const atGoal = Math.hypot(qpos[0] - this.goalXY[0], qpos[1] - this.goalXY[1]) <= GOAL_RADIUS;
      this.lastReward = atGoal ? 1 : 0;
      terminated = atGoal && this.endAtGoal;
    }
    this.lastTerminated = terminated;
    this.lastTruncated = !terminated && this.elapsed >= this.maxEpisodeSteps;
    if (terminated || this.lastTruncated) this.phase = 'done';
    this.writeObservation(out, outOffset);
  }

  /** Observation (docs/spec.md §14.2): qpos[1:] (AntMaze: qpos[0:]) then qvel, clipped to ±clipQvel for hopper/walker. */
  writeObservation(out: Float64Array, offset: number): void {
    this.views();
    const qpos = this.qposView;
    const qvel = this.qvelView;
    const c = this.task.clipQvel;
    let j = offset;
    for (let i = this.task.observationStart; i < this.nq; i++) out[j++] = qpos[i];
    for (let i = 0; i < this.nv; i++) {
      const v = qvel[i];
      out[j++] = v < -c ? -c : v > c ? c : v;
    }
  }

  /** Current observation (a copy). */
  observation(): Float64Array {
    const out = new Float64Array(this.observationDim);
    this.writeObservation(out, 0);
    return out;
  }

  /**
   * The capsules of the body as line segments, for stick-figure drawings: [x0, z0, x1, z1] per capsule geom in
   * the x-z plane ('side', seen from −y), or [x0, y0, x1, y1] in the x-y plane ('top', seen from above), in model
   * order (the floor, walls and spheres are skipped). Runs mj_kinematics first so the segments match qpos.
   */
  segments(out?: Float64Array, view: 'side' | 'top' = 'side'): Float64Array {
    const data = this.live();
    const model = this.model as MjModel;
    this.mj.mj_kinematics(model, data);
    const types = model.geom_type as Int32Array;
    const size = model.geom_size as Float64Array;
    const xpos = data.geom_xpos as Float64Array;
    const xmat = data.geom_xmat as Float64Array;
    let count = 0;
    for (let g = 0; g < model.ngeom; g++) if (types[g] === CAPSULE) count++;
    const result = out ?? new Float64Array(count * 4);
    let j = 0;
    for (let g = 0; g < model.ngeom; g++) {
      if (types[g] !== CAPSULE) continue;
      const h = size[3 * g + 1];
      // The capsule axis is the geom frame's z axis: column 2 of the row-major rotation matrix.
      const v = view === 'top' ? 1 : 2;
      const ax = xmat[9 * g + 2];
      const az = xmat[9 * g + 3 * v + 2];
      const cx = xpos[3 * g];
      const cz = xpos[3 * g + v];
      result[j++] = cx - h * ax;
      result[j++] = cz - h * az;
      result[j++] = cx + h * ax;
      result[j++] = cz + h * az;
    }
    return result;
  }

  /** Per-body masses in kg (world body first) and the names of the bodies, for checks against the facts. */
  bodyMasses(): { names: string[]; masses: Float64Array } {
    this.live();
    const model = this.model as MjModel;
    const masses = Float64Array.from(model.body_mass as Float64Array);
    const names = Array.from({ length: model.nbody }, (_, b) =>
      this.mj.mj_id2name(model, this.mj.mjtObj.mjOBJ_BODY.value, b),
    );
    return { names, masses };
  }

  /** Raw MuJoCo handles, for benchmarks (raw mj_step rate) and tests that force states. */
  get raw(): { mj: MainModule; model: MjModel; data: MjData } {
    return { mj: this.mj, model: this.model as MjModel, data: this.live() };
  }

  close(): void {
    this.data?.delete();
    this.model?.delete();
    this.data = undefined;
    this.model = undefined;
  }
}

/** mjGEOM_CAPSULE in mjtGeom. */
const CAPSULE = 3;

/** Creates one environment. Loads mujoco-js on first use (async, once per thread). */
export async function makeEnv(id: EnvId, options: Partial<EnvOptions> = {}): Promise<MujocoEnv> {
  check(
    (ENV_IDS as readonly string[]).includes(id),
    () =>
      `Error in makeEnv: id must be one of ${ENV_IDS.join(', ')}, got '${id}'. Did you mean '${nearest(String(id), ENV_IDS)}'?`,
  );
  const resolved = resolveEnvOptions({ maxEpisodeSteps: TASKS[id].maxEpisodeSteps, ...options });
  const mj = await loadMujoco();
  return new MujocoEnv(mj, id, resolved);
}

export type Env = MujocoEnv;
