/**
 * embeddingLookup's row copy (a kit kernel on wasm) returns exactly tf.gather's rows, and rejects ids
 * outside the table with the kit's one-line error.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend';
import { embeddingLookup } from '../../src/ops/embedding-lookup/embedding-lookup';
import { Rng } from '../../src/util/rng';

describe('embeddingLookup rows', () => {
  before(async () => {
    process.env.DMM_QUIET = '1';
    await initBackend({ backend: 'wasm', log: false });
  });

  it('equals tf.gather on random ids (repeats, first and last row)', () => {
    const rng = new Rng(3);
    const table = tf.tensor(
      Float32Array.from({ length: 1000 * 16 }, () => rng.normal()),
      [1000, 16],
    );
    const idv = Int32Array.from({ length: 4 * 7 }, () => rng.int(1000));
    idv[0] = 0;
    idv[1] = 999;
    idv[2] = idv[3];
    const ids = tf.tensor(idv, [4, 7], 'int32');
    const got = embeddingLookup(table, ids);
    assert.deepEqual(got.shape, [4, 7, 16]);
    assert.deepEqual(Array.from(got.dataSync()), Array.from(tf.gather(table, ids.reshape([-1])).dataSync()));
    tf.dispose([table, ids, got]);
  });

  it('rejects an id outside the table', () => {
    const table = tf.zeros([5, 2]);
    const ids = tf.tensor([1, 5], [2], 'int32');
    assert.throws(() => embeddingLookup(table, ids), /Error in embeddingLookup: ids must be in \[0, 4\], got 5/);
    tf.dispose([table, ids]);
  });
});
