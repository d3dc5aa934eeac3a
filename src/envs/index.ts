/**
 * The MuJoCo environments of the kit, the locomotion tasks (Gym v3 logic, D4RL time limit) and D4RL's AntMaze
 * mazes, and their batched runner.
 * docs/spec.md §14 holds the facts; docs/envs.md describes the choices.
 */
export { MAX_EPISODE_STEPS, TASKS, type TaskSpec } from './tasks';
export {
  MAZES,
  MAZE_SCALING,
  MAZE_HEIGHT,
  GOAL_RADIUS,
  cellCentre,
  cellOf,
  freeCells,
  isWall,
  sampleGoal,
  sampleStart,
  shortestPath,
  wallBoxes,
  xyToRowCol,
  type Cell,
  type MazeSpec,
  type WallBox,
} from './maze';
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
export { loadModel, loadModelXml, loadMujoco, ASSET_DIR } from './mujoco';
export { VecEnv, VEC_ENV_DEFAULTS, resolveVecEnvOptions, type VecEnvOptions, type VecStepResult } from './vec-env';
export { envSeed } from './vec-shard';
export {
  recordRollout,
  stickFigureAnimation,
  stickFigureSvg,
  topViewSvg,
  type PlotlyFigure,
  type Rollout,
  type StripOptions,
  type TopViewOptions,
} from './stick-figure';
export { randomRollout } from './render-rollout';
