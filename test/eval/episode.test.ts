/**
 * EvalEpisode (one episode stepped from outside, the live explorer's) plays the episodes `evaluate` plays: for
 * each target and episode, a real hopper env seeded as VecEnv seeds episode e, and a seeded DMM, the return and
 * length match the batched evaluator's (to the round-off between its forwardLast and the full forward).
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initBackend, tf } from '../../src/backend';
import type { EvalConfig } from '../../src/config/eval';
import { envSeed, makeEnv, VecEnv } from '../../src/envs';
import { EvalEpisode } from '../../src/eval/episode';
import { evaluate } from '../../src/eval/rollout';
import { createModel } from '../../src/models';
import { deriveSeed } from '../../src/util/rng';

before(async () => {
  await initBackend({ log: false });
});

for (const evalPadding of ['official', 'train-consistent'] as const) {
  test(`EvalEpisode plays evaluate's episodes (${evalPadding} padding)`, async () => {
    const model = createModel('dmm', { hiddenSize: 16, nLayer: 2, contextLength: 4 }, { stateDim: 11, actDim: 3 }, 9);
    const stateMean = Float64Array.from({ length: 11 }, (_, j) => 0.1 * Math.sin(j));
    const stateStd = Float64Array.from({ length: 11 }, (_, j) => 0.5 + 0.1 * j);
    const config: EvalConfig = {
      targets: [3600, 1800],
      episodesPerTarget: 2,
      maxEpisodeSteps: 40,
      maxEpLen: 1000,
      returnScale: 1000,
      evalPadding,
    };
    const seed = 5;
    const results = await evaluate(model, {
      env: 'hopper',
      stateMean,
      stateStd,
      config,
      seed,
      silent: true,
      workers: 0,
      createVecEnv: (env, n, o) => VecEnv.create('hopper', n, { ...o, autoReset: false }),
    });
    const env = await makeEnv('hopper');
    for (const r of results)
      for (let e = 0; e < config.episodesPerTarget; e++) {
        const episode = new EvalEpisode(env, {
          target: r.target,
          seed: envSeed(deriveSeed(seed, 'eval', r.target), e),
          K: 4,
          stateMean,
          stateStd,
          config,
        });
        while (!episode.done) {
          const w = episode.window();
          const out = tf.tidy(() =>
            model.forward(
              {
                states: tf.tensor3d(w.states, [1, 4, 11]),
                actions: tf.tensor3d(w.actions, [1, 4, 3]),
                returnsToGo: tf.tensor3d(w.returnsToGo, [1, 4, 1]),
                timesteps: tf.tensor2d(w.timesteps, [1, 4], 'int32'),
                mask: tf.tensor2d(w.mask, [1, 4]),
              },
              { training: false },
            ),
          );
          episode.step(out.dataSync().slice(3 * 3));
          out.dispose();
        }
        const where = `target ${r.target} episode ${e}`;
        assert.equal(episode.t, r.lengths[e], `${where}: length`);
        const rel = Math.abs(episode.episodeReturn - r.returns[e]) / Math.max(1, Math.abs(r.returns[e]));
        assert.ok(rel <= 1e-4, `${where}: return ${episode.episodeReturn} vs evaluate's ${r.returns[e]}`);
      }
    env.close();
    model.dispose();
  });
}

test('EvalEpisode refuses a step after the episode ended', async () => {
  const env = await makeEnv('hopper', { maxEpisodeSteps: 2 });
  const config = { maxEpisodeSteps: 2, maxEpLen: 1000, returnScale: 1000, evalPadding: 'official' as const };
  const episode = new EvalEpisode(env, {
    target: 3600,
    seed: 1,
    K: 2,
    stateMean: new Float64Array(11),
    stateStd: new Float64Array(11).fill(1),
    config,
  });
  episode.step([0, 0, 0]);
  episode.step([0, 0, 0]);
  assert.ok(episode.done && episode.truncated);
  assert.throws(() => episode.step([0, 0, 0]), /EvalEpisode.step: the episode must be running/);
  env.close();
});
