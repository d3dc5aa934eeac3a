/**
 * selectiveScanTokens on the `cpu` backend against the float64 reference, forward and gradients: the fused
 * kernel (which takes the token-major layout directly) and the composite path (which transposes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';

import { CHECK_SHAPES } from '../helpers/scan-check';
import { tokenMajorErrors } from './token-major-check';

const TOL = 1e-4;

for (const backend of ['cpu'] as const) {
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

// The JS loops (no SIMD) take channel-major copies of token-major inputs: check that route too.
CHECK_SHAPES.slice(1, 5).forEach(({ dims, opts }, k) => {
  test(`token-major cpu fused, JS loops: B=${dims.batch} d=${dims.dim} L=${dims.len} N=${dims.nState} ${JSON.stringify(opts)}`, async () => {
    await initBackend({ backend: 'cpu', log: false });
    const before = process.env.DMM_SCAN_CPU;
    process.env.DMM_SCAN_CPU = 'js';
    try {
      const errs = await tokenMajorErrors('fused', dims, 750 + k, opts);
      for (const [name, e] of Object.entries(errs)) assert.ok(e < TOL, `${name}: relative error ${e}`);
    } finally {
      if (before === undefined) delete process.env.DMM_SCAN_CPU;
      else process.env.DMM_SCAN_CPU = before;
    }
  });
});
