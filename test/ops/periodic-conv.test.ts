/**
 * periodicCausalConv (SIMD or JS loops on cpu/wasm for period P > 1, causalTapSum otherwise) against the composite formulation it replaces there
 * (causalTapSum over taps tiled per position, plus the tiled bias, with tfjs' own gradients): the forward
 * must be bit-identical (same float32 rounding of every product and partial sum), gradients equal to
 * float32 round-off; and against a float64 plain-JS sum.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { causalTapSum, periodicCausalConv } from '../../src/ops/periodic-conv/periodic-conv';
import { simdConvUsable } from '../../src/ops/periodic-conv/simd';
import { Rng } from '../../src/util/rng';

function randomTensor(shape: number[], seed: number): tf.Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: n }, () => rng.normal()),
    shape,
  );
}

function relErr(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let num = 0;
  let den = 1e-30;
  for (let i = 0; i < x.length; i++) {
    num = Math.max(num, Math.abs(x[i] - y[i]));
    den = Math.max(den, Math.abs(y[i]));
  }
  return num / den;
}

function composite(x: tf.Tensor, taps: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  const [, l] = x.shape;
  const [k, period, c] = taps.shape;
  const pos = period === 1 ? taps.reshape([k, c]) : taps.tile([1, l / period, 1]);
  const y = causalTapSum(x, pos);
  return bias ? y.add(period === 1 ? bias.reshape([c]) : bias.tile([l / period, 1])) : y;
}

// [B, L, C, k, P, bias]: DC's per-type kernels (P = 3) through the SIMD loops (C a multiple of 4) and the
// JS loops (C = 7, 2), a window longer than L, and Mamba's conv (P = 1: SIMD for C = 8, causalTapSum for 5, 6).
const CASES: [number, number, number, number, number, boolean][] = [
  [3, 12, 8, 6, 3, true],
  [3, 12, 7, 6, 3, true],
  [2, 3, 4, 6, 3, true],
  [1, 6, 16, 1, 3, false],
  [1, 6, 2, 1, 3, false],
  [2, 9, 5, 4, 1, true],
  [2, 10, 8, 4, 1, true],
  [2, 8, 6, 3, 1, false],
];

describe('periodicCausalConv', () => {
  before(async () => {
    process.env.DMM_QUIET = '1';
    await initBackend();
  });

  it('the SIMD loops build and validate here', () => {
    assert.ok(simdConvUsable(8));
    assert.ok(!simdConvUsable(7));
  });

  for (const [b, l, c, k, period, withBias] of CASES) {
    it(`B=${b} L=${l} C=${c} k=${k} P=${period}${withBias ? ' +bias' : ''}: forward bit-identical, gradients to round-off`, () => {
      const x = randomTensor([b, l, c], 1);
      const taps = randomTensor([k, period, c], 2);
      const bias = withBias ? randomTensor([period, c], 3) : undefined;
      const w = randomTensor([b, l, c], 4);
      const inputs = bias ? [x, taps, bias] : [x, taps];
      const f =
        (conv: typeof composite) =>
        (...a: tf.Tensor[]) =>
          conv(a[0], a[1], a[2]).mul(w).sum();
      const got = periodicCausalConv(x, taps, bias).dataSync();
      const want = composite(x, taps, bias).dataSync();
      assert.deepEqual(Array.from(got), Array.from(want));
      // float64 definition
      const [X, T, Bs] = [x.dataSync(), taps.dataSync(), bias?.dataSync()];
      const ref = new Float64Array(b * l * c);
      for (let bb = 0; bb < b; bb++)
        for (let i = 0; i < l; i++)
          for (let cc = 0; cc < c; cc++) {
            let s = Bs ? Bs[(i % period) * c + cc] : 0;
            for (let j = 0; j < k; j++) {
              const p = i - k + 1 + j;
              if (p >= 0) s += X[(bb * l + p) * c + cc] * T[(j * period + (i % period)) * c + cc];
            }
            ref[(bb * l + i) * c + cc] = s;
          }
      assert.ok(relErr(got, ref) < 1e-6, `float64 relative error ${relErr(got, ref)}`);
      const gGot = tf.grads(f(periodicCausalConv))(inputs);
      const gWant = tf.grads(f(composite))(inputs);
      gWant.forEach((g, i) => {
        const e = relErr(gGot[i].dataSync(), g.dataSync());
        assert.ok(e < 1e-6, `gradient ${i}: relative error ${e}`);
      });
      tf.dispose([x, taps, w, ...(bias ? [bias] : []), ...gGot, ...gWant]);
    });
  }
});
