/** VecEnv: identical trajectories for 0, 1 and 2 workers, per-env seeds, auto-reset, bad input. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { envSeed, makeEnv, VecEnv } from '../../src/envs';
import { randomActions } from '../helpers/envs-facts';

interface Trace {
  observations: number[];
  rewards: number[];
  flags: number[];
}

async function trace(workers: number, steps: number): Promise<Trace> {
  const vec = await VecEnv.create('hopper', 5, { seed: 12, workers, autoReset: true });
  const out: Trace = { observations: Array.from(await vec.reset()), rewards: [], flags: [] };
  const actions = randomActions(77, steps * vec.n * vec.actionDim);
  try {
    for (let t = 0; t < steps; t++) {
      const r = await vec.step(actions.subarray(t * vec.n * vec.actionDim, (t + 1) * vec.n * vec.actionDim));
      out.observations.push(...r.observations);
      out.rewards.push(...r.rewards);
      out.flags.push(...r.terminated, ...r.truncated, ...r.resets);
    }
  } finally {
    await vec.close();
  }
  return out;
}

test('VecEnv with 0 (in-thread), 1 and 2 workers gives identical trajectories, auto-resets included', async () => {
  const steps = 80;
  const [t0, t1, t2] = [await trace(0, steps), await trace(1, steps), await trace(2, steps)];
  // Random hopper episodes last ~20-60 steps, so this run must have crossed auto-resets.
  assert.ok(t0.flags.reduce((s, f) => s + f, 0) > 5, 'expected some episode ends');
  assert.deepEqual(t1.observations, t0.observations);
  assert.deepEqual(t2.observations, t0.observations);
  assert.deepEqual(t1.rewards, t0.rewards);
  assert.deepEqual(t2.rewards, t0.rewards);
  assert.deepEqual(t2.flags, t0.flags);
});

test('VecEnv env i follows a single env seeded with deriveSeed(seed, "env", i); autoReset returns the reset observation', async () => {
  const n = 3;
  const vec = await VecEnv.create('hopper', n, { seed: 4, autoReset: true });
  const singles = await Promise.all(Array.from({ length: n }, (_, i) => makeEnv('hopper', { seed: envSeed(4, i) })));
  const obs = await vec.reset();
  singles.forEach((env, i) =>
    assert.deepEqual(Array.from(env.reset()), Array.from(obs.subarray(i * 11, (i + 1) * 11))),
  );
  const actions = randomActions(9, 80 * n * 3);
  let sawReset = false;
  for (let t = 0; t < 80; t++) {
    const a = actions.subarray(t * n * 3, (t + 1) * n * 3);
    const r = await vec.step(a);
    singles.forEach((env, i) => {
      const s = env.step(a.subarray(i * 3, (i + 1) * 3));
      assert.equal(r.rewards[i], s.reward);
      assert.equal(r.terminated[i], s.terminated ? 1 : 0);
      assert.equal(r.truncated[i], s.truncated ? 1 : 0);
      const row = Array.from(r.observations.subarray(i * 11, (i + 1) * 11));
      if (s.terminated || s.truncated) {
        sawReset = true;
        assert.equal(r.resets[i], 1);
        assert.deepEqual(Array.from(r.finalObservations.subarray(i * 11, (i + 1) * 11)), Array.from(s.observation));
        assert.deepEqual(row, Array.from(env.reset()));
      } else {
        assert.equal(r.resets[i], 0);
        assert.deepEqual(row, Array.from(s.observation));
      }
    });
  }
  assert.ok(sawReset);
  await vec.close();
  singles.forEach((e) => e.close());
});

test('VecEnv without autoReset: a finished env stands still with reward 0 until reset()', async () => {
  const vec = await VecEnv.create('hopper', 2, { seed: 1 });
  await vec.reset();
  const zero = new Float32Array(6);
  let r = await vec.step(zero);
  for (let t = 0; t < 300 && !(r.terminated[0] || r.truncated[0]); t++) r = await vec.step(zero);
  assert.equal(r.terminated[0], 1);
  const frozen = Array.from(r.observations.subarray(0, 11));
  const next = await vec.step(zero);
  assert.deepEqual(Array.from(next.observations.subarray(0, 11)), frozen);
  assert.equal(next.rewards[0], 0);
  assert.equal(next.terminated[0], 1);
  assert.equal(vec.finishedMask()[0], 1);
  await vec.reset();
  assert.equal(vec.finishedMask()[0], 0);
  await vec.close();
});

test('VecEnv rejects NaN and wrong-length actions, bad options, and use after close', async () => {
  const vec = await VecEnv.create('walker2d', 2, { seed: 0 });
  await assert.rejects(vec.step(new Float32Array(12)), /must be reset before stepping/);
  await vec.reset();
  const bad = new Float32Array(12);
  bad[7] = NaN;
  await assert.rejects(vec.step(bad), (e: Error) =>
    /^Error in VecEnv\.step: actions\[7\] \(env 1\) must be a finite number, got NaN/.test(e.message),
  );
  await assert.rejects(vec.step(new Float32Array(11)), (e: Error) =>
    /^Error in VecEnv\.step: actions must have length n \* actionDim = 2 \* 6 = 12, got 11\./.test(e.message),
  );
  await vec.close();
  await assert.rejects(vec.reset(), /must be open/);
  await assert.rejects(VecEnv.create('walker2d', 0), /n must be a positive integer, got 0/);
  await assert.rejects(
    VecEnv.create('walker2d', 2, { workers: -1 }),
    /workers must be a non-negative integer or 'auto'/,
  );
  await assert.rejects(VecEnv.create('walker2d', 2, { autoreset: true } as never), /Did you mean 'autoReset'/);
});
