/**
 * Packed runs (src/engine/pack.ts): three DMM runs that differ in seed, data and learning rate, trained 200
 * steps in one packed program on the CPU executor, end exactly where each run ends when trained alone
 * (weights, AdamW moments and losses bit for bit: the same kernels on the same numbers).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchSampler } from '../../src/data/sampler';
import { DMM_DEFAULTS, type DmmConfig } from '../../src/models';
import { EngineSession, type SessionConfig } from '../../src/engine/session';
import { syntheticDataset } from '../../bench/lib';
import { Rng } from '../../src/util/rng';

const DIMS = { stateDim: 11, actDim: 3 };
const CONFIG: DmmConfig = { ...DMM_DEFAULTS, hiddenSize: 16, contextLength: 4, nLayer: 2 };
const RUNS: SessionConfig[] = [1e-3, 3e-3, 5e-4].map((learningRate, i) => ({
  batchSize: 4,
  learningRate,
  warmupSteps: 20,
  weightDecay: 1e-4,
  gradClip: 0.25,
  seed: 11 + i,
}));

function initialWeights(session: EngineSession, seed: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const w = new Map<string, Float32Array>();
  for (const [name, r] of [...session.program.params, ...session.program.frozen])
    w.set(
      name,
      Float32Array.from({ length: r.size }, () => (name.endsWith('A_log') ? 1 : 0) + 0.1 * rng.normal()),
    );
  return w;
}

const sampler = (i: number) =>
  new BatchSampler(syntheticDataset(DIMS.stateDim, DIMS.actDim, 40 + i), {
    contextLength: CONFIG.contextLength,
    batchSize: 4,
    seed: 50 + i,
  });

test('three runs packed in one program equal the same runs trained alone, bit for bit', async () => {
  const packed = await EngineSession.create(CONFIG, DIMS, RUNS, 'cpu');
  RUNS.forEach((_, r) => packed.load({ weights: initialWeights(packed, r) }, r));
  const samplers = RUNS.map((_, r) => sampler(r));
  const losses: number[][] = [];
  for (let c = 0; c < 4; c++)
    losses.push(
      (
        await packed.train(
          50,
          samplers.map((s) => () => s.sample()),
        )
      ).meanLosses,
    );
  for (let r = 0; r < RUNS.length; r++) {
    const alone = await EngineSession.create(CONFIG, DIMS, RUNS[r], 'cpu');
    alone.load({ weights: initialWeights(alone, r) });
    const s = sampler(r);
    for (let c = 0; c < 4; c++)
      assert.equal((await alone.train(50, () => s.sample())).meanLoss, losses[c][r], `run ${r} chunk ${c}`);
    const a = await alone.state();
    const p = await packed.state(r);
    assert.equal(p.step, 200);
    for (const key of ['weights', 'm', 'v'] as const)
      for (const [name, v] of a[key])
        assert.deepEqual(Array.from(p[key].get(name)!), Array.from(v), `run ${r} ${key} ${name}`);
    alone.dispose();
  }
  // The runs really differ (different seeds, data and learning rates).
  assert.notEqual(losses[3][0], losses[3][1]);
  packed.dispose();
});
