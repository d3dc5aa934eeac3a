/**
 * forwardLast (the evaluator's eval-only path) equals forward(…)[:, K−1] to float32 round-off for every
 * model and DMM variant, on fresh random inputs with and without padding, and keeps no tensors.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  TINY_CASES,
  TINY_DIMS,
  disposeInputs,
  randomInputs,
  relErr,
  setupBackend,
  tinyModel,
} from '../helpers/models-fixtures';

describe('forwardLast = forward at the last timestep', () => {
  before(setupBackend);

  TINY_CASES.forEach((c, n) => {
    it(c.label, async () => {
      const model = tinyModel(c, 40 + n);
      assert.ok(model.forwardLast, 'every TrajectoryModel has forwardLast');
      const k = Number(c.config.contextLength);
      for (const padded of [false, true]) {
        const inputs = randomInputs(TINY_DIMS, 5, k, 90 + n, 20, padded);
        model.forwardLast!(inputs).dispose(); // attention caches its causal mask per length on first use
        const before = tf.memory().numTensors;
        const last = model.forwardLast!(inputs);
        assert.equal(tf.memory().numTensors, before + 1);
        const full = model.forward(inputs, { training: false });
        const want = tf.tidy(() => full.slice([0, k - 1, 0], [5, 1, TINY_DIMS.actDim]).reshape([5, TINY_DIMS.actDim]));
        assert.deepEqual(last.shape, [5, TINY_DIMS.actDim]);
        const err = relErr(await last.data(), await want.data());
        assert.ok(err < 1e-5, `${c.label} padded=${padded}: relative error ${err}`);
        tf.dispose([last, full, want]);
        disposeInputs(inputs);
      }
      model.dispose();
    });
  });
});
