/**
 * The three Gym v3 locomotion tasks, as D4RL's gym-mujoco datasets encode them (docs/spec.md §14.2).
 * Each task is data: its model file, frame skip, reward weights, observation layout, health test and reset noise.
 * The environment (env.ts) runs any of them with the same code.
 */

import type { EnvName } from '../config/names';

export interface TaskSpec {
  id: EnvName;
  /** MJCF file in src/envs/assets. */
  modelFile: string;
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

export const TASKS: Readonly<Record<EnvName, Readonly<TaskSpec>>> = Object.freeze({
  hopper: Object.freeze({
    id: 'hopper',
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
});

/** The 1000-step TimeLimit of every task (docs/spec.md §14.2). */
export const MAX_EPISODE_STEPS = 1000;
