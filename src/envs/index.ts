/**
 * The MuJoCo locomotion environments of the kit (Gym v3 logic, D4RL time limit) and their batched runner.
 * docs/spec.md §14 holds the facts; docs/envs.md describes the choices.
 */
export { MAX_EPISODE_STEPS, TASKS, type TaskSpec } from './tasks';
export {
  ENV_DEFAULTS,
  makeEnv,
  MujocoEnv,
  resolveEnvOptions,
  type Env,
  type EnvOptions,
  type EnvState,
  type StepInfo,
  type StepResult,
} from './env';
export { loadModel, loadMujoco, ASSET_DIR } from './mujoco';
export { VecEnv, VEC_ENV_DEFAULTS, resolveVecEnvOptions, type VecEnvOptions, type VecStepResult } from './vec-env';
export { envSeed } from './vec-shard';
export {
  recordRollout,
  stickFigureAnimation,
  stickFigureSvg,
  type PlotlyFigure,
  type Rollout,
  type StripOptions,
} from './stick-figure';
export { randomRollout } from './render-rollout';
