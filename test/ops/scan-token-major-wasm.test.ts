/**
 * selectiveScanTokens on the `wasm` backend against the float64 reference, forward and gradients: the fused
 * kernel (which takes the token-major layout directly) and the composite path (which transposes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { selectiveScanTokens } from '../../src/ops/scan';
import { CHECK_SHAPES } from '../helpers/scan-check';
import { tokenMajorErrors } from './token-major-check';

const TOL = 1e-4;

for (const backend of ['wasm'] as const) {
  for (const path of ['fused', 'composite'] as const) {
    CHECK_SHAPES.forEach(({ dims, opts }, k) => {
      test(`token-major ${backend} ${path}: B=${dims.batch} d=${dims.dim} L=${dims.len} N=${dims.nState} ${JSON.stringify(opts)}`, async () => {
        await initBackend({ backend, log: false });
        assert.equal(tf.getBackend(), backend);
        const errs = await tokenMajorErrors(path, dims, 700 + k, opts);
        for (const [name, e] of Object.entries(errs)) assert.ok(e < TOL, `${name}: relative error ${e}`);
      });
    });
  }
}

test('token-major: a wrong B shape is a one-line error', async () => {
  await initBackend({ backend: 'wasm', log: false });
  const u = tf.zeros([2, 5, 3]);
  const A = tf.zeros([3, 16]);
  const bad = tf.zeros([2, 16, 5]);
  assert.throws(
    () => selectiveScanTokens(u, u, A, bad, bad, undefined, undefined, undefined, true, 'fused'),
    /B must have shape \[2, 5, 16\]/,
  );
  tf.dispose([u, A, bad]);
});
