/**
 * Initialisation rules of the spec (docs/spec.md §3.4, §5, §6), drawn from the kit's seeded `Rng` rather than
 * tfjs' global random state, so the same seed gives the same weights on every backend.
 *
 * - `backbone`: N(0, 0.02²) weights and zero biases (HF `_init_weights`, DMM `_init_weights`).
 * - `torch-default`: PyTorch's Linear/Conv1d default, weight and bias ~ U(±1/√fan_in).
 */
import { Rng } from '../util/rng';

export type LinearInit = 'backbone' | 'torch-default';

/** The std of the backbone's N(0, σ²) initialisation (GPT-2 `initializer_range`). */
export const BACKBONE_STD = 0.02;

export function normal(rng: Rng, n: number, std: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal() * std;
  return out;
}

export function uniform(rng: Rng, n: number, bound: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.range(-bound, bound);
  return out;
}

export function constant(n: number, value: number): Float32Array {
  return new Float32Array(n).fill(value);
}

/** Weight values for a layer with `fanIn` inputs under `init`. */
export function initWeight(rng: Rng, n: number, fanIn: number, init: LinearInit): Float32Array {
  return init === 'backbone' ? normal(rng, n, BACKBONE_STD) : uniform(rng, n, 1 / Math.sqrt(fanIn));
}

/** Bias values for a layer with `fanIn` inputs under `init`. */
export function initBias(rng: Rng, n: number, fanIn: number, init: LinearInit): Float32Array {
  return init === 'backbone' ? constant(n, 0) : uniform(rng, n, 1 / Math.sqrt(fanIn));
}

/** PyTorch softplus inverse: x + log(−expm1(−x)), for Mamba's dt bias. */
export function inverseSoftplus(y: number): number {
  return y + Math.log(-Math.expm1(-y));
}

/**
 * Mamba's own dt initialisation (`mamba-default`, docs/spec.md quirk 6): Δ ~ log-uniform[dtMin, dtMax], floored
 * at `floor`, stored as softplus⁻¹(Δ).
 */
export function mambaDtBias(rng: Rng, n: number, dtMin = 1e-3, dtMax = 0.1, floor = 1e-4): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const dt = Math.max(Math.exp(rng.uniform() * (Math.log(dtMax) - Math.log(dtMin)) + Math.log(dtMin)), floor);
    out[i] = inverseSoftplus(dt);
  }
  return out;
}
