/**
 * Checkpoints written after every iteration (docs/spec.md §9), one folder each:
 *   model.safetensors      trainable parameters (PyTorch state_dict names) + frozen tensors (docs/spec.md quirk 5)
 *   optimizer.safetensors  AdamW m.<name>, v.<name>
 *   state.json             step, sampler RNG state, configs, state normalisation, dataset id + checksum,
 *                          and the evaluation results so far (so a resumed run writes a complete record)
 * The folder is written under a temporary name and renamed, so a crash never leaves a half checkpoint.
 */
import * as fs from 'fs';
import * as path from 'path';
import { downloadForSyncRead, tf } from '../backend';
import { saveModelWeights } from '../models/checkpoint';
import { encodeSafetensors, decodeSafetensors } from '../nn/safetensors';
import { writeFileAtomic, stableStringify } from '../util/atomic';
import { check, KitError } from '../util/check';
import type { NormalRunSpec } from '../config/run-spec';
import { deriveSeed } from '../util/rng';
import type { AdamWState } from './adamw';
import { defaultDeps, type EngineDeps, type SequenceModel } from './deps';

export const CHECKPOINT_FORMAT = 'dmm-kit/checkpoint@1';

/** Everything besides tensors; JSON. */
export interface CheckpointState {
  format: typeof CHECKPOINT_FORMAT;
  iteration: number;
  step: number;
  seed: number;
  samplerState: unknown;
  stateMean: number[];
  stateStd: number[];
  /** The run's spec, resolved configs and partial results; opaque to this module. */
  run: Record<string, unknown>;
}

export interface Checkpoint {
  dir: string;
  state: CheckpointState;
  weights: Map<string, { shape: number[]; data: Float32Array }>;
  frozen: Map<string, { shape: number[]; data: Float32Array }>;
  optimizer: AdamWState;
}

type TensorRecord = Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }>;

export function iterationDir(root: string, iteration: number): string {
  return path.join(root, `iter-${String(iteration).padStart(4, '0')}`);
}

export function saveCheckpoint(
  root: string,
  model: SequenceModel,
  optimizer: AdamWState,
  state: Omit<CheckpointState, 'format'>,
): string {
  const dir = iterationDir(root, state.iteration);
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  // The models' own weight format; the checkpoint format rides along in the metadata.
  writeFileAtomic(path.join(tmp, 'model.safetensors'), saveModelWeights(model, { checkpoint: CHECKPOINT_FORMAT }));
  const opt: TensorRecord = {};
  for (const [name, s] of Object.entries(optimizer.m))
    opt[`m.${name}`] = { dtype: 'F32', shape: s.shape, data: s.data };
  for (const [name, s] of Object.entries(optimizer.v))
    opt[`v.${name}`] = { dtype: 'F32', shape: s.shape, data: s.data };
  writeFileAtomic(
    path.join(tmp, 'optimizer.safetensors'),
    encodeSafetensors(opt, { format: CHECKPOINT_FORMAT, step: String(optimizer.step) }),
  );
  writeFileAtomic(path.join(tmp, 'state.json'), stableStringify({ format: CHECKPOINT_FORMAT, ...state }, 2) + '\n');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
  return dir;
}

function fail(dir: string, what: string): never {
  throw new KitError(
    `Error in loadCheckpoint: ${dir} must be a complete ${CHECKPOINT_FORMAT} folder, got ${what}. Delete it and resume from an earlier iteration, or retrain.`,
  );
}

function readTensors(
  dir: string,
  file: string,
): { tensors: Map<string, { shape: number[]; data: Float32Array }>; metadata: Record<string, string> } {
  const p = path.join(dir, file);
  if (!fs.existsSync(p)) fail(dir, `no ${file}`);
  let decoded: ReturnType<typeof decodeSafetensors>;
  try {
    decoded = decodeSafetensors(new Uint8Array(fs.readFileSync(p)));
  } catch (err) {
    fail(dir, `an unreadable ${file} (${(err as Error).message.split('\n')[0]})`);
  }
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, t] of Object.entries(decoded.tensors)) {
    if (!(t.data instanceof Float32Array)) fail(dir, `tensor '${name}' of dtype ${t.dtype} in ${file} (F32 expected)`);
    tensors.set(name, { shape: t.shape, data: t.data });
  }
  return { tensors, metadata: decoded.metadata ?? {} };
}

export function loadCheckpoint(dir: string): Checkpoint {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new KitError(
      `Error in loadCheckpoint: ${dir} must be a checkpoint folder (results/<experiment>/checkpoints/<specHash>/iter-NNNN), got no such folder. Check the path.`,
    );
  }
  const statePath = path.join(dir, 'state.json');
  if (!fs.existsSync(statePath)) fail(dir, 'no state.json');
  let state: CheckpointState;
  try {
    state = JSON.parse(fs.readFileSync(statePath, 'utf8')) as CheckpointState;
  } catch (err) {
    fail(dir, `a state.json that is not JSON (${(err as Error).message.split('\n')[0]})`);
  }
  if (state.format !== CHECKPOINT_FORMAT) fail(dir, `format '${String(state.format)}' in state.json`);
  for (const key of ['iteration', 'step', 'seed'] as const)
    if (!Number.isInteger(state[key])) fail(dir, `state.json without an integer '${key}'`);
  const model = readTensors(dir, 'model.safetensors');
  let frozenNames: string[] = [];
  try {
    frozenNames = JSON.parse(model.metadata.frozen ?? '[]') as string[];
  } catch {
    fail(dir, 'unreadable frozen-tensor metadata in model.safetensors');
  }
  const weights = new Map(model.tensors);
  const frozen = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const name of frozenNames) {
    const t = weights.get(name);
    if (!t) fail(dir, `no frozen tensor '${name}' in model.safetensors`);
    frozen.set(name, t);
    weights.delete(name);
  }
  const opt = readTensors(dir, 'optimizer.safetensors');
  const optimizer: AdamWState = { step: Number(opt.metadata.step), m: {}, v: {} };
  if (optimizer.step !== state.step) fail(dir, `optimizer step ${opt.metadata.step} against state step ${state.step}`);
  for (const [key, t] of opt.tensors) {
    const [kind, ...rest] = key.split('.');
    if (kind !== 'm' && kind !== 'v') fail(dir, `unexpected optimizer tensor '${key}'`);
    optimizer[kind][rest.join('.')] = t;
  }
  return { dir, state, weights, frozen, optimizer };
}

/**
 * Copies checkpoint weights into a freshly created model of the same config; frozen tensors must match
 * (read back for the comparison, so awaited first: a GPU backend has no synchronous read in Node).
 */
export async function restoreWeights(model: SequenceModel, ckpt: Checkpoint): Promise<void> {
  await downloadForSyncRead(model.frozenTensors().values());
  const params = model.trainableParameters();
  for (const [name, v] of params) {
    const w = ckpt.weights.get(name);
    check(
      w,
      () =>
        `Error in restoreWeights: checkpoint ${ckpt.dir} must hold parameter '${name}', got none. It was written for a different model config.`,
    );
    check(
      w.data.length === v.size,
      () =>
        `Error in restoreWeights: '${name}' must have ${v.size} values, got ${w.data.length} in ${ckpt.dir}. It was written for a different model config.`,
    );
    v.assign(tf.tensor(w.data, v.shape, 'float32'));
  }
  for (const name of ckpt.weights.keys()) {
    check(
      params.has(name),
      () =>
        `Error in restoreWeights: checkpoint parameter '${name}' must exist in model ${model.name}, got no such parameter. It was written for a different model config.`,
    );
  }
  for (const [name, t] of model.frozenTensors()) {
    const saved = ckpt.frozen.get(name);
    check(
      saved && saved.data.length === t.size,
      () =>
        `Error in restoreWeights: frozen tensor '${name}' must be in ${ckpt.dir} with ${t.size} values. It was written for a different model config.`,
    );
    const now = t.dataSync();
    for (let i = 0; i < now.length; i++) {
      check(
        now[i] === saved.data[i],
        () =>
          `Error in restoreWeights: frozen tensor '${name}' must equal the saved one, got a difference at index ${i}. The model seed differs from the checkpoint's.`,
      );
    }
  }
}

/** The newest complete iteration folder under `root`, or undefined. */
export function latestCheckpoint(root: string): string | undefined {
  if (!fs.existsSync(root)) return undefined;
  const iters = fs
    .readdirSync(root)
    .filter((d) => /^iter-\d{4}$/.test(d) && fs.existsSync(path.join(root, d, 'state.json')))
    .sort();
  return iters.length ? path.join(root, iters[iters.length - 1]) : undefined;
}

/** What `runTraining` stores in a checkpoint's state.json under `run`, besides the partial results. */
export interface RunState {
  specHash: string;
  spec: NormalRunSpec;
  /** The resolved configs (the model's as the model itself resolved it). */
  config: { model: Record<string, unknown>; train: Record<string, unknown>; eval: Record<string, unknown> };
  dims: { stateDim: number; actDim: number };
  datasetChecksum: string;
}

export interface RestoredRun<M extends SequenceModel = SequenceModel> {
  checkpoint: Checkpoint;
  run: RunState;
  /** The model of the run with the checkpoint's weights, built with the run's own init seed. */
  model: M;
  /** State normalisation of the run's dataset (docs/spec.md §8.4), for evaluation. */
  stateMean: Float64Array;
  stateStd: Float64Array;
}

/**
 * The one way to rebuild a trained model: from an iteration folder (`…/iter-NNNN`) or a run's checkpoint
 * folder (its latest iteration), the model named by the stored spec and config, created with the run's
 * init seed (so frozen tensors match) and given the stored weights.
 */
export async function restoreRun<M extends SequenceModel = SequenceModel>(
  dir: string,
  deps: { createModel(...args: Parameters<EngineDeps['createModel']>): M } = defaultDeps() as never,
): Promise<RestoredRun<M>> {
  const iterDir = /iter-\d{4}\/?$/.test(dir) ? dir : (latestCheckpoint(dir) ?? dir);
  const checkpoint = loadCheckpoint(iterDir);
  const run = checkpoint.state.run as unknown as RunState;
  if (!run?.spec || !run.config?.model || !run.config.eval || !run.dims)
    throw new KitError(
      `Error in restoreRun: ${iterDir}/state.json must hold the run's spec, configs and dims, got an incomplete one. Was it written by runTraining?`,
    );
  const model = deps.createModel(run.spec.model, run.config.model, run.dims, deriveSeed(checkpoint.state.seed, 'init'));
  await restoreWeights(model, checkpoint);
  return {
    checkpoint,
    run,
    model,
    stateMean: Float64Array.from(checkpoint.state.stateMean),
    stateStd: Float64Array.from(checkpoint.state.stateStd),
  };
}
