/**
 * The SIMD batched product (src/ops/batch-matmul/) against a float64 plain-JS product, matMul's rank-3
 * forward and gradients against tf.matMul with tfjs' own gradient, and columnSum (Linear's bias
 * gradient) against tf.sum, on fresh random inputs.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { Linear } from '../../src/nn';
import { batchMatMul, columnSum } from '../../src/ops/batch-matmul/batch-matmul';
import { KIT_BATCH_MATMUL } from '../../src/ops/batch-matmul/kernel-names';
import { batchMatMulInto, bmmExports } from '../../src/ops/batch-matmul/simd';
import { matMul } from '../../src/ops/matmul';
import { Rng } from '../../src/util/rng';

function randn(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}

/** float64 C[b] = A[b]·B[b]. */
function reference(a: Float32Array, b: Float32Array, batch: number, n: number, k: number, m: number): Float64Array {
  const c = new Float64Array(batch * n * m);
  for (let q = 0; q < batch; q++)
    for (let i = 0; i < n; i++)
      for (let j = 0; j < m; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[(q * n + i) * k + p] * b[(q * k + p) * m + j];
        c[(q * n + i) * m + j] = s;
      }
  return c;
}

/** max |x − y| / max |y|. */
function relErr(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let num = 0;
  let den = 1e-30;
  for (let i = 0; i < x.length; i++) {
    num = Math.max(num, Math.abs(x[i] - y[i]));
    den = Math.max(den, Math.abs(y[i]));
  }
  return num / den;
}

// [batch, n, k, m]: attention-like shapes, column counts with and without a 16-wide tile, k = 1, batch 1.
const SHAPES: [number, number, number, number][] = [
  [3, 9, 8, 12],
  [2, 60, 32, 60],
  [4, 7, 60, 16],
  [2, 5, 1, 36],
  [1, 3, 5, 4],
  [5, 1, 3, 20],
];

describe('SIMD batched matmul', () => {
  before(async () => {
    process.env.DMM_QUIET = '1';
    await initBackend({ backend: 'wasm', log: false });
  });

  it('the module builds and validates here (WebAssembly SIMD)', () => {
    assert.ok(bmmExports() !== null);
  });

  it('batchMatMulInto equals the float64 product to float32 round-off', () => {
    const rng = new Rng(11);
    for (const [batch, n, k, m] of SHAPES) {
      const a = randn(rng, batch * n * k);
      const b = randn(rng, batch * k * m);
      const got = new Float32Array(batch * n * m).fill(NaN);
      batchMatMulInto(a, b, got, batch, n, k, m);
      const err = relErr(got, reference(a, b, batch, n, k, m));
      assert.ok(err < 1e-6, `[${batch},${n},${k},${m}]: relative error ${err}`);
    }
  });

  it('batchMatMul runs the registered kernel on wasm and equals the float64 product', () => {
    const rng = new Rng(12);
    for (const [batch, n, k, m] of SHAPES) {
      const av = randn(rng, batch * n * k);
      const bv = randn(rng, batch * k * m);
      const a = tf.tensor(av, [batch, n, k]);
      const b = tf.tensor(bv, [batch, k, m]);
      const c = batchMatMul(a, b);
      assert.deepEqual(c.shape, [batch, n, m]);
      const err = relErr(c.dataSync(), reference(av, bv, batch, n, k, m));
      assert.ok(err < 1e-6, `[${batch},${n},${k},${m}]: relative error ${err}`);
      tf.dispose([a, b, c]);
    }
    assert.ok(tf.getKernel(KIT_BATCH_MATMUL, 'wasm') !== undefined, 'the kernel was never registered');
  });

  it('falls back to tf.matMul where m is not a multiple of 4 or the rank is not 3', () => {
    const rng = new Rng(13);
    const a = tf.tensor(randn(rng, 2 * 4 * 3), [2, 4, 3]);
    const b = tf.tensor(randn(rng, 2 * 3 * 5), [2, 3, 5]);
    const err = relErr(
      batchMatMul(a, b).dataSync(),
      reference(a.dataSync() as Float32Array, b.dataSync() as Float32Array, 2, 4, 3, 5),
    );
    assert.ok(err < 1e-6, `relative error ${err}`);
    const a2 = tf.tensor(randn(rng, 4 * 3), [4, 3]);
    const b2 = tf.tensor(randn(rng, 3 * 8), [3, 8]);
    const err2 = relErr(
      batchMatMul(a2, b2).dataSync(),
      reference(a2.dataSync() as Float32Array, b2.dataSync() as Float32Array, 1, 4, 3, 8),
    );
    assert.ok(err2 < 1e-6, `relative error ${err2}`);
    tf.dispose([a, b, a2, b2]);
  });

  it('matMul (rank 3) forward and gradients equal tf.matMul with its own gradient', () => {
    const rng = new Rng(14);
    for (const [batch, n, k, m] of [
      [4, 12, 8, 12],
      [3, 60, 16, 60],
    ]) {
      const a = tf.tensor(randn(rng, batch * n * k), [batch, n, k]);
      const b = tf.tensor(randn(rng, batch * k * m), [batch, k, m]);
      const w = tf.tensor(randn(rng, batch * n * m), [batch, n, m]);
      const loss = (f: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor) => (x: tf.Tensor, y: tf.Tensor) =>
        f(x, y).mul(w).sum();
      const [ga, gb] = tf.grads(loss(matMul))([a, b]);
      const [ra, rb] = tf.grads(loss((x, y) => tf.matMul(x, y)))([a, b]);
      assert.ok(relErr(matMul(a, b).dataSync(), tf.matMul(a, b).dataSync()) < 1e-6, 'forward');
      assert.ok(
        relErr(ga.dataSync(), ra.dataSync()) < 1e-6,
        `dA relative error ${relErr(ga.dataSync(), ra.dataSync())}`,
      );
      assert.ok(
        relErr(gb.dataSync(), rb.dataSync()) < 1e-6,
        `dB relative error ${relErr(gb.dataSync(), rb.dataSync())}`,
      );
      tf.dispose([a, b, w, ga, gb, ra, rb]);
    }
  });

  it('columnSum is bit-identical to tf.sum over axis 0 (SIMD for m % 4 = 0, tf.sum otherwise)', () => {
    const rng = new Rng(15);
    for (const [n, m] of [
      [300, 64],
      [7, 12],
      [1, 4],
      [5, 3],
    ]) {
      const x = tf.tensor(randn(rng, n * m), [n, m]);
      const got = columnSum(x);
      assert.deepEqual(got.shape, [m]);
      assert.deepEqual(Array.from(got.dataSync()), Array.from(x.sum(0).dataSync()));
      tf.dispose([x, got]);
    }
  });

  it("Linear's gradients are bit-identical to the composite x·Wᵀ + b with tfjs' gradients", () => {
    const rng = new Rng(16);
    const lin = new Linear(24, 36, rng, { init: 'torch-default' });
    const x = tf.tensor(randn(rng, 2 * 50 * 24), [2, 50, 24]);
    const w = tf.tensor(randn(rng, 2 * 50 * 36), [2, 50, 36]);
    const vars = [lin.weight, lin.bias!];
    const got = tf.variableGrads(() => lin.apply(x).mul(w).sum() as tf.Scalar, vars);
    const want = tf.variableGrads(
      () =>
        x
          .reshape([100, 24])
          .matMul(lin.weight, false, true)
          .add(lin.bias!)
          .reshape([2, 50, 36])
          .mul(w)
          .sum() as tf.Scalar,
      vars,
    );
    assert.deepEqual(
      Array.from(got.grads[lin.bias!.name].dataSync()),
      Array.from(want.grads[lin.bias!.name].dataSync()),
    );
    const e = relErr(got.grads[lin.weight.name].dataSync(), want.grads[lin.weight.name].dataSync());
    assert.ok(e < 1e-6, `dW relative error ${e}`);
    lin.dispose();
    tf.dispose([x, w, got.value, want.value, ...Object.values(got.grads), ...Object.values(want.grads)]);
  });
});
