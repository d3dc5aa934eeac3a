/**
 * The DSM's causal window op (src/models/dense-sequence-mixer.ts): the cpu/wasm kernel and the composite
 * (pad, slices, concat) against float64 plain-JS definitions on fresh random inputs, forward and gradient.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { causalWindows } from '../../src/ops/causal-windows/causal-windows';
import { CausalWindows } from '../../src/ops/causal-windows/kernel-names';
import { randomTensor, relErr, setupBackend } from '../helpers/models-fixtures';

/** out[b, i, j·D + c] = u[b, i − k + 1 + j, c] (0 before the start), in float64. */
function windowsRef(u: Float64Array, b: number, l: number, d: number, k: number): Float64Array {
  const out = new Float64Array(b * l * k * d);
  for (let n = 0; n < b; n++)
    for (let i = 0; i < l; i++)
      for (let j = 0; j < k; j++)
        for (let c = 0; c < d; c++) {
          const t = i - k + 1 + j;
          out[((n * l + i) * k + j) * d + c] = t < 0 ? 0 : u[(n * l + t) * d + c];
        }
  return out;
}

/** ∂(Σ g·out)/∂u: each input row collects the window slots it fills, in float64. */
function windowsGradRef(g: Float64Array, b: number, l: number, d: number, k: number): Float64Array {
  const du = new Float64Array(b * l * d);
  for (let n = 0; n < b; n++)
    for (let t = 0; t < l; t++)
      for (let j = 0; j < k; j++) {
        const i = t + k - 1 - j;
        if (i >= l) continue;
        for (let c = 0; c < d; c++) du[(n * l + t) * d + c] += g[((n * l + i) * k + j) * d + c];
      }
  return du;
}

describe('DSM causal windows: kernel and composite vs float64', () => {
  before(setupBackend);

  it(`the active backend (${tf.getBackend() || 'default'}) has the window kernel when it is cpu or wasm`, () => {
    if (['cpu', 'wasm'].includes(tf.getBackend())) assert.ok(tf.getKernel(CausalWindows, tf.getBackend()));
  });

  for (const path of ['kernel', 'composite'] as const) {
    for (const [b, l, d, k, seed] of [
      [2, 9, 5, 6, 1],
      [3, 24, 8, 6, 2],
      [1, 4, 3, 3, 3],
      [2, 2, 4, 6, 4], // window longer than the sequence
      [1, 5, 2, 1, 5],
    ]) {
      it(`${path}: B=${b} L=${l} D=${d} k=${k}`, async () => {
        const u = randomTensor([b, l, d], 100 + seed);
        const g = randomTensor([b, l, k * d], 200 + seed);
        // ×1 gives tf.grad an op to follow when k = 1 (the window is then u itself); exact.
        const f = (x: tf.Tensor) => causalWindows(x.mul(1), k, path);
        const out = f(u);
        assert.deepEqual(out.shape, [b, l, k * d]);
        const U = Float64Array.from(await u.data());
        const G = Float64Array.from(await g.data());
        // A copy: exact.
        assert.deepEqual(Array.from(await out.data()), Array.from(windowsRef(U, b, l, d, k)));
        const du = tf.grad(f)(u, g);
        assert.ok(relErr(await du.data(), windowsGradRef(G, b, l, d, k)) < 1e-6);
        tf.dispose([u, g, out, du]);
      });
    }
  }
});
