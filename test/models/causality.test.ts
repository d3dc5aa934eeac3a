/**
 * Causality (docs/spec.md §2.9): changing token j changes no output before j, for every model and mixer; and
 * the ground-truth action a_t (token 3t+2) never reaches its own prediction â_t.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  TINY_CASES,
  TINY_DIMS,
  disposeInputs,
  jitterParameters,
  randomInputs,
  randomTensor,
  setupBackend,
  tinyModel,
} from '../helpers/models-fixtures';

const K = 4;
const L = 3 * K;

describe('causality', () => {
  before(setupBackend);
  for (const c of TINY_CASES) {
    it(`${c.label}: token j affects only outputs ≥ j`, () => {
      const model = tinyModel({ ...c, config: { ...c.config, contextLength: K } });
      jitterParameters(model, 3);
      const inputs = randomInputs(TINY_DIMS, 2, K, 21);
      const tokens = model.embed(inputs);
      const lastBlock = (x: tf.Tensor) => {
        const taps: Record<string, tf.Tensor> = {};
        const out = model.forwardFromTokens(x, inputs, { training: false }, taps);
        const names = Object.keys(taps)
          .filter((k) => k.endsWith('.blockOutput'))
          .sort();
        const y = taps[names[names.length - 1]].arraySync() as number[][][]; // [B, L, D]
        tf.dispose([out, ...Object.values(taps)]);
        return y;
      };
      const base = lastBlock(tokens);
      for (const j of [0, 4, 7, L - 1]) {
        const bump = tf.tidy(() => {
          const onehot = tf.oneHot([j], L).reshape([1, L, 1]);
          return tokens.add(onehot.mul(randomTensor([2, 1, tokens.shape[2] as number], j)));
        });
        const y = lastBlock(bump);
        bump.dispose();
        for (let b = 0; b < 2; b++) {
          for (let i = 0; i < L; i++) {
            const diff = Math.max(...y[b][i].map((v, ch) => Math.abs(v - base[b][i][ch])));
            if (i < j) assert.equal(diff, 0, `token ${j} changed output ${i} (batch ${b}) by ${diff}`);
            if (i === j) assert.ok(diff > 1e-4, `token ${j} did not change its own output`);
          }
        }
      }
      tokens.dispose();
      disposeInputs(inputs);
      model.dispose();
    });
  }

  for (const c of TINY_CASES) {
    it(`${c.label}: â_t does not see a_t, but sees a_{t-1}`, () => {
      const model = tinyModel({ ...c, config: { ...c.config, contextLength: K } });
      jitterParameters(model, 4);
      const inputs = randomInputs(TINY_DIMS, 1, K, 22);
      const base = model.forward(inputs, { training: false }).arraySync() as number[][][];
      const t = 2;
      const actions = tf.tidy(() => inputs.actions.add(tf.oneHot([t], K).reshape([1, K, 1]).mul(3)));
      const y = model.forward({ ...inputs, actions }, { training: false }).arraySync() as number[][][];
      for (let s = 0; s <= t; s++) assert.deepEqual(y[0][s], base[0][s], `a_${t} changed â_${s}`);
      assert.ok(
        Math.max(...y[0][t + 1].map((v, i) => Math.abs(v - base[0][t + 1][i]))) > 1e-5,
        `a_${t} does not reach â_${t + 1}`,
      );
      actions.dispose();
      disposeInputs(inputs);
      model.dispose();
    });
  }
});
