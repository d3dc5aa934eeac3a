/**
 * selectiveScanTokens (token-major: u, delta, z, out [B, L, d]; B, C [B, L, N]) against the float64
 * reference on fresh random inputs, forward and every gradient: relative errors per output, as
 * test/helpers/scan-check.ts does for the channel-major op.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectiveScanTokens, type ScanPath } from '../../src/ops/scan';
import { SCAN_INPUT_NAMES } from '../../src/ops/scan/kernel-names';
import { scanBackwardReference, scanForwardReference, type ScanDims } from '../../src/ops/scan/reference';
import { randomScanCase, relError, type CaseOptions } from '../helpers/scan-inputs';

/** [batch, p, q] → [batch, q, p] (float64). */
function swap(src: ArrayLike<number>, batch: number, p: number, q: number): Float64Array {
  const dst = new Float64Array(batch * p * q);
  for (let b = 0; b < batch; b++)
    for (let i = 0; i < p; i++) for (let j = 0; j < q; j++) dst[(b * q + j) * p + i] = src[(b * p + i) * q + j];
  return dst;
}

export async function tokenMajorErrors(path: ScanPath, dims: ScanDims, seed: number, opts: CaseOptions) {
  const c = randomScanCase(dims, seed, opts);
  const { batch, dim, len, nState: N } = dims;
  // The reference's channel-major arrays in token-major order, and the matching shapes.
  const tm: Record<string, { data: ArrayLike<number>; shape: number[] }> = {
    u: { data: swap(c.x.u, batch, dim, len), shape: [batch, len, dim] },
    delta: { data: swap(c.x.delta, batch, dim, len), shape: [batch, len, dim] },
    A: { data: c.x.A, shape: [dim, N] },
    B: { data: swap(c.x.B, batch, N, len), shape: [batch, len, N] },
    C: { data: swap(c.x.C, batch, N, len), shape: [batch, len, N] },
  };
  if (c.x.D) tm.D = { data: c.x.D, shape: [dim] };
  if (c.x.z) tm.z = { data: swap(c.x.z, batch, dim, len), shape: [batch, len, dim] };
  if (c.x.deltaBias) tm.deltaBias = { data: c.x.deltaBias, shape: [dim] };
  const names = SCAN_INPUT_NAMES.filter((n) => tm[n] !== undefined);
  const ts = names.map((n) => tf.tensor(Float32Array.from(tm[n].data), tm[n].shape));
  const get = (xs: tf.Tensor[], n: string) => (names.includes(n as never) ? xs[names.indexOf(n as never)] : undefined);
  const f = (...xs: tf.Tensor[]): tf.Tensor =>
    selectiveScanTokens(
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
  const dy = tf.tensor(Float32Array.from(swap(c.G, batch, dim, len)), [batch, len, dim]);
  const out = f(...ts);
  assert.deepEqual(out.shape, [batch, len, dim]);
  const grads = tf.grads(f)(ts, dy);
  const errors: Record<string, number> = {};
  errors.out = relError(await out.data(), swap(scanForwardReference(c.x, dims, c.deltaSoftplus), batch, dim, len));
  const ref = scanBackwardReference(c.x, dims, c.G, c.deltaSoftplus);
  for (let k = 0; k < names.length; k++) {
    const n = names[k];
    const r = ref[n]!;
    const want =
      n === 'u' || n === 'delta' || n === 'z'
        ? swap(r, batch, dim, len)
        : n === 'B' || n === 'C'
          ? swap(r, batch, N, len)
          : r;
    errors[`d${n}`] = relError(await grads[k].data(), want);
  }
  tf.dispose([...ts, dy, out, ...grads]);
  return errors;
}
