/**
 * Engine-against-tfjs parity for one model configuration (DMM or Decision Mamba): identical weights and
 * batches, dropout on.
 *
 * `referenceRun` is the tfjs side: the kit's own Trainer (forward, masked MSE, clip, AdamW) for `steps`
 * steps, plus tf.variableGrads of the first step. `engineRun` is the engine side: a program run by an
 * executor; it needs no tfjs, so the WebGPU check runs it inside headless Chromium (tools/webgpu) on the
 * plain data `referenceRun` returns. `compareRuns` gives relative errors, max |engine − tfjs| / max |tfjs|.
 */
import * as tf from '@tensorflow/tfjs';
import {
  createModel,
  maskedActionLoss,
  type DcConfig,
  type DmambaConfig,
  type DmmConfig,
  type DtConfig,
  type EnvDims,
} from '../../src/models';
import { resolveTrainConfig } from '../../src/config/train';
import { Trainer } from '../../src/train/trainer';
import type { BatchSource } from '../../src/train/deps';
import { deriveSeed } from '../../src/util/rng';
import { syntheticBatch, type EngineInputs, type EngineRunResult, type Named } from './engine-run';

export interface ParityCase {
  /** Default 'dmm'. */
  model?: 'dmm' | 'dmamba' | 'dc' | 'dt';
  config: Partial<DmmConfig> | Partial<DmambaConfig> | Partial<DcConfig> | Partial<DtConfig>;
  dims: EnvDims;
  batch: number;
  seed: number;
  /** Windows whose first steps are padding (training's padding: actions −10, states −μ/σ, mask 0). */
  padded?: boolean;
  steps?: number;
}

/** What both sides share and what the tfjs side computed. */
export interface ReferenceRun extends EngineInputs {
  pred: Float32Array;
  grads: Named;
  norm: number;
  loss: number[];
  after: Named;
  /** Parameter names and shapes in the model's registration order. */
  layout: [string, number[]][];
}

function weightsOf(model: ReturnType<typeof createModel>): Named {
  const out: Named = {};
  for (const [name, v] of model.trainableParameters()) out[name] = Float32Array.from(v.dataSync());
  for (const [name, v] of model.frozenTensors()) out[name] = Float32Array.from(v.dataSync());
  return out;
}

export function referenceRun(c: ParityCase): ReferenceRun {
  const name = c.model ?? 'dmm';
  const model = createModel(name, c.config as never, c.dims, c.seed);
  const config = model.config as DmmConfig | DmambaConfig | DcConfig | DtConfig;
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
    // A parameter the loss never reaches (DT's wte and extra heads) has no gradient: zeros here.
    const gi = g[vars[i].name];
    const v = gi ? Float32Array.from(gi.dataSync()) : new Float32Array(vars[i].size);
    grads[name] = v;
    for (const x of v) sq += x * x;
  });
  tf.dispose([out, ...Object.values(g), ...Object.values(inputs)]);
  let next = 0;
  const source: BatchSource = { sample: () => batches[next++], getState: () => null, setState: () => {} };
  const trainer = new Trainer(model, source, train, c.seed, maskedActionLoss, { engine: 'tfjs' });
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
  return { model: name, config, train, batches, before, pred, grads, norm: Math.sqrt(sq), loss, after, layout };
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
