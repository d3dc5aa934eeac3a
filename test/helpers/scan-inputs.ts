/**
 * Fresh random selective-scan inputs for the scan tests and benchmarks, and a relative-error measure.
 * Ranges follow the models: A = −exp(·) < 0, Δ = softplus(δ + β) around 0.001–0.5, B, C, u, z ~ N(0,1).
 */
import { Rng } from '../../src/util/rng';
import type { ScanArrays, ScanDims } from '../../src/ops/scan/reference';

export interface ScanCase {
  dims: ScanDims;
  x: ScanArrays & {
    u: Float64Array;
    delta: Float64Array;
    A: Float64Array;
    B: Float64Array;
    C: Float64Array;
  };
  G: Float64Array;
  deltaSoftplus: boolean;
}

export interface CaseOptions {
  D?: boolean;
  z?: boolean;
  deltaBias?: boolean;
  deltaSoftplus?: boolean;
}

function fill(n: number, f: () => number): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = f();
  return a;
}

/** A random case; all three optional inputs on unless switched off. */
export function randomScanCase(dims: ScanDims, seed: number, opts: CaseOptions = {}): ScanCase {
  const rng = new Rng(seed);
  const { batch, dim, len, nState: N } = dims;
  const size = batch * dim * len;
  const sp = opts.deltaSoftplus ?? true;
  const x: ScanCase['x'] = {
    u: fill(size, () => rng.normal()),
    // softplus(δ + β) spans about 0.005 to 0.7; without softplus δ itself must be a positive step.
    delta: fill(size, () => (sp ? rng.normal() * 0.5 - 1 : rng.range(0.01, 0.3))),
    A: fill(dim * N, () => -Math.exp(rng.range(-1, 1.5))),
    B: fill(batch * N * len, () => rng.normal()),
    C: fill(batch * N * len, () => rng.normal()),
  };
  if (opts.D ?? true) x.D = fill(dim, () => rng.normal());
  if (opts.z ?? true) x.z = fill(size, () => rng.normal());
  if (opts.deltaBias ?? true) x.deltaBias = fill(dim, () => (sp ? rng.range(-4, 0) : 0));
  return { dims, x, G: fill(size, () => rng.normal()), deltaSoftplus: sp };
}

/** max |a − b| / max(max |b|, tiny): relative to the scale of the reference. */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let num = 0;
  let den = 1e-30;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]);
    num = Number.isNaN(e) ? Infinity : Math.max(num, e);
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}
