/**
 * The lean wasm Identity, Slice and SplitV (src/ops/lean-wasm.ts) against plain-JS index arithmetic on
 * random shapes of rank 1 to 5, and the reference counting of the shared Identity.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { Tensor } from '@tensorflow/tfjs';
import { initBackend, tf } from '../../src/backend';
import { sliceInto, useLeanWasmKernels } from '../../src/ops/lean-wasm';
import { Rng } from '../../src/util/rng';

before(async () => {
  await initBackend({ backend: 'wasm', log: false });
  useLeanWasmKernels();
});

/** The element of x at multi-index idx, by strides. */
function refSlice(x: Float32Array, shape: number[], begin: number[], size: number[]): Float32Array {
  const n = size.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const strides = shape.map((_, k) => shape.slice(k + 1).reduce((a, b) => a * b, 1));
  for (let i = 0; i < n; i++) {
    let rem = i;
    let off = 0;
    for (let k = size.length - 1; k >= 0; k--) {
      off += (begin[k] + (rem % size[k])) * strides[k];
      rem = Math.floor(rem / size[k]);
    }
    out[i] = x[off];
  }
  return out;
}

test('the lean kernels are the registered wasm kernels', () => {
  assert.equal(tf.getBackend(), 'wasm');
  const names = ['Identity', 'Cast', 'Slice', 'SplitV'].map((k) => tf.getKernel(k, 'wasm')!.kernelFunc.name);
  assert.deepEqual(names, ['sharedIdentity', 'sharedCast', 'viewSlice', 'viewSplitV']);
  useLeanWasmKernels(); // idempotent
});

test('Slice matches index arithmetic on random boxes, rank 1 to 5, long and short rows', () => {
  const rng = new Rng(41);
  for (let trial = 0; trial < 60; trial++) {
    const rank = 1 + (trial % 5); // tf.slice rejects scalars
    const shape = Array.from({ length: rank }, () => 1 + rng.int(trial % 2 ? 5 : 40));
    const n = shape.reduce((a, b) => a * b, 1);
    const xv = Float32Array.from({ length: n }, () => rng.normal());
    const begin = shape.map((s) => rng.int(s));
    const size = shape.map((s, k) => 1 + rng.int(s - begin[k]));
    const x = tf.tensor(xv, shape);
    const got = tf.slice(x, begin, size);
    assert.deepEqual(got.shape, size);
    assert.deepEqual(
      Array.from(got.dataSync()),
      Array.from(refSlice(xv, shape, begin, size)),
      `${shape} ${begin} ${size}`,
    );
    tf.dispose([x, got]);
  }
});

test('SplitV matches index arithmetic (equal pieces, sizes, −1) and int32 works', () => {
  const rng = new Rng(42);
  const shape = [3, 20, 7];
  const xv = Float32Array.from({ length: 420 }, () => rng.normal());
  const x = tf.tensor(xv, shape);
  for (const [splits, axis] of [
    [2, 1],
    [[5, -1, 3], 1],
    [[1, 6], 2],
    [3, 0],
  ] as const) {
    const pieces = tf.split(x, splits as number | number[], axis);
    let start = 0;
    for (const p of pieces) {
      const begin = [0, 0, 0];
      begin[axis] = start;
      assert.deepEqual(Array.from(p.dataSync()), Array.from(refSlice(xv, shape, begin, p.shape)));
      start += p.shape[axis] as number;
    }
    assert.equal(start, shape[axis]);
    tf.dispose(pieces);
  }
  const xi = tf.tensor(
    Int32Array.from({ length: 420 }, (_, i) => i - 200),
    shape,
    'int32',
  );
  const [a] = tf.split(xi, [4, 16], 1);
  assert.equal(a.dtype, 'int32');
  assert.deepEqual(
    Array.from(a.dataSync()),
    Array.from(refSlice(Float32Array.from(xi.dataSync()), shape, [0, 0, 0], [3, 4, 7])),
  );
  tf.dispose([x, xi, a]);
});

test('shared Identity: a saved clone outlives its source, gradients unchanged, no leak', () => {
  const before = tf.memory().numTensors;
  const x = tf.tensor([1, 2, 3, 4], [2, 2]);
  const c = x.clone();
  x.dispose();
  assert.deepEqual(Array.from(c.dataSync()), [1, 2, 3, 4]);
  const w = tf.tensor([0.5, -1, 2, 3], [2, 2]);
  // square saves its input through Engine.clone; d/dw Σ(slice(w)²) = 2w on the slice, 0 elsewhere
  const g = tf.grad((t: Tensor) => tf.slice(t, [0, 1], [2, 1]).square().sum())(w);
  assert.deepEqual(Array.from(g.dataSync()), [0, -2, 0, 6]);
  tf.dispose([c, w, g]);
  assert.equal(tf.memory().numTensors, before);
});

test('Cast: same dtype shares the data, a real conversion still converts', () => {
  const x = tf.tensor([1.5, -2.25, 3], [3]);
  const same = tf.cast(x, 'float32');
  x.dispose();
  assert.deepEqual(Array.from(same.dataSync()), [1.5, -2.25, 3]);
  const asInt = tf.cast(same, 'int32');
  assert.equal(asInt.dtype, 'int32');
  assert.deepEqual(Array.from(asInt.dataSync()), [1, -2, 3]);
  const back = tf.cast(asInt, 'float32');
  assert.equal(back.dtype, 'float32');
  assert.deepEqual(Array.from(back.dataSync()), [1, -2, 3]);
  tf.dispose([same, asInt, back]);
});

test('sliceInto copies nothing for an empty box', () => {
  const out = new Float32Array(1).fill(7);
  sliceInto(new Float32Array(6), [2, 3], [0, 0], [0, 3], out);
  assert.equal(out[0], 7);
});
