/**
 * Official trainer settings per model and dataset (model-spec.md §5 table, §6, §9 table): learning rate,
 * batch, steps, warm-up, decay, RTG scale. The model side (width, K, dsmMode) is the models' own
 * `officialModelConfig`; scales and user overrides come on top of both.
 */
import { check, nearest } from '../util/check';

export const MODEL_NAMES = ['dmm', 'dmamba', 'dt', 'dc'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export interface OfficialPreset {
  batchSize: number;
  iterations: number;
  learningRate: number;
  /** RTG scale (§8.9): 1000 for MuJoCo. */
  returnScale: number;
  stepsPerIteration: number;
  warmupSteps: number;
  weightDecay: number;
}

const SHARED = {
  batchSize: 64,
  iterations: 10,
  returnScale: 1000,
  stepsPerIteration: 10000,
  warmupSteps: 10000,
  weightDecay: 1e-4,
} as const;

/** DMa's per-dataset learning rate (§5 table). */
function dmambaLearningRate(env: string, dataset: string): number {
  if (env === 'hopper') return dataset === 'medium-expert' ? 1e-3 : 1e-4;
  return env === 'walker2d' && dataset === 'medium' ? 1e-4 : 1e-3;
}

export function officialPreset(model: string, env: string, dataset: string): OfficialPreset {
  check(
    (MODEL_NAMES as readonly string[]).includes(model),
    () =>
      `Error in officialPreset: model must be one of ${MODEL_NAMES.join(', ')}, got '${model}'. Did you mean '${nearest(model, MODEL_NAMES)}'?`,
  );
  const mujoco = ['hopper', 'halfcheetah', 'walker2d'].includes(env);
  const returnScale = mujoco ? 1000 : 1;
  switch (model as ModelName) {
    case 'dmm':
      return { ...SHARED, returnScale, learningRate: 1e-4 }; // §9
    case 'dmamba':
      return { ...SHARED, returnScale, learningRate: dmambaLearningRate(env, dataset) };
    case 'dt':
      return { ...SHARED, returnScale, learningRate: 1e-4 };
    case 'dc':
      // §6.2: the README's hopper-medium lr 1e-4; the CLI default 1e-3 elsewhere.
      return { ...SHARED, returnScale, learningRate: env === 'hopper' && dataset === 'medium' ? 1e-4 : 1e-3 };
  }
}
