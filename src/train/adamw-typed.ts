/**
 * AdamW's update in typed-array loops for the `cpu` and `wasm` backends, where a tensor op costs far more
 * than its arithmetic: the tf-op path of adamw.ts runs ~12 kernels per parameter (~500 per DMM step);
 * this one reads θ, g, m and v once and writes each back with one assign.
 *
 * Every operation is rounded to float32 (Math.fround) in the order AdamW.apply's ops use, with the same
 * float32 scalars, so the two paths agree bit for bit (test/train/adamw-typed.test.ts). WebGPU keeps the
 * tf ops (a read-back would stall the GPU). DMM_ADAMW=tf forces the tf ops on cpu and wasm as well.
 * The global-norm clip that precedes AdamW has a typed path here too (clipGlobalNormTyped).
 */
import type { Scalar, Tensor, Variable } from '@tensorflow/tfjs';
import { tf } from '../backend';
import { check } from '../util/check';

const fr = Math.fround;

/** Per-step scalars of AdamW.apply (float64, as PyTorch computes them; rounded to float32 where used). */
export interface AdamWStepScalars {
  beta1: number;
  beta2: number;
  epsilon: number;
  /** 1 − lr·wd */
  decay: number;
  /** lr / (1 − β₁ᵏ) */
  stepSize: number;
  /** √(1 − β₂ᵏ) */
  bc2Sqrt: number;
}

/** Whether AdamW.apply should take the typed path on the active backend. */
export function typedAdamWApplies(): boolean {
  const forced = typeof process !== 'undefined' ? process.env?.DMM_ADAMW : undefined;
  check(
    forced === undefined || forced === '' || forced === 'tf' || forced === 'typed',
    () => `Error in AdamW.apply: DMM_ADAMW must be 'tf' or 'typed', got '${forced}'. Unset it for the default.`,
  );
  const backend = tf.getBackend();
  if (forced === 'tf') return false;
  return backend === 'cpu' || backend === 'wasm';
}

/**
 * One AdamW update of one parameter in place: θ, m, v are overwritten. Mirrors, op for op,
 *   m ← m·β₁ + g·(1−β₁);  v ← v·β₂ + g²·(1−β₂);  θ ← θ·decay − (m / (√v / bc2Sqrt + ε))·stepSize.
 */
export function adamwArrays(
  theta: Float32Array,
  grad: ArrayLike<number>,
  m: Float32Array,
  v: Float32Array,
  s: AdamWStepScalars,
): void {
  const b1 = fr(s.beta1);
  const c1 = fr(1 - s.beta1);
  const b2 = fr(s.beta2);
  const c2 = fr(1 - s.beta2);
  const eps = fr(s.epsilon);
  const decay = fr(s.decay);
  const stepSize = fr(s.stepSize);
  const bc2 = fr(s.bc2Sqrt);
  for (let i = 0; i < theta.length; i++) {
    const g = grad[i];
    const mi = fr(fr(m[i] * b1) + fr(g * c1));
    const vi = fr(fr(v[i] * b2) + fr(fr(g * g) * c2));
    const denom = fr(fr(fr(Math.sqrt(vi)) / bc2) + eps);
    theta[i] = fr(theta[i] * decay) - fr(fr(mi / denom) * stepSize);
    m[i] = mi;
    v[i] = vi;
  }
}

/**
 * The typed path of AdamW.apply: for each parameter with a gradient, reads θ, g, m, v (copies: the cpu
 * backend's dataSync returns its own storage), updates them and assigns θ, m and v back.
 */
export function applyAdamWTyped(
  params: Map<string, Variable>,
  moments: { m: Map<string, Variable>; v: Map<string, Variable> },
  grads: Map<string, Tensor>,
  s: AdamWStepScalars,
): void {
  for (const [name, p] of params) {
    const g = grads.get(name);
    if (!g) continue; // as the tf path: no gradient, no decay, no moment update
    const mVar = moments.m.get(name)!;
    const vVar = moments.v.get(name)!;
    const theta = Float32Array.from(p.dataSync() as Float32Array);
    const m = Float32Array.from(mVar.dataSync() as Float32Array);
    const v = Float32Array.from(vVar.dataSync() as Float32Array);
    adamwArrays(theta, g.dataSync() as Float32Array, m, v, s);
    for (const [variable, values] of [
      [mVar, m],
      [vVar, v],
      [p, theta],
    ] as const) {
      const t = tf.tensor(values, variable.shape, 'float32');
      variable.assign(t);
      t.dispose();
    }
  }
}

/**
 * clipGlobalNorm's typed path (c = min(maxNorm/(‖g‖ + 1e-6), 1), g ← g·c): one read per gradient instead
 * of ~3 kernels per parameter. ‖g‖ is summed in float64, so it is as accurate as the tf path's float32
 * sum or more; c is rounded to float32 as the tf path's scalar is, and g·c to float32, so without
 * clipping (c = 1) the gradients come back unchanged and with it they agree to float32 rounding.
 */
export function clipGlobalNormTyped(
  grads: Map<string, Tensor>,
  maxNorm: number,
): { grads: Map<string, Tensor>; norm: Scalar } {
  const values = new Map<string, ArrayLike<number>>();
  let sumSq = 0;
  for (const [name, g] of grads) {
    const v = g.dataSync() as Float32Array;
    values.set(name, v);
    for (let i = 0; i < v.length; i++) sumSq += v[i] * v[i];
  }
  const norm = Math.sqrt(sumSq);
  const coef = fr(Math.min(maxNorm / (norm + 1e-6), 1));
  const out = new Map<string, Tensor>();
  for (const [name, g] of grads) {
    if (coef === 1) {
      out.set(name, g.clone());
      continue;
    }
    const v = values.get(name)!;
    const scaled = new Float32Array(v.length);
    for (let i = 0; i < v.length; i++) scaled[i] = v[i] * coef;
    out.set(name, tf.tensor(scaled, g.shape, 'float32'));
  }
  return { grads: out, norm: tf.scalar(norm) };
}
