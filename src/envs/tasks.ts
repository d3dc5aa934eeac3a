/**
 * The three Gym v3 locomotion tasks, as D4RL's gym-mujoco datasets encode them (docs/spec.md §14.2), and D4RL's
 * three AntMaze evaluation envs (docs/envs.md, "AntMaze").
 * Each task is data: its model file, frame skip, reward weights, observation layout, health test and reset noise.
 * The environment (env.ts) runs any of them with the same code.
 */

import type { AntMazeName, EnvId } from '../config/names';
import { MAZES } from './maze';

export interface TaskSpec {
  id: EnvId;
  /** MJCF file in src/envs/assets (a maze's walls are added to it, src/envs/maze.ts). */
  modelFile: string;
  /** The maze of an AntMaze task: sparse goal reward, done at the goal, a goal sampled at every reset. */
  maze?: AntMazeName;
  /**
   * D4RL's NormalizedBoxEnv maps an action a ∈ [-1, 1] onto the ctrlrange [lb, ub]: lb + (a + 1)(ub − lb)/2,
   * which for a symmetric range is a·ub. 1 for the gym tasks (ctrlrange ±1), 30 for the AntMaze ant.
   */
  actionScale: number;
  /** The observation starts at qpos[observationStart]: 1 for the gym tasks (x left out), 0 for AntMaze. */
  observationStart: number;
  /** TimeLimit (D4RL's max_episode_steps). */
  maxEpisodeSteps: number;
  /** MuJoCo steps per environment step (docs/spec.md §14.2): dt = timestep × frameSkip. */
  frameSkip: number;
  observationDim: number;
  actionDim: number;
  nq: number;
  nv: number;
  forwardRewardWeight: number;
  ctrlCostWeight: number;
  /** Paid every step, the unhealthy terminal step included (v2/v3: terminate_when_unhealthy, docs/spec.md §14.2). 0 = none. */
  healthyReward: number;
  /** Observation = qpos[1:] then qvel, the velocities clipped to ±clipQvel (Infinity = no clip). */
  clipQvel: number;
  /** Reset noise (docs/spec.md §14.2): qpos += U(−s, s); qvel += U(−s, s) ('uniform') or s·N(0, 1) ('normal'). */
  resetNoiseScale: number;
  qvelNoise: 'uniform' | 'normal';
  /** False when the episode must terminate (done); the test runs on qpos/qvel after the frame-skip sub-steps. */
  isHealthy(qpos: Float64Array, qvel: Float64Array): boolean;
}

/** Hopper-v3 `is_healthy` (docs/spec.md §14.2): state[2:] inside (−100, 100), z > 0.7, |angle| < 0.2, all strict. */
function hopperHealthy(qpos: Float64Array, qvel: Float64Array): boolean {
  const z = qpos[1];
  const angle = qpos[2];
  // state_vector()[2:] = qpos[2:] then qvel (unclipped); comparisons with NaN are false, so NaN is unhealthy.
  for (let i = 2; i < qpos.length; i++) if (!(qpos[i] > -100 && qpos[i] < 100)) return false;
  for (let i = 0; i < qvel.length; i++) if (!(qvel[i] > -100 && qvel[i] < 100)) return false;
  return z > 0.7 && angle > -0.2 && angle < 0.2;
}

/** Walker2d-v3 `is_healthy` (docs/spec.md §14.2): 0.8 < z < 2.0 and −1 < angle < 1, strict. */
function walkerHealthy(qpos: Float64Array): boolean {
  const z = qpos[1];
  const angle = qpos[2];
  return z > 0.8 && z < 2.0 && angle > -1.0 && angle < 1.0;
}

/**
 * An AntMaze env (docs/envs.md, "AntMaze"): D4RL's ant with gear-1 motors of ctrlrange ±30, frame skip 5 at
 * timestep 0.02 (dt 0.1 s); observation qpos then qvel (29, nothing clipped); the ant's own reward and health
 * are discarded; reset noise U(±0.1) on qpos and 0.1·N(0, 1) on qvel. 'antmaze-ant' is the same ant with no
 * walls and no goal (reward 0, never done, 1000-step limit).
 */
function antMaze(id: AntMazeName | 'antmaze-ant'): Readonly<TaskSpec> {
  return Object.freeze({
    id,
    modelFile: 'antmaze_ant.xml',
    ...(id === 'antmaze-ant' ? {} : { maze: id }),
    actionScale: 30,
    observationStart: 0,
    maxEpisodeSteps: id === 'antmaze-ant' ? MAX_EPISODE_STEPS : MAZES[id].maxEpisodeSteps,
    frameSkip: 5,
    observationDim: 29,
    actionDim: 8,
    nq: 15,
    nv: 14,
    forwardRewardWeight: 0,
    ctrlCostWeight: 0,
    healthyReward: 0,
    clipQvel: Infinity,
    resetNoiseScale: 0.1,
    qvelNoise: 'normal',
    // Flipping over does not end an AntMaze episode; only reaching the goal does (env.ts).
    isHealthy: () => true,
  });
}

/** The 1000-step TimeLimit of every gym task (docs/spec.md §14.2). */
export const MAX_EPISODE_STEPS = 1000;

export const TASKS: Readonly<Record<EnvId, Readonly<TaskSpec>>> = Object.freeze({
  hopper: Object.freeze({
    id: 'hopper',
    actionScale: 1,
    observationStart: 1,
    maxEpisodeSteps: MAX_EPISODE_STEPS,
    modelFile: 'hopper.xml',
    frameSkip: 4,
    observationDim: 11,
    actionDim: 3,
    nq: 6,
    nv: 6,
    forwardRewardWeight: 1.0,
    ctrlCostWeight: 1e-3,
    healthyReward: 1.0,
    clipQvel: 10,
    resetNoiseScale: 5e-3,
    qvelNoise: 'uniform',
    isHealthy: hopperHealthy,
  }),
  halfcheetah: Object.freeze({
    id: 'halfcheetah',
    actionScale: 1,
    observationStart: 1,
    maxEpisodeSteps: MAX_EPISODE_STEPS,
    modelFile: 'half_cheetah.xml',
    frameSkip: 5,
    observationDim: 17,
    actionDim: 6,
    nq: 9,
    nv: 9,
    forwardRewardWeight: 1.0,
    ctrlCostWeight: 0.1,
    healthyReward: 0,
    clipQvel: Infinity,
    resetNoiseScale: 0.1,
    qvelNoise: 'normal',
    // HalfCheetah never terminates (docs/spec.md §14.2).
    isHealthy: () => true,
  }),
  walker2d: Object.freeze({
    id: 'walker2d',
    actionScale: 1,
    observationStart: 1,
    maxEpisodeSteps: MAX_EPISODE_STEPS,
    modelFile: 'walker2d.xml',
    frameSkip: 4,
    observationDim: 17,
    actionDim: 6,
    nq: 9,
    nv: 9,
    forwardRewardWeight: 1.0,
    ctrlCostWeight: 1e-3,
    healthyReward: 1.0,
    clipQvel: 10,
    resetNoiseScale: 5e-3,
    qvelNoise: 'uniform',
    isHealthy: walkerHealthy,
  }),
  'antmaze-umaze': antMaze('antmaze-umaze'),
  'antmaze-medium': antMaze('antmaze-medium'),
  'antmaze-large': antMaze('antmaze-large'),
  'antmaze-ant': antMaze('antmaze-ant'),
});
