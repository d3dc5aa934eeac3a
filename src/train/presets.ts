/**
 * Official training settings per model and dataset (model-spec.md §5 table, §6, §9 table). These are
 * data, sorted and complete; `officialPreset` picks the row, scales and user overrides come on top.
 */
import { check, nearest } from '../util/check';

export const MODEL_NAMES = ['dmm', 'dmamba', 'dt', 'dc'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export interface OfficialPreset {
  /** Model config keys (createModel's camelCase names). */
  model: { contextLength: number; dropout: number; hiddenSize: number; nLayer: number };
  batchSize: number;
  iterations: number;
  learningRate: number;
  /** RTG scale (§8.9): 1000 for MuJoCo. */
  returnScale: number;
  stepsPerIteration: number;
  warmupSteps: number;
  weightDecay: number;
}

const SHARED = { batchSize: 64, iterations: 10, returnScale: 1000, stepsPerIteration: 10000, warmupSteps: 10000, weightDecay: 1e-4 } as const;

/** DMa's per-dataset width and learning rate (§5 table). */
function dmambaSize(env: string, dataset: string): { hiddenSize: number; learningRate: number } {
  if (env === 'hopper') return dataset === 'medium-expert' ? { hiddenSize: 128, learningRate: 1e-3 } : { hiddenSize: 256, learningRate: 1e-4 };
  if (env === 'walker2d' && dataset === 'medium') return { hiddenSize: 128, learningRate: 1e-4 };
  return { hiddenSize: 128, learningRate: 1e-3 };
}

export function officialPreset(model: string, env: string, dataset: string): OfficialPreset {
  check((MODEL_NAMES as readonly string[]).includes(model), () => `Error in officialPreset: model must be one of ${MODEL_NAMES.join(', ')}, got '${model}'. Did you mean '${nearest(model, MODEL_NAMES)}'?`);
  const mujoco = ['hopper', 'halfcheetah', 'walker2d'].includes(env);
  const returnScale = mujoco ? 1000 : 1;
  switch (model as ModelName) {
    case 'dmm':
      // §9: D 64 on MuJoCo, 128 on AntMaze/Kitchen; K 8; lr 1e-4; dropout fixed at 0.1 (quirk 8).
      return { ...SHARED, returnScale, learningRate: 1e-4, model: { contextLength: 8, dropout: 0.1, hiddenSize: mujoco ? 64 : 128, nLayer: 3 } };
    case 'dmamba': {
      const { hiddenSize, learningRate } = dmambaSize(env, dataset);
      return { ...SHARED, returnScale, learningRate, model: { contextLength: 20, dropout: 0.1, hiddenSize, nLayer: 3 } };
    }
    case 'dt':
      return { ...SHARED, returnScale, learningRate: 1e-4, model: { contextLength: 20, dropout: 0.1, hiddenSize: 128, nLayer: 3 } };
    case 'dc': {
      // §6.2: README's hopper-medium settings (K 8, D 256, lr 1e-4); CLI defaults D 128, lr 1e-3 elsewhere; K 8 everywhere.
      const hm = env === 'hopper' && dataset === 'medium';
      return { ...SHARED, returnScale, learningRate: hm ? 1e-4 : 1e-3, model: { contextLength: 8, dropout: 0.1, hiddenSize: hm ? 256 : 128, nLayer: 3 } };
    }
  }
}
