/**
 * The evaluator's model call on the fused engine (src/engine/forward.ts) against the tfjs model's forwardLast:
 * the same last-step actions to float32 round-off for several batch sizes (padded up to the program's bucket) and
 * models (DMM with and without the timestep embedding, Decision Mamba, DC, DT),
 * and a whole evaluation through it gives the same returns as through tfjs; packed runs' calls wait for each
 * other and get exactly what each run gets alone, also when the runs are split over several programs.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../../src/backend';
import { createModel, type DmmConfig } from '../../src/models';
import { EngineForward } from '../../src/engine/forward';
import { evaluate } from '../../src/eval/rollout';
import { resolveTrainConfig } from '../../src/config/train';
import { Trainer, engineModelOf } from '../../src/train/trainer';
import { maskedActionLoss } from '../../src/models';
import { syntheticBatch } from '../helpers/engine-run';
import { ToyVecEnv, TOY_DIMS } from '../helpers/train-fakes';

before(async () => {
  process.env.DMM_QUIET = '1';
  await initBackend({ log: false });
});

const HOPPER = { stateDim: 11, actDim: 3 };

test('engine forward = tfjs forwardLast for batch sizes 1, 5, 13 (padded to buckets), every model', async () => {
  for (const [name, config] of [
    ['dmm', { hiddenSize: 32, contextLength: 6 }],
    ['dmm', { hiddenSize: 16, contextLength: 3, dsmMode: 'shared-frozen' }],
    ['dmm', { hiddenSize: 16, contextLength: 4, timestepEmbedding: true, channelMlp: true, mambaConv: 4 }],
    ['dmamba', { hiddenSize: 16, contextLength: 5, nLayer: 2 }],
    ['dc', { hiddenSize: 16, contextLength: 4, nLayer: 2 }],
    ['dt', { hiddenSize: 16, contextLength: 4, nLayer: 2 }],
  ] as const) {
    const model = createModel(name, config as never, HOPPER, 4);
    const fwd = new EngineForward(engineModelOf(model), HOPPER, 'cpu');
    const weights = new Map(
      [...model.trainableParameters(), ...model.frozenTensors()].map(([k, v]) => [k, Float32Array.from(v.dataSync())]),
    );
    fwd.setWeights(weights);
    const K = (model.config as DmmConfig).contextLength;
    for (const B of [1, 5, 13]) {
      const w = syntheticBatch(HOPPER, B, K, 30 + B, true);
      const got = await fwd.lastActions(w, B, 13);
      const ref = tf.tidy(() =>
        model.forwardLast!({
          states: tf.tensor3d(w.states, [B, K, 11]),
          actions: tf.tensor3d(w.actions, [B, K, 3]),
          returnsToGo: tf.tensor3d(w.returnsToGo, [B, K, 1]),
          timesteps: tf.tensor2d(w.timesteps, [B, K], 'int32'),
          mask: tf.tensor2d(w.mask, [B, K]),
        }).dataSync(),
      );
      let num = 0;
      let den = 0;
      for (let i = 0; i < ref.length; i++) {
        num = Math.max(num, Math.abs(got[i] - ref[i]));
        den = Math.max(den, Math.abs(ref[i]));
      }
      assert.equal(got.length, ref.length);
      assert.ok(num / den <= 1e-5, `B ${B}: relative error ${num / den}`);
    }
    fwd.dispose();
    model.dispose();
  }
});

test('an evaluation through the fused trainer’s model equals one through the tfjs model', async () => {
  const model = createModel('dmm', { hiddenSize: 16, contextLength: 4 } as never, TOY_DIMS, 5);
  const trainer = new Trainer(
    model,
    {
      sample: () => {
        throw new Error('unused');
      },
      getState: () => null,
      setState: () => {},
    },
    resolveTrainConfig({ batchSize: 2 }),
    1,
    maskedActionLoss,
    { engine: 'fused' },
  );
  const opts = {
    env: 'hopper',
    stateMean: [0, 0, 0],
    stateStd: [1, 1, 1],
    config: {
      targets: [3600, 7200],
      episodesPerTarget: 3,
      maxEpisodeSteps: 12,
      maxEpLen: 1000,
      returnScale: 1000,
      evalPadding: 'official' as const,
    },
    seed: 3,
    createVecEnv: async (_e: string, n: number, o: { seed: number }) => new ToyVecEnv(n, o.seed, 12),
    silent: true,
  };
  const viaEngine = await evaluate(await trainer.evalModel(), opts);
  const viaTfjs = await evaluate(model, opts);
  for (let t = 0; t < 2; t++)
    viaTfjs[t].returns.forEach((r, i) =>
      assert.ok(
        Math.abs(viaEngine[t].returns[i] - r) <= 1e-4 * Math.max(1, Math.abs(r)),
        `${viaEngine[t].returns} vs ${viaTfjs[t].returns}`,
      ),
    );
  trainer.dispose();
  model.dispose();
});

test('packed runs: calls wait for every open run, answers equal each run alone, split programs too', async () => {
  const config = { hiddenSize: 16, contextLength: 4 };
  const models = [7, 8, 9].map((seed) => createModel('dmm', config as never, HOPPER, seed));
  const weights = models.map(
    (m) =>
      new Map([...m.trainableParameters(), ...m.frozenTensors()].map(([k, v]) => [k, Float32Array.from(v.dataSync())])),
  );
  const cfg = models[0].config as DmmConfig;
  const alone = await Promise.all(
    weights.map(async (w, r) => {
      const f = new EngineForward(cfg, HOPPER, 'cpu');
      f.setWeights(w);
      const B = 3 + 4 * r;
      const out = await f.lastActions(syntheticBatch(HOPPER, B, 4, 50 + r, true), B, 11);
      f.dispose();
      return out;
    }),
  );
  for (const perProgram of [undefined, 2]) {
    const fwd = new EngineForward(cfg, HOPPER, 'cpu', 3, perProgram);
    weights.forEach((w, r) => fwd.setWeights(w, r));
    let settled = 0;
    const calls = [0, 2].map((r) => {
      const B = 3 + 4 * r;
      return fwd.lastActions(syntheticBatch(HOPPER, B, 4, 50 + r, true), B, 11, r).then((y) => (settled++, y));
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(settled, 0, 'calls must wait for run 1, which is open');
    fwd.close(1);
    const [y0, y2] = await Promise.all(calls);
    assert.deepEqual(y0, alone[0]);
    assert.deepEqual(y2, alone[2]);
    // Run 1's next call opens it again; alone now (0 and 2 ask nothing), it is answered at once.
    fwd.close(0);
    fwd.close(2);
    assert.deepEqual(await fwd.lastActions(syntheticBatch(HOPPER, 7, 4, 51, true), 7, 11, 1), alone[1]);
    fwd.dispose();
  }
  for (const m of models) m.dispose();
});
