/**
 * LayerNorm with its custom affine gradient (column sums) against the composite formulation with tfjs'
 * own gradients: forward and the weight/bias gradients bit-identical, the input gradient to round-off.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { LayerNorm } from '../../src/nn';
import { Rng } from '../../src/util/rng';

function randomTensor(shape: number[], seed: number, std = 1, mean = 0): tf.Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: n }, () => mean + std * rng.normal()),
    shape,
  );
}

describe('LayerNorm gradients', () => {
  before(async () => {
    process.env.DMM_QUIET = '1';
    await initBackend();
  });

  for (const shape of [
    [3, 20, 16],
    [7, 6],
    [2, 5, 3],
  ]) {
    it(`[${shape}]: same forward and gradients as the composite with tfjs' gradients`, () => {
      const dim = shape[shape.length - 1];
      const ln = new LayerNorm(dim);
      ln.weight.assign(randomTensor([dim], 1, 0.5, 1));
      ln.bias.assign(randomTensor([dim], 2, 0.5));
      const x = randomTensor(shape, 3, 2, 0.5);
      const w = randomTensor(shape, 4);
      const composite = (xx: tf.Tensor) => {
        const { mean, variance } = tf.moments(xx, xx.rank - 1, true);
        return xx.sub(mean).mul(variance.add(1e-5).rsqrt()).mul(ln.weight).add(ln.bias);
      };
      assert.deepEqual(Array.from(ln.apply(x).dataSync()), Array.from(composite(x).dataSync()));
      const vars = [ln.weight, ln.bias];
      const got = tf.variableGrads(() => ln.apply(x).mul(w).sum() as tf.Scalar, vars);
      const want = tf.variableGrads(() => composite(x).mul(w).sum() as tf.Scalar, vars);
      for (const v of vars)
        assert.deepEqual(Array.from(got.grads[v.name].dataSync()), Array.from(want.grads[v.name].dataSync()), v.name);
      const gx = tf
        .grad((xx: tf.Tensor) => ln.apply(xx).mul(w).sum())(x)
        .dataSync();
      const rx = tf
        .grad((xx: tf.Tensor) => composite(xx).mul(w).sum())(x)
        .dataSync();
      let num = 0;
      let den = 0;
      for (let i = 0; i < gx.length; i++) {
        num = Math.max(num, Math.abs(gx[i] - rx[i]));
        den = Math.max(den, Math.abs(rx[i]));
      }
      assert.ok(num / den < 1e-6, `dx relative error ${num / den}`);
      ln.dispose();
      tf.dispose([x, w, got.value, want.value, ...Object.values(got.grads), ...Object.values(want.grads)]);
    });
  }
});
