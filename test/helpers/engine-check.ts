/**
 * Engine-against-tfjs parity for one DMM configuration: identical weights and batches, dropout on.
 *
 * `referenceRun` is the tfjs side: the kit's own Trainer (forward, masked MSE, clip, AdamW) for `steps`
 * steps, plus tf.variableGrads of the first step. `engineRun` is the engine side: a program run by an
 * executor; it needs no tfjs, so the WebGPU check runs it inside headless Chromium (tools/webgpu) on the
 * plain data `referenceRun` returns. `compareRuns` gives relative errors, max |engine − tfjs| / max |tfjs|.
 */
import * as tf from '@tensorflow/tfjs';
import { createModel, maskedActionLoss, type DmmConfig, type EnvDims } from '../../src/models';
import { warmupLearningRate } from '../../src/train/adamw';
import { resolveTrainConfig, Trainer, type TrainConfig } from '../../src/train/trainer';
import type { Batch, BatchSource } from '../../src/train/deps';
import { Rng, deriveSeed } from '../../src/util/rng';
import { buildDmmProgram } from '../../src/engine/models/dmm';
import { CpuExecutor } from '../../src/engine/cpu/executor';
import { stepScalars, writeStep, type Executor } from '../../src/engine/executor';
import type { Program } from '../../src/engine/program';
import { readWeights, writeWeights } from '../../src/engine/weights';

export interface ParityCase {
  config: Partial<DmmConfig>;
  dims: EnvDims;
  batch: number;
  seed: number;
  /** Windows whose first steps are padding (training's padding: actions −10, states −μ/σ, mask 0). */
  padded?: boolean;
  steps?: number;
}

type Named = Record<string, number[] | Float32Array>;

/** What both sides share and what the tfjs side computed. */
export interface ReferenceRun {
  config: DmmConfig;
  train: TrainConfig;
  batches: Batch[];
  before: Named;
  pred: Float32Array;
  grads: Named;
  norm: number;
  loss: number[];
  after: Named;
  /** Parameter names and shapes in the model's registration order. */
  layout: [string, number[]][];
}

export interface EngineRunResult {
  pred: Float32Array;
  grads: Named;
  norm: number;
  loss: number[];
  after: Named;
  layout: [string, number[]][];
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

export function writeBatch(ex: Executor, b: Batch): void {
  const i = ex.program.inputs;
  ex.write(i.states, b.states);
  ex.write(i.actions, b.actions);
  ex.write(i.returnsToGo, b.returnsToGo);
  ex.write(i.mask, b.mask);
}

function weightsOf(model: ReturnType<typeof createModel>): Named {
  const out: Named = {};
  for (const [name, v] of model.trainableParameters()) out[name] = Float32Array.from(v.dataSync());
  for (const [name, v] of model.frozenTensors()) out[name] = Float32Array.from(v.dataSync());
  return out;
}

export function referenceRun(c: ParityCase): ReferenceRun {
  const model = createModel('dmm', c.config as never, c.dims, c.seed);
  const config = model.config as DmmConfig;
  const K = config.contextLength;
  const steps = c.steps ?? 3;
  const batches = Array.from({ length: steps }, (_, i) =>
    syntheticBatch(c.dims, c.batch, K, c.seed + 100 + i, c.padded),
  );
  const train = resolveTrainConfig({
    batchSize: c.batch,
    learningRate: 1e-3,
    warmupSteps: 2,
    iterations: 1,
    stepsPerIteration: steps,
  });
  const before = weightsOf(model);
  const b0 = batches[0];
  const inputs = {
    states: tf.tensor3d(b0.states, [c.batch, K, c.dims.stateDim]),
    actions: tf.tensor3d(b0.actions, [c.batch, K, c.dims.actDim]),
    returnsToGo: tf.tensor3d(b0.returnsToGo, [c.batch, K, 1]),
    timesteps: tf.tensor2d(b0.timesteps, [c.batch, K], 'int32'),
    mask: tf.tensor2d(b0.mask, [c.batch, K]),
  };
  // The first step's forward output and raw gradients, with the Trainer's dropout seed for step 1.
  const dropoutSeed = deriveSeed(c.seed, 'dropout', 1);
  const out = model.forward(inputs, { training: true, dropoutSeed });
  const pred = Float32Array.from(out.dataSync());
  const params = model.trainableParameters();
  const vars = [...params.values()];
  const { grads: g } = tf.variableGrads(
    () => maskedActionLoss(model.forward(inputs, { training: true, dropoutSeed }), inputs.actions, inputs.mask),
    vars,
  );
  const grads: Named = {};
  let sq = 0;
  [...params.keys()].forEach((name, i) => {
    const v = Float32Array.from(g[vars[i].name].dataSync());
    grads[name] = v;
    for (const x of v) sq += x * x;
  });
  tf.dispose([out, ...Object.values(g), ...Object.values(inputs)]);
  let next = 0;
  const source: BatchSource = { sample: () => batches[next++], getState: () => null, setState: () => {} };
  const trainer = new Trainer(model, source, train, c.seed, maskedActionLoss);
  const loss: number[] = [];
  for (let i = 0; i < steps; i++) {
    const l = trainer.trainStep();
    loss.push(l.dataSync()[0]);
    l.dispose();
  }
  const after = weightsOf(model);
  const layout: [string, number[]][] = [...params].map(([name, v]) => [name, v.shape.slice()]);
  trainer.dispose();
  model.dispose();
  return { config, train, batches, before, pred, grads, norm: Math.sqrt(sq), loss, after, layout };
}

/** The engine side: build, load the weights, run the steps, read back. Uses no tfjs. */
export async function engineRun(
  ref: Pick<ReferenceRun, 'config' | 'train' | 'batches' | 'before'>,
  c: Pick<ParityCase, 'dims' | 'batch' | 'seed'>,
  executor: (p: Program) => Executor | Promise<Executor> = (p) => new CpuExecutor(p),
  target: 'cpu' | 'gpu' = 'cpu',
): Promise<EngineRunResult> {
  const program = buildDmmProgram(ref.config, c.dims, {
    batchSize: c.batch,
    training: true,
    target,
    weightDecay: ref.train.weightDecay,
    gradClip: ref.train.gradClip,
  });
  const ex = await executor(program);
  writeWeights(ex, new Map(Object.entries(ref.before).map(([k, v]) => [k, Float32Array.from(v)])));
  const loss: number[] = [];
  let pred = new Float32Array(0);
  const grads: Named = {};
  let norm = 0;
  for (let i = 0; i < ref.batches.length; i++) {
    writeBatch(ex, ref.batches[i]);
    const k = i + 1;
    writeStep(
      ex,
      stepScalars(program, c.seed, k, warmupLearningRate(k, ref.train.learningRate, ref.train.warmupSteps)),
    );
    ex.run();
    loss.push((await ex.read(program.outputs.loss))[0]);
    if (i === 0) {
      pred = await ex.read(program.outputs.pred);
      const all = await ex.read(program.arena.get('grads'));
      const base = program.arena.get('params').offset;
      for (const [name, r] of program.params) grads[name] = all.slice(r.offset - base, r.offset - base + r.size);
      norm = (await ex.read(program.outputs.gradNorm))[0];
    }
  }
  const after: Named = Object.fromEntries(await readWeights(ex));
  const layout: [string, number[]][] = [...program.params].map(([name, r]) => [name, r.shape!.slice()]);
  ex.dispose();
  return { pred, grads, norm, loss, after, layout };
}

/** max |a − b| / max |b|. */
function rel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 1e-30;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return a.length === b.length ? num / den : Infinity;
}

export interface ParityErrors {
  forward: number;
  /** Worst gradient error, and the parameter it belongs to. */
  grad: number;
  gradName: string;
  norm: number;
  loss: number;
  weights: number;
  /** The weights' change over the steps: max |Δ_engine − Δ_tfjs| / max |Δ_tfjs| (sign-sensitive for g ≈ 0). */
  updates: number;
  layoutOk: boolean;
}

export function compareRuns(ref: ReferenceRun, eng: EngineRunResult): ParityErrors {
  let grad = 0;
  let gradName = '';
  for (const [name] of ref.layout) {
    const e = rel(eng.grads[name] ?? [], ref.grads[name]);
    if (!(e <= grad)) [grad, gradName] = [e, name];
  }
  const flat = (x: Named, names: string[]) => names.flatMap((n) => Array.from(x[n]));
  const names = ref.layout.map(([n]) => n);
  const b0 = flat(ref.before, names);
  const ra = flat(ref.after, names);
  const ea = flat(eng.after, names);
  return {
    forward: rel(eng.pred, ref.pred),
    grad,
    gradName,
    norm: Math.abs(eng.norm - ref.norm) / ref.norm,
    loss: Math.max(...ref.loss.map((l, i) => Math.abs(eng.loss[i] - l) / Math.abs(l))),
    weights: rel(ea, ra),
    updates: rel(
      ea.map((v, i) => v - b0[i]),
      ra.map((v, i) => v - b0[i]),
    ),
    layoutOk: JSON.stringify(eng.layout) === JSON.stringify(ref.layout),
  };
}
