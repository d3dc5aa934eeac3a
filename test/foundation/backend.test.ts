import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { BACKENDS, initBackend, vulkanLoaderPresent } from '../../src/backend';

test('an unknown backend name is one line naming the valid ones and the nearest', async () => {
  await assert.rejects(initBackend({ backend: 'wasmm', log: false }), (err: Error) => {
    assert.equal(err.name, 'KitError');
    assert.equal(
      err.message,
      `Error in initBackend: backend must be one of ${BACKENDS.join(', ')}, got 'wasmm'. Did you mean 'wasm'?`,
    );
    return true;
  });
});

test('the Vulkan probe answers without loading Dawn', () => {
  assert.equal(typeof vulkanLoaderPresent(), 'boolean');
});

test('addInGroups (WebGPU-safe AddN) sums 50 tensors like tf.addN and rejects an empty list', async () => {
  await initBackend({ backend: 'cpu', log: false }).catch(() => undefined);
  const { tf, addInGroups } = await import('../../src/backend');
  const ts = Array.from({ length: 50 }, (_, i) => tf.tensor1d([i, -2 * i, 0.5 + i / 7]));
  for (const group of [2, 7, 64]) {
    const got = addInGroups(ts, group).arraySync() as number[];
    const want = [1225, -2450, 25 + 1225 / 7];
    got.forEach((g, k) =>
      assert.ok(Math.abs(g - want[k]) <= 1e-4 * Math.abs(want[k]), `group ${group}: ${g} vs ${want[k]}`),
    );
  }
  const before = tf.memory().numTensors;
  addInGroups(ts, 7).dispose();
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => addInGroups([], 7), /Error in addInGroups/);
  tf.dispose(ts);
});
