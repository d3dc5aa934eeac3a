/**
 * Notebook code builds its models on the kit's backend (initBackend), never on the cpu backend tfjs starts on
 * its own when a tensor appears first: that one prints tfjs' "running TensorFlow.js in Node.js" banner into the
 * notebook, and computes on another backend than the one the captions name.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';

const root = path.resolve(__dirname, '..', '..');

test("notebook 02's models come up on the kit's backend, without tfjs' Node.js banner", () => {
  const script = `require('./src/experiments/models').modelsNotebook('smoke').then(() => console.log('done'));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, DMM_QUIET: '1', DMM_BACKEND: '' },
    timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /done/);
  assert.doesNotMatch(r.stderr + r.stdout, /running TensorFlow\.js in Node\.js/);
});
