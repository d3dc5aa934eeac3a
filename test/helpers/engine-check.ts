/**
 * Engine-against-tfjs parity: one DMM configuration, identical weights and batches, dropout on. The tfjs side
 * is the kit's own Trainer (forward, masked MSE, clip, AdamW) and tf.variableGrads; the engine side is a
 * program run by an executor. Returns relative errors (max |engine − tfjs| / max |tfjs|) of the forward
 * output, every parameter gradient, the global norm, the loss of each step, and the weights (and their
 * updates) after `steps` optimiser steps.
 */
import * as tf from '@tensorflow/tfjs';
import { createModel, maskedActionLoss, type DmmConfig, type EnvDims } from '../../src/models';
import { warmupLearningRate } from '../../src/train/adamw';
import { resolveTrainConfig, Trainer } from '../../src/train/trainer';
import type { Batch, BatchSource } from '../../src/train/deps';
import { Rng, deriveSeed } from '../../src/util/rng';
import { buildDmmProgram } from '../../src/engine/models/dmm';
import { CpuExecutor } from '../../src/engine/cpu/executor';
import { stepScalars, writeStep, type Executor } from '../../src/engine/executor';
import type { Program } from '../../src/engine/program';
import { readWeights, writeWeights, type NamedArrays } from '../../src/engine/weights';
import { relErr } from './models-fixtures';

export interface ParityCase {
  config: Partial<DmmConfig>;
  dims: EnvDims;
  batch: number;
  seed: number;
  /** Windows whose first steps are padding (training's padding: actions −10, states −μ/σ, mask 0). */
  padded?: boolean;
  steps?: number;
  learningRate?: number;
}

/** A seeded batch in the sampler's layout. */
export function syntheticBatch(dims: EnvDims, B: number, K: number, seed: number, padded = false): Batch {
  const rng = new Rng(seed);
  const { stateDim: s, actDim: a } = dims;
  const states = Float32Array.from({ length: B * K * s }, () => rng.normal());
  const actions = Float32Array.from({ length: B * K * a }, () => rng.range(-0.99, 0.99));
  const returnsToGo = Float32Array.from({ length: B * K }, () => rng.range(0, 3.6));
  const mask = new Float32Array(B * K).fill(1);
  if (padded)
    for (let b = 0; b < B; b += 2) {
      const pad = Math.min(K - 1, 1 + (b % K));
      for (let t = 0; t < pad; t++) {
        mask[b * K + t] = 0;
        returnsToGo[b * K + t] = 0;
        for (let j = 0; j < s; j++) states[(b * K + t) * s + j] = -0.3;
        for (let j = 0; j < a; j++) actions[(b * K + t) * a + j] = -10;
      }
    }
  return { states, actions, returnsToGo, timesteps: new Int32Array(B * K), mask };
}

function modelWeights(model: ReturnType<typeof createModel>): NamedArrays {
  const out: NamedArrays = new Map();
  for (const [name, v] of model.trainableParameters()) out.set(name, Float32Array.from(v.dataSync()));
  for (const [name, v] of model.frozenTensors()) out.set(name, Float32Array.from(v.dataSync()));
  return out;
}

export function writeBatch(ex: Executor, b: Batch): void {
  const i = ex.program.inputs;
  ex.write(i.states, b.states);
  ex.write(i.actions, b.actions);
  ex.write(i.returnsToGo, b.returnsToGo);
  ex.write(i.mask, b.mask);
}

export interface ParityResult {
  names: string[];
  forward: number;
  loss: number[];
  grads: Map<string, number>;
  norm: number;
  weights: number;
  updates: number;
  /** Parameter names of the program that the model lacks or has with other shapes (must be empty). */
  layoutMismatch: string[];
}

export type ExecutorFactory = (p: Program) => Executor | Promise<Executor>;

export async function engineParity(
  c: ParityCase,
  executor: ExecutorFactory = (p) => new CpuExecutor(p),
): Promise<ParityResult> {
  const model = createModel('dmm', c.config as never, c.dims, c.seed);
  const cfg = model.config as DmmConfig;
  const K = cfg.contextLength;
  const steps = c.steps ?? 3;
  const batches = Array.from({ length: steps }, (_, i) =>
    syntheticBatch(c.dims, c.batch, K, c.seed + 100 + i, c.padded),
  );
  const train = resolveTrainConfig({
    batchSize: c.batch,
    learningRate: c.learningRate ?? 1e-3,
    warmupSteps: 2,
    iterations: 1,
    stepsPerIteration: steps,
  });
  const program = buildDmmProgram(cfg, c.dims, {
    batchSize: c.batch,
    training: true,
    target: 'cpu',
    weightDecay: train.weightDecay,
    gradClip: train.gradClip,
  });
  const ex = await executor(program);
  const before = modelWeights(model);
  writeWeights(ex, before);

  // Layout: the program's parameters are the model's, by name, shape and order.
  const mp = model.trainableParameters();
  const layoutMismatch: string[] = [];
  const progNames = [...program.params.keys()];
  if (progNames.join() !== [...mp.keys()].join()) layoutMismatch.push('order');
  for (const [name, r] of program.params) {
    const v = mp.get(name);
    if (!v || v.shape.join() !== r.shape!.join()) layoutMismatch.push(name);
  }

  // tfjs: the first step's forward output and raw gradients (dropout on, the Trainer's seed for step 1).
  const toTensors = (b: Batch) => ({
    states: tf.tensor3d(b.states, [c.batch, K, c.dims.stateDim]),
    actions: tf.tensor3d(b.actions, [c.batch, K, c.dims.actDim]),
    returnsToGo: tf.tensor3d(b.returnsToGo, [c.batch, K, 1]),
    timesteps: tf.tensor2d(b.timesteps, [c.batch, K], 'int32'),
    mask: tf.tensor2d(b.mask, [c.batch, K]),
  });
  const inputs = toTensors(batches[0]);
  const dropoutSeed = deriveSeed(c.seed, 'dropout', 1);
  const pred = model.forward(inputs, { training: true, dropoutSeed });
  const refPred = Float32Array.from(pred.dataSync());
  const names = [...mp.keys()];
  const vars = [...mp.values()];
  const { grads } = tf.variableGrads(
    () => maskedActionLoss(model.forward(inputs, { training: true, dropoutSeed }), inputs.actions, inputs.mask),
    vars,
  );
  let sq = 0;
  const refGrads = new Map<string, Float32Array>();
  names.forEach((n, i) => {
    const g = Float32Array.from(grads[vars[i].name].dataSync());
    refGrads.set(n, g);
    for (const x of g) sq += x * x;
  });
  tf.dispose([pred, ...Object.values(grads)]);

  // tfjs: the Trainer's steps on the same batches.
  let next = 0;
  const source: BatchSource = { sample: () => batches[next++], getState: () => null, setState: () => {} };
  const trainer = new Trainer(model, source, train, c.seed, maskedActionLoss);
  const refLoss: number[] = [];
  for (let i = 0; i < steps; i++) {
    const l = trainer.trainStep();
    refLoss.push(l.dataSync()[0]);
    l.dispose();
  }
  const after = modelWeights(model);

  // Engine: the same steps.
  const loss: number[] = [];
  let gradErr = new Map<string, number>();
  let norm = 0;
  let forward = 0;
  for (let i = 0; i < steps; i++) {
    writeBatch(ex, batches[i]);
    const k = i + 1;
    writeStep(ex, stepScalars(program, c.seed, k, warmupLearningRate(k, train.learningRate, train.warmupSteps)));
    ex.run();
    loss.push((await ex.read(program.outputs.loss))[0]);
    if (i === 0) {
      forward = relErr(await ex.read(program.outputs.pred), refPred);
      const gAll = await ex.read(program.arena.get('grads'));
      const base = program.arena.get('params').offset;
      gradErr = new Map();
      for (const [name, r] of program.params) {
        const g = gAll.subarray(r.offset - base, r.offset - base + r.size);
        gradErr.set(name, relErr(g, refGrads.get(name)!));
      }
      norm = Math.abs((await ex.read(program.outputs.gradNorm))[0] - Math.sqrt(sq)) / Math.sqrt(sq);
    }
  }
  const got = await readWeights(ex);
  let wNum = 0;
  let wDen = 1e-30;
  let uNum = 0;
  let uDen = 1e-30;
  for (const [name, ref] of mp) {
    void ref;
    const e = got.get(name)!;
    const r = after.get(name)!;
    const b0 = before.get(name)!;
    for (let j = 0; j < r.length; j++) {
      wNum = Math.max(wNum, Math.abs(e[j] - r[j]));
      wDen = Math.max(wDen, Math.abs(r[j]));
      uNum = Math.max(uNum, Math.abs(e[j] - b0[j] - (r[j] - b0[j])));
      uDen = Math.max(uDen, Math.abs(r[j] - b0[j]));
    }
  }
  trainer.dispose();
  model.dispose();
  tf.dispose(Object.values(inputs));
  ex.dispose();
  return {
    names,
    forward,
    loss: loss.map((l, i) => Math.abs(l - refLoss[i]) / Math.abs(refLoss[i])),
    grads: gradErr,
    norm,
    weights: wNum / wDen,
    updates: uNum / uDen,
    layoutMismatch,
  };
}
