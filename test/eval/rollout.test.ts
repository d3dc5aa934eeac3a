import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initBackend, tf } from '../../src/backend';
import type { EvalConfig } from '../../src/config/eval';
import { normalizedScore } from '../../src/data/d4rl-ids';
import { evaluate } from '../../src/eval/rollout';
import { createModel } from '../../src/models';
import { deriveSeed } from '../../src/util/rng';
import type { SequenceModel } from '../../src/train/deps';
import { linearPolicy, toyDataset, ToyVecEnv, TOY_DIMS } from '../helpers/train-fakes';

before(async () => {
  await initBackend({ log: false });
});

/** The official loop of docs/spec.md §10 for one episode, written plainly with growing history lists. */
async function referenceEpisode(
  model: SequenceModel,
  target: number,
  episode: number,
  seed: number,
  cfg: EvalConfig,
  mean: Float64Array,
  std: Float64Array,
) {
  const K = Number(model.config.contextLength);
  const { stateDim: s, actDim: a } = model.dims;
  const env = new ToyVecEnv(cfg.episodesPerTarget, deriveSeed(seed, 'eval', target));
  const norm = (obs: Float64Array, off: number) =>
    Array.from({ length: s }, (_, j) => (Math.fround(obs[off + j]) - mean[j]) / std[j]);
  const obs0 = await env.reset();
  const histS = [norm(obs0, episode * s)];
  const histA: number[][] = [];
  const histR = [Math.fround(target / cfg.returnScale)];
  const histT = [0];
  let ret = 0;
  let len = 0;
  const padS =
    cfg.evalPadding === 'official' ? Array(s).fill(0) : Array.from({ length: s }, (_, j) => -mean[j] / std[j]);
  const padA = cfg.evalPadding === 'official' ? 0 : -10;
  for (let t = 0; t < cfg.maxEpisodeSteps; t++) {
    histA.push(Array(a).fill(0));
    const take = <T>(xs: T[]) => xs.slice(-K);
    const S = take(histS);
    const A = take(histA);
    const R = take(histR);
    const T = take(histT);
    const pad = K - S.length;
    const states = [...Array(pad).fill(padS), ...S].flat();
    const actions = [...Array(pad).fill(Array(a).fill(padA)), ...A].flat();
    const rtg = [...Array(pad).fill(0), ...R];
    const ts = [...Array(pad).fill(0), ...T];
    const mask = [...Array(pad).fill(0), ...Array(S.length).fill(1)];
    const out = tf.tidy(() =>
      model.forward(
        {
          states: tf.tensor3d(states, [1, K, s]),
          actions: tf.tensor3d(actions, [1, K, a]),
          returnsToGo: tf.tensor3d(rtg, [1, K, 1]),
          timesteps: tf.tensor2d(ts, [1, K], 'int32'),
          mask: tf.tensor2d(mask, [1, K]),
        },
        { training: false },
      ),
    );
    const act = Array.from(out.dataSync()).slice((K - 1) * a);
    out.dispose();
    histA[histA.length - 1] = act;
    const full = new Float32Array(cfg.episodesPerTarget * a);
    full.set(act, episode * a);
    const res = await env.step(full);
    ret += res.rewards[episode];
    len += 1;
    if (res.terminated[episode] || res.truncated[episode]) break;
    histS.push(norm(res.observations, episode * s));
    histR.push(Math.fround(histR[histR.length - 1] - Math.fround(res.rewards[episode] / cfg.returnScale)));
    histT.push(t + 1);
  }
  return { ret, len };
}

for (const [evalPadding, workers] of [
  ['official', 0],
  ['train-consistent', 0],
  ['official', 1], // two alternating target groups, merged when fewer than 4 episodes run
] as const) {
  test(`batched evaluation equals the one-episode-at-a-time loop of docs/spec.md §10 (${evalPadding} padding, workers ${workers})`, async () => {
    const data = toyDataset();
    const model = linearPolicy({ contextLength: 4 }, TOY_DIMS, 3);
    const cfg: EvalConfig = {
      targets: [3600, 7200],
      episodesPerTarget: 3,
      maxEpisodeSteps: 25,
      maxEpLen: 1000,
      returnScale: 1000,
      evalPadding,
    };
    const before = tf.memory().numTensors;
    const results = await evaluate(model, {
      env: 'hopper',
      stateMean: data.stateMean,
      stateStd: data.stateStd,
      config: cfg,
      seed: 5,
      silent: true,
      workers,
      overlapMinRows: 4,
      createVecEnv: async (_e, n, o) => new ToyVecEnv(n, o.seed),
    });
    assert.equal(tf.memory().numTensors, before);
    const lengths = new Set<number>();
    for (const r of results) {
      for (let e = 0; e < cfg.episodesPerTarget; e++) {
        const ref = await referenceEpisode(model, r.target, e, 5, cfg, data.stateMean, data.stateStd);
        assert.ok(
          Math.abs(r.returns[e] - ref.ret) <= 1e-9 * Math.max(1, Math.abs(ref.ret)),
          `target ${r.target} episode ${e}: ${r.returns[e]} vs ${ref.ret}`,
        );
        assert.equal(r.lengths[e], ref.len);
        lengths.add(ref.len);
      }
      const mean = r.returns.reduce((x, y) => x + y, 0) / r.returns.length;
      assert.ok(Math.abs(r.returnMean - mean) < 1e-9);
      assert.equal(r.normalizedScore, normalizedScore('hopper', mean));
    }
    assert.ok(lengths.size > 1, 'episodes of different lengths, so finished episodes are masked out mid-batch');
    model.dispose();
  });
}

test('the two paddings give different actions (the window is padded, not truncated)', async () => {
  const data = toyDataset();
  const model = linearPolicy({ contextLength: 4 }, TOY_DIMS, 3);
  const run = (evalPadding: 'official' | 'train-consistent') =>
    evaluate(model, {
      env: 'hopper',
      stateMean: data.stateMean,
      stateStd: data.stateStd,
      config: {
        targets: [3600],
        episodesPerTarget: 2,
        maxEpisodeSteps: 10,
        maxEpLen: 1000,
        returnScale: 1000,
        evalPadding,
      },
      seed: 5,
      silent: true,
      createVecEnv: async (_e, n, o) => new ToyVecEnv(n, o.seed),
    });
  const [a, b] = [await run('official'), await run('train-consistent')];
  assert.notDeepEqual(a[0].returns, b[0].returns);
  model.dispose();
});

test('a DMM: forwardLast and two alternating target groups give the returns of one full forward per step', async () => {
  const data = toyDataset();
  const dmm = createModel('dmm', { hiddenSize: 16, nLayer: 2, contextLength: 4, windowSize: 4 }, TOY_DIMS, 11);
  // A large head saturates the actions, so the toy env terminates some episodes early, at different steps.
  const head = dmm.trainableParameters().get('predict_action.0.weight')!;
  head.assign(tf.tidy(() => head.mul(30)));
  // The evaluator's old path: the full forward, read at the last position (no forwardLast).
  const fullOnly: SequenceModel = {
    name: dmm.name,
    config: dmm.config as unknown as Record<string, unknown>,
    dims: dmm.dims,
    forward: (inputs, opts) => dmm.forward(inputs, opts),
    trainableParameters: () => dmm.trainableParameters(),
    frozenTensors: () => dmm.frozenTensors(),
    parameterCount: () => dmm.parameterCount(),
    dispose: () => dmm.dispose(),
  };
  const cfg: EvalConfig = {
    targets: [3600, 5000, 7200],
    episodesPerTarget: 3,
    maxEpisodeSteps: 25,
    maxEpLen: 1000,
    returnScale: 1000,
    evalPadding: 'official',
  };
  const run = (m: SequenceModel, workers: number) =>
    evaluate(m, {
      env: 'hopper',
      stateMean: data.stateMean,
      stateStd: data.stateStd,
      config: cfg,
      seed: 8,
      silent: true,
      workers, // > 0: two groups of targets alternate (the toy env ignores the worker count)
      overlapMinRows: 5, // split while 5 or more episodes run, one group after
      createVecEnv: async (_e, n, o) => new ToyVecEnv(n, o.seed),
    });
  const before = tf.memory().numTensors;
  const old = await run(fullOnly, 0);
  const lengths = new Set(old.flatMap((r) => r.lengths));
  assert.ok(lengths.size > 1, 'episodes end at different steps');
  for (const workers of [0, 1]) {
    const got = await run(dmm as unknown as SequenceModel, workers);
    for (let ti = 0; ti < cfg.targets.length; ti++) {
      assert.deepEqual(got[ti].lengths, old[ti].lengths);
      for (let e = 0; e < cfg.episodesPerTarget; e++) {
        const [x, y] = [got[ti].returns[e], old[ti].returns[e]];
        assert.ok(Math.abs(x - y) <= 1e-5 * Math.max(1, Math.abs(y)), `workers ${workers}: ${x} vs ${y}`);
      }
    }
  }
  assert.equal(tf.memory().numTensors, before);
  dmm.dispose();
});
