/**
 * The parts of the models, envs and data modules that training and evaluation use, as the module
 * contracts state them. Typed here structurally and loaded lazily, so tests can pass small stand-ins
 * (a linear policy, a toy environment) and the engine has one seam to the rest of the kit.
 */
import type * as tfjs from '@tensorflow/tfjs';
import type { DataSource } from '../config/names';
import type { DataScale } from '../config/scales';
import type { VecEnvLike } from '../envs/vec-env';
import type { ForwardOptions, ModelInputs } from '../models/sequence-model';

export interface SequenceModel {
  name: string;
  config: Readonly<Record<string, unknown>>;
  dims: { stateDim: number; actDim: number };
  forward(inputs: ModelInputs, opts: ForwardOptions): tfjs.Tensor;
  /** Eval-only: the action at the last timestep, [B, actDim] (the evaluator falls back to `forward`). */
  forwardLast?(inputs: ModelInputs): tfjs.Tensor;
  trainableParameters(): Map<string, tfjs.Variable>;
  frozenTensors(): Map<string, tfjs.Tensor>;
  parameterCount(): number;
  dispose(): void;
}

export type CreateModel = (
  name: string,
  config: Record<string, unknown>,
  dims: { stateDim: number; actDim: number },
  seed: number,
) => SequenceModel;

export interface Dataset {
  id: string;
  env: string;
  kind: string;
  provenance: { source: string; checksum: string; file?: string; generator?: unknown };
  trajectories: {
    observations: Float32Array;
    actions: Float32Array;
    rewards: Float32Array;
    terminals: Uint8Array;
    timeouts: Uint8Array;
  }[];
  stateMean: Float64Array;
  stateStd: Float64Array;
}

export interface Batch {
  states: Float32Array;
  actions: Float32Array;
  returnsToGo: Float32Array;
  timesteps: Int32Array;
  mask: Float32Array;
}

export interface BatchSource {
  sample(): Batch;
  /** The next batch over `out`'s arrays (BatchSampler has it): the same numbers as sample(), no allocation. */
  sampleInto?(out: Batch): void;
  getState(): unknown;
  setState(state: unknown): void;
}

/**
 * `source`'s batches in one reused set of arrays where it can (sampleInto), so the engine's loop allocates
 * nothing per step; each batch is valid until the next call, which suits a consumer that copies it at once
 * (EngineSession writes it to the arena before asking for the next).
 */
export function reusedBatches(source: BatchSource): () => Batch {
  if (!source.sampleInto) return () => source.sample();
  let out: Batch | undefined;
  return () => {
    if (!out) return (out = source.sample());
    source.sampleInto!(out);
    return out;
  };
}

export interface EngineDeps {
  createModel: CreateModel;
  loadDataset(id: string, opts: { source: DataSource; scale: DataScale }): Promise<Dataset>;
  createSampler(
    dataset: Dataset,
    opts: { contextLength: number; batchSize: number; returnScale: number; maxEpLen: number; seed: number },
  ): BatchSource;
  createVecEnv(env: string, n: number, opts: { seed: number; workers?: number }): Promise<VecEnvLike>;
  /** The model's loss; default the masked action MSE of src/models/loss.ts. */
  maskedActionLoss(pred: tfjs.Tensor, target: tfjs.Tensor, mask: tfjs.Tensor): tfjs.Scalar;
}

/**
 * The kit's real modules, required on first use (so a missing module is one clear error, not an import crash).
 * Each require names its module literally, so a bundler (tools/gpu/bundle-cli.sh) can follow it.
 */
export function defaultDeps(): EngineDeps {
  const need = <T>(load: () => unknown, what: string): T => {
    try {
      return load() as T;
    } catch (err) {
      throw new Error(`Error in defaultDeps: module ${what} must load, got: ${(err as Error).message.split('\n')[0]}`);
    }
  };
  /* eslint-disable @typescript-eslint/no-require-imports */
  const models = () => need<{ createModel: CreateModel }>(() => require('../models'), 'src/models');
  const data = () =>
    need<{ loadDataset: EngineDeps['loadDataset']; BatchSampler: new (d: Dataset, o: object) => BatchSource }>(
      () => require('../data'),
      'src/data',
    );
  const envs = () =>
    need<{ VecEnv: { create(id: string, n: number, o: object): Promise<VecEnvLike> } }>(
      () => require('../envs'),
      'src/envs',
    );
  const loss = () =>
    need<{ maskedActionLoss: EngineDeps['maskedActionLoss'] }>(() => require('../models/loss'), 'src/models/loss');
  /* eslint-enable @typescript-eslint/no-require-imports */
  return {
    createModel: (name, config, dims, seed) => models().createModel(name, config, dims, seed),
    loadDataset: (id, opts) => data().loadDataset(id, opts),
    createSampler: (dataset, opts) => new (data().BatchSampler)(dataset, opts),
    createVecEnv: (env, n, opts) => envs().VecEnv.create(env, n, { ...opts, autoReset: false }),
    maskedActionLoss: (pred, target, mask) => loss().maskedActionLoss(pred, target, mask),
  };
}
