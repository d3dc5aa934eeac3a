/** Building blocks against float64 plain-JS definitions (docs/spec.md §2.12, §3.2). */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { CausalDepthwiseConv1d, Conv1D, Embedding, LayerNorm, Linear, dropout, gelu, softplus } from '../../src/nn';
import { Rng } from '../../src/util/rng';
import { randomTensor, relErr, setupBackend } from '../helpers/models-fixtures';

/** erf in float64 (Abramowitz–Stegun 7.1.26 is too coarse for a reference; use the series/continued fraction). */
function erf64(x: number): number {
  const t = Math.abs(x);
  if (t < 3) {
    let sum = t;
    let term = t;
    for (let n = 1; n < 200; n++) {
      term *= (-t * t) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  return Math.sign(x) * (1 - (Math.exp(-t * t) / (t * Math.sqrt(Math.PI))) * (1 - 1 / (2 * t * t) + 3 / (4 * t ** 4)));
}

describe('nn building blocks', () => {
  before(setupBackend);

  it('Linear uses the [out, in] layout and Conv1D the [in, out] layout', () => {
    const lin = new Linear(3, 2, new Rng(1), { init: 'torch-default' });
    const conv = new Conv1D(3, 2, new Rng(2));
    const x = randomTensor([4, 3], 3);
    const xs = x.arraySync() as number[][];
    const W = lin.weight.arraySync() as number[][];
    const b = lin.bias!.dataSync();
    const want = xs.map((r) => W.map((row, o) => row.reduce((s, w, i) => s + w * r[i], b[o])));
    assert.ok(relErr(lin.apply(x).dataSync(), want.flat()) < 1e-6);
    const V = conv.weight.arraySync() as number[][];
    const want2 = xs.map((r) => [0, 1].map((o) => r.reduce((s, xi, i) => s + xi * V[i][o], 0)));
    assert.ok(relErr(conv.apply(x.reshape([2, 2, 3])).dataSync(), want2.flat()) < 1e-6);
  });

  it('LayerNorm uses the biased variance and eps 1e-5', () => {
    const ln = new LayerNorm(5);
    const x = randomTensor([3, 5], 4, 0.01); // small variance makes eps visible
    const got = ln.apply(x).dataSync();
    const want = (x.arraySync() as number[][]).flatMap((r) => {
      const m = r.reduce((s, v) => s + v, 0) / 5;
      const v = r.reduce((s, u) => s + (u - m) ** 2, 0) / 5;
      return r.map((u) => (u - m) / Math.sqrt(v + 1e-5));
    });
    assert.ok(relErr(got, want) < 1e-4);
  });

  it('GELU is exact (erf) with a correct gradient; softplus follows PyTorch above 20', () => {
    const xs = [-4, -1.3, -0.2, 0, 0.7, 2.5, 5];
    const x = tf.tensor1d(xs);
    const want = xs.map((v) => 0.5 * v * (1 + erf64(v / Math.SQRT2)));
    assert.ok(relErr(gelu(x).dataSync(), want) < 2e-6);
    const dwant = xs.map(
      (v) => 0.5 * (1 + erf64(v / Math.SQRT2)) + (v * Math.exp((-v * v) / 2)) / Math.sqrt(2 * Math.PI),
    );
    assert.ok(relErr(tf.grad(gelu)(x).dataSync(), dwant) < 2e-6);
    const sp = softplus(tf.tensor1d([-30, 0, 19.9, 20.5, 80])).dataSync();
    assert.ok(relErr(sp, [Math.log1p(Math.exp(-30)), Math.log(2), Math.log1p(Math.exp(19.9)), 20.5, 80]) < 1e-6);
  });

  it('Embedding lookup and its scatter-add gradient (repeated ids accumulate)', () => {
    const e = new Embedding(5, 2, new Rng(1));
    const ids = tf.tensor2d(
      [
        [1, 1],
        [4, 0],
      ],
      [2, 2],
      'int32',
    );
    const table = e.weight.arraySync() as number[][];
    assert.deepEqual(
      Array.from(e.apply(ids).dataSync()),
      [table[1], table[1], table[4], table[0]].flat().map(Math.fround),
    );
    // tfjs' own gather gradient needs UnsortedSegmentSum (absent on wasm); ours scatters.
    const { grads } = tf.variableGrads(
      () =>
        e
          .apply(ids)
          .mul(tf.tensor1d([1, 10]))
          .sum() as tf.Scalar,
      [e.weight],
    );
    assert.deepEqual(grads[e.weight.name].arraySync(), [
      [1, 10],
      [2, 20],
      [0, 0],
      [0, 0],
      [1, 10],
    ]);
  });

  it('causal depthwise conv: y_l = b + Σ_j w[j] x_{l−k+1+j}, zeros before the start', () => {
    const conv = new CausalDepthwiseConv1d(2, 3, new Rng(3));
    const x = randomTensor([1, 4, 2], 5);
    const xs = (x.arraySync() as number[][][])[0];
    const w = conv.weight.arraySync() as number[][][];
    const b = conv.bias.dataSync();
    const want = xs.map((_, l) =>
      [0, 1].map((c) => [0, 1, 2].reduce((s, j) => s + w[c][0][j] * (l - 2 + j >= 0 ? xs[l - 2 + j][c] : 0), b[c])),
    );
    assert.ok(relErr(conv.apply(x).dataSync(), want.flat()) < 1e-6);
  });

  it('dropout: seeded, inverted scaling, rate close to p, identity in eval', () => {
    const x = tf.ones([100, 100]);
    const ctx = { training: true, dropoutSeed: 3 };
    const y = dropout(x, 0.1, ctx, 'a').dataSync();
    assert.deepEqual(y, dropout(x, 0.1, ctx, 'a').dataSync());
    assert.notDeepEqual(y, dropout(x, 0.1, ctx, 'b').dataSync());
    const zeros = y.filter((v) => v === 0).length;
    assert.ok(Math.abs(zeros / 1e4 - 0.1) < 0.01, `drop rate ${zeros / 1e4}`);
    assert.ok(y.every((v) => v === 0 || Math.abs(v - 1 / 0.9) < 1e-6));
    assert.equal(dropout(x, 0.1, { training: false }, 'a'), x);
  });
});
