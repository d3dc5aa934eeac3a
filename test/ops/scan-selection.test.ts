/** Path selection (DMM_SCAN), input checks, and the WebGPU dispatch grid past 65,535 workgroups. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { scanPath, selectiveScan } from '../../src/ops/scan';
import { dispatchGrid } from '../../src/ops/scan/webgpu';

test('DMM_SCAN forces a path; a bad value names the valid ones', async () => {
  await initBackend({ backend: 'cpu', log: false });
  const keep = process.env.DMM_SCAN;
  try {
    for (const p of ['reference', 'composite', 'fused']) {
      process.env.DMM_SCAN = p;
      assert.equal(scanPath(), p);
    }
    process.env.DMM_SCAN = 'fuse';
    assert.throws(
      () => scanPath(),
      /DMM_SCAN must be one of fused, composite, reference, got 'fuse'. Did you mean 'fused'/,
    );
    delete process.env.DMM_SCAN;
    assert.equal(scanPath(), 'fused');
  } finally {
    if (keep === undefined) delete process.env.DMM_SCAN;
    else process.env.DMM_SCAN = keep;
  }
});

test('selectiveScan rejects a wrong shape with a one-line message', async () => {
  await initBackend({ backend: 'cpu', log: false });
  const u = tf.zeros([2, 3, 5]);
  const A = tf.zeros([3, 4]);
  const Bm = tf.zeros([2, 4, 5]);
  assert.throws(
    () => selectiveScan(u, u, A, Bm, tf.zeros([2, 4, 6])),
    /Error in selectiveScan: C must have shape \[2, 4, 5\], got \[2, 4, 6\]/,
  );
  assert.throws(() => selectiveScan(u, u, A, Bm, Bm, tf.zeros([4])), /D must have shape \[3\]/);
});

test('dispatchGrid folds more than 65,535 workgroups into a 2-D grid that covers them all', () => {
  for (const count of [1, 65535, 65536, 131072, 1_000_003, 65535 * 65535]) {
    const [x, y, z] = dispatchGrid(count);
    assert.ok(x <= 65535 && y <= 65535 && z === 1, `${count}: ${x}×${y}`);
    assert.ok(x * y >= count && x * (y - 1) < count, `${count}: ${x}×${y} must cover it without a spare row`);
  }
});
