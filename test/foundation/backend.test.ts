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
