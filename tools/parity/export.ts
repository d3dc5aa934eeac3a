/**
 * Parity export (issue 3, closing note): for DMM, Decision Mamba and DT at their hopper configurations,
 * writes the kit's weights, one batch of inputs and the kit's results (eval-mode predictions, masked
 * MSE, gradients w.r.t. the inputs and every parameter) as safetensors under tools/parity/data/.
 * `parity.py` rebuilds each model in PyTorch from the spec and compares.
 *
 * Usage: node --import tsx tools/parity/export.ts [--out tools/parity/data] [--seed 0] [--jitter 0.05]
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import type { ModelName } from '../../src/config/names';
import { EnvDims, ModelInputs, createModel, maskedActionLoss, saveModelWeights } from '../../src/models';
import { encodeSafetensors, tensorsToRecords } from '../../src/nn';
import { writeFileAtomic } from '../../src/util/atomic';
import { Rng, deriveSeed } from '../../src/util/rng';

const HOPPER: EnvDims = { stateDim: 11, actDim: 3 };
const CASES: { name: ModelName; config: Record<string, unknown> }[] = [
  { name: 'dmm', config: {} }, // D=64, K=8
  { name: 'dmamba', config: { hiddenSize: 128 } }, // K=20
  { name: 'dt', config: {} }, // D=128, K=20
];

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

function normal(rng: Rng, shape: number[], std = 1, mean = 0): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = mean + std * rng.normal();
  return tf.tensor(v, shape);
}

/** One batch with training-style left padding in window 0 (states −μ/σ stand-in, actions −10, mask 0). */
function batch(rng: Rng, b: number, k: number): ModelInputs & { target: tf.Tensor } {
  const pad = 2;
  const mask = new Float32Array(b * k).fill(1);
  for (let t = 0; t < pad; t++) mask[t] = 0;
  const ts = new Int32Array(b * k);
  for (let i = 0; i < b; i++) {
    const start = rng.int(900);
    for (let t = 0; t < k; t++) ts[i * k + t] = i === 0 && t < pad ? 0 : start + t;
  }
  const actions = normal(rng, [b, k, HOPPER.actDim], 0.5).clipByValue(-1, 1);
  const padA = tf.tensor(mask, [b, k, 1]);
  return {
    states: normal(rng, [b, k, HOPPER.stateDim]),
    actions: actions.mul(padA).add(tf.scalar(1).sub(padA).mul(-10)),
    returnsToGo: normal(rng, [b, k, 1], 0.5, 1),
    timesteps: tf.tensor(ts, [b, k], 'int32'),
    mask: tf.tensor(mask, [b, k]),
    target: normal(rng, [b, k, HOPPER.actDim], 0.5).clipByValue(-1, 1),
  };
}

async function main(): Promise<void> {
  await initBackend();
  const out = arg('out', path.join(__dirname, 'data'));
  const seed = Number(arg('seed', '0'));
  const jitter = Number(arg('jitter', '0.05'));
  fs.mkdirSync(out, { recursive: true });
  for (const c of CASES) {
    const model = createModel(c.name, c.config as never, HOPPER, seed);
    // Perturb the official init (b_dt = 0, N(0, 0.02²) weights) so that every term of the forward matters.
    const rng = new Rng(deriveSeed(seed, 'parity', c.name));
    for (const v of model.trainableParameters().values()) v.assign(tf.tidy(() => v.add(normal(rng, v.shape, jitter))));
    const k = (model.config as { contextLength: number }).contextLength;
    const x = batch(rng, 4, k);
    const pred = model.forward(x, { training: false });
    const lossFn = (s: tf.Tensor, a: tf.Tensor, r: tf.Tensor) =>
      maskedActionLoss(
        model.forward({ ...x, states: s, actions: a, returnsToGo: r }, { training: false }),
        x.target,
        x.mask,
      );
    const [gS, gA, gR] = tf.grads(lossFn)([x.states, x.actions, x.returnsToGo]);
    const { value: loss, grads } = tf.variableGrads(
      () => lossFn(x.states, x.actions, x.returnsToGo),
      [...model.trainableParameters().values()],
    );
    const paramGrads = new Map(
      [...model.trainableParameters()].map(([name, v]) => [`grad.${name}`, grads[v.name] ?? tf.zerosLike(v)]),
    );
    writeFileAtomic(
      path.join(out, `${c.name}.weights.safetensors`),
      saveModelWeights(model, { jitter: String(jitter), seed: String(seed) }),
    );
    const inputs = new Map<string, tf.Tensor>([
      ['states', x.states],
      ['actions', x.actions],
      ['returns_to_go', x.returnsToGo],
      ['timesteps', x.timesteps],
      ['mask', x.mask],
      ['target', x.target],
    ]);
    const results = new Map<string, tf.Tensor>([
      ['pred', pred],
      ['loss', loss.reshape([1])],
      ['grad_input.states', gS],
      ['grad_input.actions', gA],
      ['grad_input.returns_to_go', gR],
      ...paramGrads,
    ]);
    writeFileAtomic(
      path.join(out, `${c.name}.inputs.safetensors`),
      encodeSafetensors(tensorsToRecords(inputs), { config: JSON.stringify(model.config) }),
    );
    writeFileAtomic(
      path.join(out, `${c.name}.kit.safetensors`),
      encodeSafetensors(tensorsToRecords(results), { backend: tf.getBackend() }),
    );
    console.log(
      `${c.name}: ${model.parameterCount()} parameters, K=${k}, loss ${loss.dataSync()[0].toFixed(6)} → ${out}`,
    );
    model.dispose();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
