/**
 * Decoupled AdamW as PyTorch's `torch.optim.AdamW` computes it (docs/spec.md §9), because tfjs has none.
 * One parameter group over every trainable parameter (docs/spec.md quirk 9: decay also hits LN, biases, embeddings,
 * A_log and D). Per step k (1-based), in PyTorch's order:
 *   θ ← θ·(1 − lr·wd);  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;
 *   θ ← θ − (lr/(1−β₁ᵏ)) · m / (√v/√(1−β₂ᵏ) + ε)          (ε after the bias correction)
 */
import type { Scalar, Tensor, Variable } from '@tensorflow/tfjs';
import { addMany, tf } from '../backend';
import { check } from '../util/check';
import { applyAdamWTyped, clipGlobalNormTyped, typedAdamWApplies } from './adamw-typed';

export interface AdamWConfig {
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
}

export const ADAMW_DEFAULTS: Readonly<AdamWConfig> = Object.freeze({
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
  weightDecay: 1e-4,
});

/** Optimiser state as plain arrays, for checkpoints. */
export interface AdamWState {
  step: number;
  m: Record<string, { shape: number[]; data: Float32Array }>;
  v: Record<string, { shape: number[]; data: Float32Array }>;
}

export class AdamW {
  readonly config: Readonly<AdamWConfig>;
  /** Optimiser steps taken so far (k of the last update). */
  step = 0;
  private readonly params: Map<string, Variable>;
  private readonly m = new Map<string, Variable>();
  private readonly v = new Map<string, Variable>();

  constructor(params: Map<string, Variable>, config: Partial<AdamWConfig> = {}) {
    this.config = Object.freeze({ ...ADAMW_DEFAULTS, ...config });
    this.params = params;
    for (const [name, p] of params) {
      const zeros = tf.zerosLike(p);
      this.m.set(name, tf.variable(zeros, false));
      this.v.set(name, tf.variable(zeros, false));
      zeros.dispose(); // the variables hold their own reference to the data
    }
  }

  /** One update with learning rate `lr` from `grads` (keyed like the parameters; missing = no gradient). Does not dispose grads. */
  apply(grads: Map<string, Tensor>, lr: number): void {
    this.step += 1;
    const { beta1, beta2, epsilon, weightDecay } = this.config;
    // Scalars computed in float64 like PyTorch's Python floats, then used in float32 ops.
    const stepSize = lr / (1 - Math.pow(beta1, this.step));
    const bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, this.step));
    const decay = 1 - lr * weightDecay;
    // cpu/wasm: the same float32 arithmetic in typed-array loops, far fewer kernel calls (adamw-typed.ts).
    if (typedAdamWApplies()) {
      const scalars = { beta1, beta2, epsilon, decay, stepSize, bc2Sqrt };
      return applyAdamWTyped(this.params, { m: this.m, v: this.v }, grads, scalars);
    }
    tf.tidy(() => {
      for (const [name, p] of this.params) {
        // PyTorch skips a parameter whose .grad is None: no decay, no moment update (DT's unused wte and heads).
        const g = grads.get(name);
        if (!g) continue;
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        const mNew = m.mul(beta1).add(g.mul(1 - beta1));
        const vNew = v.mul(beta2).add(g.square().mul(1 - beta2));
        const denom = vNew.sqrt().div(bc2Sqrt).add(epsilon);
        const pNew = p.mul(decay).sub(mNew.div(denom).mul(stepSize));
        m.assign(mNew);
        v.assign(vNew);
        p.assign(pNew);
      }
    });
  }

  /** The moment tensors (m then v), for `downloadForSyncRead` before `getState` on a GPU backend. */
  stateTensors(): Tensor[] {
    return [...this.m.values(), ...this.v.values()];
  }

  getState(): AdamWState {
    const read = (vars: Map<string, Variable>) => {
      const out: AdamWState['m'] = {};
      for (const [name, t] of vars) out[name] = { shape: t.shape.slice(), data: t.dataSync() as Float32Array };
      return out;
    };
    return { step: this.step, m: read(this.m), v: read(this.v) };
  }

  setState(state: AdamWState): void {
    check(
      Number.isInteger(state.step) && state.step >= 0,
      () => `Error in AdamW.setState: step must be a non-negative integer, got ${state.step}.`,
    );
    for (const [label, vars, src] of [
      ['m', this.m, state.m],
      ['v', this.v, state.v],
    ] as const) {
      for (const [name, t] of vars) {
        const s = src[name];
        check(
          s,
          () =>
            `Error in AdamW.setState: optimizer state '${label}.${name}' must be present, got none. The checkpoint was written for a different model.`,
        );
        check(
          s.data.length === t.size,
          () =>
            `Error in AdamW.setState: '${label}.${name}' must have ${t.size} values, got ${s.data.length}. The checkpoint was written for a different model.`,
        );
        const values = tf.tensor(s.data, t.shape, 'float32');
        t.assign(values);
        values.dispose();
      }
    }
    this.step = state.step;
  }

  dispose(): void {
    for (const t of this.m.values()) t.dispose();
    for (const t of this.v.values()) t.dispose();
  }
}

export { warmupLearningRate } from './schedule';

/**
 * Global L2 gradient-norm clipping as `torch.nn.utils.clip_grad_norm_` (docs/spec.md §9): g ← g·c with
 * c = min(maxNorm/(‖g‖ + 1e-6), 1) over all parameters together. Returns new tensors and the norm
 * (a scalar tensor, not read back so GPU backends need no sync).
 */
export function clipGlobalNorm(
  grads: Map<string, Tensor>,
  maxNorm: number,
): { grads: Map<string, Tensor>; norm: Scalar } {
  if (typedAdamWApplies()) return clipGlobalNormTyped(grads, maxNorm); // cpu/wasm: no per-parameter kernels
  const out = new Map<string, Tensor>();
  const norm = tf.tidy(() => addMany([...grads.values()].map((g) => g.square().sum())).sqrt() as Scalar);
  const coef = tf.tidy(() => tf.minimum(tf.scalar(maxNorm).div(norm.add(1e-6)), 1));
  for (const [name, g] of grads) out.set(name, g.mul(coef));
  coef.dispose();
  return { grads: out, norm };
}
