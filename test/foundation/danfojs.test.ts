import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { tf, tfjsNodeInstalled } from '../../src/backend';

// danfojs-node asks for @tensorflow/tfjs-node; package.json points that name at environment/tfjs-node-alias.
test("danfojs-node runs on the kit's own tfjs module, not a second copy", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dfd = require('danfojs-node') as typeof import('danfojs-node');
  // The alias re-exports the module itself (an npm alias to @tensorflow/tfjs would be a second copy of its files).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  assert.ok(require('@tensorflow/tfjs-node') === require('@tensorflow/tfjs'), 'tfjs-node must be the kit tfjs module');
  assert.ok(dfd.tensorflow.engine() === tf.engine(), 'danfojs must share the kit engine');
  const stats = new dfd.DataFrame({ x: [1, 2, 3, 4] }).describe();
  assert.deepEqual(stats.index.slice(0, 2), ['count', 'mean']);
  assert.equal((stats.values as number[][])[1][0], 2.5);
});

test('the stand-in is not taken for a native tfjs-node (which would select the tensorflow backend)', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const alias = require('@tensorflow/tfjs-node/package.json') as { name: string };
  assert.equal(alias.name, 'dmm-kit-tfjs-node-alias');
  if (tfjsNodeInstalled() === '@tensorflow/tfjs-node') assert.fail('the alias was detected as tfjs-node');
});
