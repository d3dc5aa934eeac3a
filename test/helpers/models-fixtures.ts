/**
 * Shared fixtures for the model tests: seeded inputs, tiny configs for every model and mixer, and a
 * directional central-difference check of gradients in float32.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import type { ModelName } from '../../src/config/names';
import { EnvDims, ModelInputs, SequenceModel, createModel } from '../../src/models';
import { Rng } from '../../src/util/rng';

export async function setupBackend(): Promise<void> {
  process.env.DMM_QUIET = '1';
  await initBackend();
}

export const TINY_DIMS: EnvDims = { stateDim: 3, actDim: 2 };

/** Tiny configurations: every model, every DMM mixer and switch. */
export const TINY_CASES: { label: string; name: ModelName; config: Record<string, unknown> }[] = [
  { label: 'dmm dense', name: 'dmm', config: { hiddenSize: 16, nLayer: 2, contextLength: 3, windowSize: 4 } },
  {
    label: 'dmm shared-frozen',
    name: 'dmm',
    config: { hiddenSize: 16, nLayer: 2, contextLength: 3, dsmMode: 'shared-frozen' },
  },
  { label: 'dmm mamba2', name: 'dmm', config: { hiddenSize: 32, nLayer: 1, contextLength: 3, globalMixer: 'mamba2' } },
  { label: 'dmm dc-conv', name: 'dmm', config: { hiddenSize: 16, nLayer: 2, contextLength: 3, tokenMixer: 'dc-conv' } },
  {
    label: 'dmm causal-conv',
    name: 'dmm',
    config: { hiddenSize: 16, nLayer: 2, contextLength: 3, tokenMixer: 'causal-conv' },
  },
  { label: 'dmm none', name: 'dmm', config: { hiddenSize: 16, nLayer: 2, contextLength: 3, tokenMixer: 'none' } },
  {
    label: 'dmm attention',
    name: 'dmm',
    config: { hiddenSize: 16, nLayer: 2, contextLength: 3, tokenMixer: 'attention' },
  },
  {
    label: 'dmm +timestep +conv4 +mlp, own LNs',
    name: 'dmm',
    config: {
      hiddenSize: 16,
      nLayer: 2,
      contextLength: 3,
      timestepEmbedding: true,
      mambaConv: 4,
      channelMlp: true,
      shareLayerNorm: false,
      maxEpLen: 20,
    },
  },
  { label: 'dmamba', name: 'dmamba', config: { hiddenSize: 16, nLayer: 2, contextLength: 3, maxEpLen: 20 } },
  {
    label: 'dmamba no-MLP',
    name: 'dmamba',
    config: { hiddenSize: 16, nLayer: 2, contextLength: 3, channelMlp: false, maxEpLen: 20, dtInit: 'mamba-default' },
  },
  { label: 'dt', name: 'dt', config: { hiddenSize: 16, nLayer: 2, contextLength: 3, maxEpLen: 20 } },
  { label: 'dt 2 heads', name: 'dt', config: { hiddenSize: 16, nLayer: 1, nHead: 2, contextLength: 3, maxEpLen: 20 } },
  { label: 'dc', name: 'dc', config: { hiddenSize: 16, nLayer: 2, contextLength: 3, maxEpLen: 20 } },
];

export function tinyModel(c: (typeof TINY_CASES)[number], seed = 7): SequenceModel {
  return createModel(c.name, c.config as never, TINY_DIMS, seed);
}

function randn(rng: Rng, n: number, std = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal() * std;
  return out;
}

/** Seeded inputs [B, K, ·]; `padded` zeroes the mask of the first step of window 0. */
export function randomInputs(
  dims: EnvDims,
  b: number,
  k: number,
  seed: number,
  maxEpLen = 20,
  padded = false,
): ModelInputs {
  const rng = new Rng(seed);
  const ts = new Int32Array(b * k);
  for (let i = 0; i < b * k; i++) ts[i] = rng.int(maxEpLen);
  const mask = new Float32Array(b * k).fill(1);
  if (padded) mask[0] = 0;
  return {
    states: tf.tensor(randn(rng, b * k * dims.stateDim), [b, k, dims.stateDim]),
    actions: tf.tensor(randn(rng, b * k * dims.actDim, 0.5), [b, k, dims.actDim]),
    returnsToGo: tf.tensor(randn(rng, b * k), [b, k, 1]),
    timesteps: tf.tensor(ts, [b, k], 'int32'),
    mask: tf.tensor(mask, [b, k]),
  };
}

export function disposeInputs(inputs: ModelInputs): void {
  tf.dispose([inputs.states, inputs.actions, inputs.returnsToGo, inputs.timesteps, inputs.mask]);
}

export function randomTensor(shape: number[], seed: number, std = 1): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(randn(new Rng(seed), n, std), shape);
}

/** max |a − b| / max(|b|_∞, floor). */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-12): number {
  let num = 0;
  let den = floor;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}

export interface DirectionalCheck {
  name: string;
  analytic: number;
  /** Central difference. */
  numeric: number;
  /** One-sided differences (f(θ + εv) − f(θ))/ε and (f(θ) − f(θ − εv))/ε: at a kink inside the step the
   * central difference averages the two sides' slopes, while autodiff gives one of them. */
  forward: number;
  backward: number;
}

/**
 * For each variable: a random direction v on that variable only; compares ∇f·v (autodiff) with the
 * central difference (f(θ + εv) − f(θ − εv)) / 2ε, ε = `eps`/‖v‖. f must be deterministic.
 */
export function directionalChecks(
  f: () => tf.Scalar,
  vars: Map<string, tf.Variable>,
  seed: number,
  eps = 1e-2,
): DirectionalCheck[] {
  const list = [...vars.values()];
  const { grads } = tf.variableGrads(f, list);
  const f0 = tf.tidy(() => f().dataSync()[0]);
  const out: DirectionalCheck[] = [];
  let i = 0;
  for (const [name, v] of vars) {
    const dir = randomTensor(v.shape, seed + i++);
    const unit = tf.tidy(() => dir.div(dir.norm()));
    const g = grads[v.name]; // absent when f does not depend on v
    const analytic = g ? tf.tidy(() => g.mul(unit).sum().dataSync()[0]) : 0;
    const orig = v.clone();
    v.assign(tf.tidy(() => orig.add(unit.mul(eps))));
    const fp = tf.tidy(() => f().dataSync()[0]);
    v.assign(tf.tidy(() => orig.sub(unit.mul(eps))));
    const fm = tf.tidy(() => f().dataSync()[0]);
    v.assign(orig);
    tf.dispose([orig, dir, unit]);
    out.push({ name, analytic, numeric: (fp - fm) / (2 * eps), forward: (fp - f0) / eps, backward: (f0 - fm) / eps });
  }
  tf.dispose(Object.values(grads));
  return out;
}

/**
 * Adds N(0, std²) noise to every trainable parameter, so that the tiny models' backbones (initialised
 * at N(0, 0.02²)) carry gradients large enough for a finite-difference check to be informative.
 */
export function jitterParameters(model: SequenceModel, seed: number, std = 0.2): void {
  let i = 0;
  for (const v of model.trainableParameters().values()) {
    const noise = randomTensor(v.shape, seed + i++, std);
    v.assign(tf.tidy(() => v.add(noise)));
    noise.dispose();
  }
}
