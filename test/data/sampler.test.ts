import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatchSampler, returnsToGo, stateStatistics, type Trajectory } from '../../src/data';

const S = 2;
const A = 1;

/** Trajectory `id` of length T: state (id, t·0.5 − 1), action id + t/10, reward (id + 1)·(t + 1)/3. */
function traj(id: number, T: number, timeout = false): Trajectory {
  const observations = new Float32Array(T * S);
  const actions = new Float32Array(T * A);
  const rewards = new Float32Array(T);
  for (let t = 0; t < T; t++) {
    observations[t * S] = id;
    observations[t * S + 1] = t * 0.5 - 1;
    actions[t] = id + t / 10;
    rewards[t] = ((id + 1) * (t + 1)) / 3;
  }
  const terminals = new Uint8Array(T);
  const timeouts = new Uint8Array(T);
  (timeout ? timeouts : terminals)[T - 1] = 1;
  return { observations, actions, rewards, terminals, timeouts };
}

function source(trajectories: Trajectory[]): {
  trajectories: Trajectory[];
  stateMean: Float64Array;
  stateStd: Float64Array;
} {
  const { mean, std } = stateStatistics(trajectories, S);
  return { trajectories, stateMean: mean, stateStd: std };
}

test('returns-to-go: reverse cumulative sum accumulated in float32', () => {
  const r = Float32Array.from([1e8, 1, 1, 1, 3]);
  const g = returnsToGo(r);
  const ref = new Float32Array(r.length); // a Float32Array rounds every partial sum, as numpy's float32 loop does
  for (let t = r.length - 1; t >= 0; t--) ref[t] = r[t] + (t + 1 < r.length ? ref[t + 1] : 0);
  assert.deepEqual(Array.from(g), Array.from(ref));
  assert.equal(g[4], 3);
  assert.equal(g[1], 6);
  assert.notEqual(g[0], 1e8 + 6); // float64 would keep the 6; float32 rounds it away at this magnitude
});

test('padding, mask, returns-to-go and timesteps equal the spec for every window, ends included', () => {
  const trajectories = [traj(0, 3), traj(1, 7, true), traj(2, 12)];
  const src = source(trajectories);
  const K = 5;
  const B = 16;
  const scale = 10;
  const maxEpLen = 9; // small, so clipping of timesteps ≥ maxEpLen is exercised by trajectory 2
  const sampler = new BatchSampler(src, { contextLength: K, batchSize: B, returnScale: scale, maxEpLen, seed: 7 });
  const seen = new Set<string>();
  for (let n = 0; n < 60; n++) {
    const batch = sampler.sample();
    for (let b = 0; b < B; b++) {
      const row = b * K;
      const pad = K - Array.from(batch.mask.subarray(row, row + K)).reduce((p, q) => p + q, 0);
      // The trajectory is identified by the state's first coordinate, the start by the second.
      const id = Math.round(batch.states[(row + pad) * S] * src.stateStd[0] + src.stateMean[0]);
      const t0 = Math.round((batch.states[(row + pad) * S + 1] * src.stateStd[1] + src.stateMean[1] + 1) / 0.5);
      const T = trajectories[id].rewards.length;
      const tlen = Math.min(K, T - t0);
      assert.equal(pad, K - tlen, 'window cut at the trajectory end and left-padded');
      seen.add(`${id}:${t0}`);
      // Float64 reference of the spec (docs/spec.md §8.5-§8.8).
      for (let k = 0; k < K; k++) {
        const real = k >= pad;
        const t = t0 + k - pad;
        assert.equal(batch.mask[row + k], real ? 1 : 0);
        for (let j = 0; j < S; j++) {
          const raw = real ? trajectories[id].observations[t * S + j] : 0;
          assert.equal(batch.states[(row + k) * S + j], Math.fround((raw - src.stateMean[j]) / src.stateStd[j]));
        }
        assert.equal(batch.actions[row + k], real ? trajectories[id].actions[t] : -10);
        let g = 0;
        for (let u = t; u < T; u++) g += trajectories[id].rewards[u];
        const expectRtg = real ? g / scale : 0;
        assert.ok(
          Math.abs(batch.returnsToGo[row + k] - expectRtg) <= 1e-6 * Math.max(1, Math.abs(expectRtg)),
          `rtg ${batch.returnsToGo[row + k]} vs ${expectRtg}`,
        );
        assert.equal(batch.timesteps[row + k], real ? Math.min(t, maxEpLen - 1) : 0);
      }
    }
  }
  // Every start of every trajectory was drawn, including starts in a trajectory's last step.
  for (const [id, t] of trajectories.entries())
    for (let si = 0; si < t.rewards.length; si++) assert.ok(seen.has(`${id}:${si}`), `start ${id}:${si} never drawn`);
});

test('trajectories are drawn in proportion to their length', () => {
  const trajectories = [traj(0, 10), traj(1, 40)];
  const sampler = new BatchSampler(source(trajectories), { contextLength: 1, batchSize: 500, seed: 3 });
  let ones = 0;
  const draws = 20 * 500;
  for (let n = 0; n < 20; n++) {
    const b = sampler.sample();
    for (let i = 0; i < 500; i++) ones += b.actions[i] >= 1 ? 1 : 0;
  }
  const p = ones / draws;
  assert.ok(Math.abs(p - 0.8) < 0.02, `P(long trajectory) = ${p}, expected 0.8`);
});

test('seeded: same seed same batches; getState/setState resumes exactly', () => {
  const src = source([traj(0, 30), traj(1, 50)]);
  const a = new BatchSampler(src, { contextLength: 8, batchSize: 4, seed: 11 });
  const b = new BatchSampler(src, { contextLength: 8, batchSize: 4, seed: 11 });
  assert.deepEqual(a.sample(), b.sample());
  a.sample();
  const state = JSON.parse(JSON.stringify(a.getState()));
  const next = [a.sample(), a.sample()];
  const c = new BatchSampler(src, { contextLength: 8, batchSize: 4, seed: 999 });
  c.setState(state);
  assert.deepEqual([c.sample(), c.sample()], next);
  assert.equal(c.getState().batches, 4);
  const d = new BatchSampler(src, { contextLength: 8, batchSize: 4, seed: 12 });
  assert.notDeepEqual(
    d.sample().timesteps,
    new BatchSampler(src, { contextLength: 8, batchSize: 4, seed: 11 }).sample().timesteps,
  );
});

test('%BC keeps the best trajectories within the step budget', () => {
  // Returns grow with id: keep id 2 (12 steps), then id 1 (7) fits in floor(0.9·22) = 19; id 0 (3) does not.
  const sampler = new BatchSampler(source([traj(0, 3), traj(1, 7), traj(2, 12)]), {
    contextLength: 2,
    seed: 1,
    pctTraj: 0.9,
  });
  assert.equal(sampler.trajectoryCount, 2);
});

test('bad options give one-line errors', () => {
  const src = source([traj(0, 3)]);
  assert.throws(() => new BatchSampler(src, { batchSize: 4 }), /contextLength must be given/);
  assert.throws(() => new BatchSampler(src, { contextLength: 0 }), /contextLength must be an integer ≥ 1, got 0/);
  assert.throws(
    () => new BatchSampler(src, { contextLength: 4, returnScale: 0 }),
    /returnScale must be a positive number/,
  );
  assert.throws(
    () => new BatchSampler(src, { contextLength: 4, contextLenght: 3 } as never),
    /Did you mean 'contextLength'/,
  );
});
