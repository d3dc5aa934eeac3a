/**
 * Runs one selective-scan path through tfjs on the active backend and compares its forward output and
 * every gradient with the float64 reference (relative error, see scan-inputs.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { selectiveScan, type ScanPath } from '../../src/ops/scan';
import { SCAN_INPUT_NAMES } from '../../src/ops/scan/kernel-names';
import { scanBackwardReference, scanForwardReference, type ScanDims } from '../../src/ops/scan/reference';
import { randomScanCase, relError, type CaseOptions } from './scan-inputs';

export interface PathErrors {
  [output: string]: number;
}

/** Relative errors of `path` against the reference: 'out' and one entry per gradient. Reads back asynchronously. */
export async function pathErrors(
  path: ScanPath,
  dims: ScanDims,
  seed: number,
  opts: CaseOptions = {},
): Promise<PathErrors> {
  const c = randomScanCase(dims, seed, opts);
  const { batch, dim, len, nState: N } = dims;
  const shapes: Record<string, number[]> = {
    u: [batch, dim, len],
    delta: [batch, dim, len],
    A: [dim, N],
    B: [batch, N, len],
    C: [batch, N, len],
    D: [dim],
    z: [batch, dim, len],
    deltaBias: [dim],
  };
  const names = SCAN_INPUT_NAMES.filter((n) => c.x[n] !== undefined);
  const ts = names.map((n) => tf.tensor(Float32Array.from(c.x[n] as Float64Array), shapes[n]));
  const get = (xs: tf.Tensor[], n: string): tf.Tensor | undefined =>
    names.includes(n as never) ? xs[names.indexOf(n as never)] : undefined;
  const f = (...xs: tf.Tensor[]): tf.Tensor =>
    selectiveScan(
      get(xs, 'u')!,
      get(xs, 'delta')!,
      get(xs, 'A')!,
      get(xs, 'B')!,
      get(xs, 'C')!,
      get(xs, 'D'),
      get(xs, 'z'),
      get(xs, 'deltaBias'),
      c.deltaSoftplus,
      path,
    );
  const dy = tf.tensor(Float32Array.from(c.G), [batch, dim, len]);
  const out = f(...ts);
  const grads = tf.grads(f)(ts, dy);
  const errors: PathErrors = {};
  errors.out = relError(await out.data(), scanForwardReference(c.x, dims, c.deltaSoftplus));
  const ref = scanBackwardReference(c.x, dims, c.G, c.deltaSoftplus);
  for (let k = 0; k < names.length; k++) errors[`d${names[k]}`] = relError(await grads[k].data(), ref[names[k]]!);
  tf.dispose([...ts, dy, out, ...grads]);
  return errors;
}

/** The shapes every path is checked on (issue 7: L=1, odd L, L=24, L=3000 at small B·d; N=16). */
export const CHECK_SHAPES: { dims: ScanDims; opts: CaseOptions }[] = [
  { dims: { batch: 2, dim: 3, len: 1, nState: 16 }, opts: {} },
  { dims: { batch: 2, dim: 5, len: 7, nState: 16 }, opts: {} },
  { dims: { batch: 3, dim: 4, len: 24, nState: 16 }, opts: {} },
  {
    dims: { batch: 2, dim: 4, len: 13, nState: 16 },
    opts: { D: false, z: false, deltaBias: false },
  },
  {
    dims: { batch: 2, dim: 3, len: 9, nState: 4 },
    opts: { deltaSoftplus: false, z: false },
  },
  { dims: { batch: 1, dim: 2, len: 3000, nState: 16 }, opts: {} },
];
