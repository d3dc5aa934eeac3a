/** The single environments: dimensions, seeding, rewards, termination, time limit, action checks, masses. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ENV_NAMES, type EnvName } from '../../src/config/names';
import { makeEnv, TASKS } from '../../src/envs';
import { expectedMasses, randomActions } from '../helpers/envs-facts';

const DIMS: Record<EnvName, [number, number]> = { hopper: [11, 3], halfcheetah: [17, 6], walker2d: [17, 6] };

for (const id of ENV_NAMES) {
  test(`${id}: observation and action dimensions are ${DIMS[id].join('/')}`, async () => {
    const env = await makeEnv(id, { seed: 0 });
    assert.equal(env.observationDim, DIMS[id][0]);
    assert.equal(env.actionDim, DIMS[id][1]);
    assert.equal(env.reset().length, DIMS[id][0]);
    assert.equal(env.step(new Float64Array(env.actionDim)).observation.length, DIMS[id][0]);
    assert.equal(env.nq, TASKS[id].nq);
    assert.equal(env.nv, TASKS[id].nv);
    env.close();
  });

  test(`${id}: a seed gives the same reset state, another seed a different one, noise within its law`, async () => {
    const a = await makeEnv(id, { seed: 7 });
    const b = await makeEnv(id, { seed: 7 });
    const c = await makeEnv(id, { seed: 8 });
    const oa = a.reset();
    assert.deepEqual(Array.from(b.reset()), Array.from(oa));
    assert.deepEqual(Array.from(b.getState().qpos), Array.from(a.getState().qpos));
    assert.notDeepEqual(Array.from(c.reset()), Array.from(oa));
    // Second episode of the same env differs from the first (the noise stream moves on).
    assert.notDeepEqual(Array.from(a.reset()), Array.from(oa));
    const s = TASKS[id].resetNoiseScale;
    const init = id === 'halfcheetah' ? [0, 0, 0, 0, 0, 0, 0, 0, 0] : [0, 1.25, 0, 0, 0, 0, 0, 0, 0];
    const { qpos, qvel } = a.getState();
    qpos.forEach((q, i) => assert.ok(Math.abs(q - init[i]) <= s, `qpos[${i}] = ${q} outside init ± ${s}`));
    if (TASKS[id].qvelNoise === 'uniform') qvel.forEach((v) => assert.ok(Math.abs(v) <= s));
    else assert.ok(qvel.some((v) => Math.abs(v) > 1e-3) && qvel.every((v) => Math.abs(v) < 8 * s));
    for (const e of [a, b, c]) e.close();
  });

  test(`${id}: reward equals its Gym v3 formula recomputed from qpos before and after`, async () => {
    const env = await makeEnv(id, { seed: 1 });
    env.reset();
    const actions = randomActions(11, 40 * env.actionDim);
    const task = TASKS[id];
    for (let t = 0; t < 40; t++) {
      const action = Array.from(actions.subarray(t * env.actionDim, (t + 1) * env.actionDim), (a) => 1.5 * a);
      const before = env.getState().qpos[0];
      const r = env.step(action);
      const after = env.getState().qpos[0];
      const vx = (after - before) / env.dt;
      const ctrl = task.ctrlCostWeight * action.reduce((s, a) => s + Math.max(-1, Math.min(1, a)) ** 2, 0);
      const expected = task.forwardRewardWeight * vx + task.healthyReward - ctrl;
      assert.ok(Math.abs(r.reward - expected) < 1e-12, `t=${t}: reward ${r.reward} vs formula ${expected}`);
      assert.ok(Math.abs(r.info.xVelocity - vx) < 1e-12);
      assert.equal(r.info.rewardCtrl, ctrl);
      assert.equal(r.info.rewardHealthy, task.healthyReward);
      if (r.terminated) env.reset();
    }
    assert.equal(env.dt, id === 'halfcheetah' ? 0.05 : 0.008);
    env.close();
  });

  test(`${id}: total and per-body masses match the facts (capsule geometry, density 1000${id === 'halfcheetah' ? ', total 14 kg' : ''})`, async () => {
    const env = await makeEnv(id, { seed: 0 });
    const { names, masses } = env.bodyMasses();
    const expected = expectedMasses(id);
    assert.deepEqual(names.slice(1).sort(), Object.keys(expected).sort());
    let total = 0;
    names.forEach((name, b) => {
      if (b === 0) return assert.equal(masses[b], 0);
      total += masses[b];
      assert.ok(
        Math.abs(masses[b] - expected[name]) < 1e-9 * expected[name],
        `${name}: ${masses[b]} vs ${expected[name]}`,
      );
    });
    const expectedTotal = Object.values(expected).reduce((s, m) => s + m, 0);
    assert.ok(Math.abs(total - expectedTotal) < 1e-9);
    // Rounded values of docs/spec.md §14.1.
    const sheet = { hopper: 15.8, walker2d: 23.7, halfcheetah: 14 }[id];
    assert.ok(Math.abs(total - sheet) < 0.06, `total ${total} vs ≈ ${sheet}`);
    env.close();
  });

  test(`${id}: D4RL check — setState(qpos, qvel) reproduces the recorded observation (squared error < 1e-8)`, async () => {
    const env = await makeEnv(id, { seed: 4 });
    const replay = await makeEnv(id, { seed: 99 });
    let obs = env.reset();
    const actions = randomActions(5, 40 * env.actionDim);
    for (let t = 0; t < 40; t++) {
      const { qpos, qvel } = env.getState();
      // float64 state → float64 observation: exact.
      const again = replay.setState(qpos, qvel);
      assert.deepEqual(Array.from(again), Array.from(obs));
      // float32 storage as in the D4RL files.
      const again32 = replay.setState(Float32Array.from(qpos), Float32Array.from(qvel));
      const obs32 = Float32Array.from(obs);
      const err = again32.reduce((s, v, i) => s + (Math.fround(v) - obs32[i]) ** 2, 0);
      assert.ok(err < 1e-8, `t=${t}: squared error ${err}`);
      const r = env.step(actions.subarray(t * env.actionDim, (t + 1) * env.actionDim));
      obs = r.terminated || r.truncated ? env.reset() : r.observation;
    }
    env.close();
    replay.close();
  });

  test(`${id}: NaN, infinite and wrong-length actions are rejected with a one-line error`, async () => {
    const env = await makeEnv(id, { seed: 0 });
    env.reset();
    const nan = new Float64Array(env.actionDim);
    nan[1] = NaN;
    assert.throws(
      () => env.step(nan),
      (e: Error) =>
        /^Error in step: action\[1\] must be a finite number, got NaN/.test(e.message) && !e.message.includes('\n'),
    );
    nan[1] = Infinity;
    assert.throws(() => env.step(nan), /action\[1\] must be a finite number, got Infinity/);
    const wrongLength = new RegExp(
      `^Error in step: action must have length ${env.actionDim} for ${id}, got ${env.actionDim + 1}\\.`,
    );
    assert.throws(
      () => env.step(new Float64Array(env.actionDim + 1)),
      (e: Error) => wrongLength.test(e.message) && !e.message.includes('\n'),
    );
    assert.throws(() => env.step([]), /must have length/);
    // The rejected calls did not advance the episode.
    assert.equal(env.elapsedSteps, 0);
    env.close();
  });
}

test('makeEnv rejects unknown ids and options with the nearest valid name', async () => {
  await assert.rejects(
    makeEnv('hoper' as EnvName),
    /id must be one of hopper, halfcheetah, walker2d, antmaze-umaze, antmaze-medium, antmaze-large, antmaze-ant, got 'hoper'\. Did you mean 'hopper'\?/,
  );
  await assert.rejects(makeEnv('hopper', { sed: 1 } as never), /unknown option 'sed'\. Did you mean 'seed'\?/);
});

test('step before reset and after the episode ended are errors', async () => {
  const env = await makeEnv('hopper', { seed: 0 });
  assert.throws(() => env.step([0, 0, 0]), /must be reset before stepping/);
  env.reset();
  const { qpos, qvel } = env.getState();
  qpos[1] = 0.3;
  env.setState(qpos, qvel);
  assert.equal(env.step([0, 0, 0]).terminated, true);
  assert.throws(() => env.step([0, 0, 0]), /episode must be running, got a step after it ended/);
  env.close();
});

/** Steps once with zero action from the reset state changed by `edit`; returns terminated. */
async function terminatesFrom(id: EnvName, edit: (qpos: Float64Array, qvel: Float64Array) => void): Promise<boolean> {
  const env = await makeEnv(id, { seed: 2 });
  env.reset();
  const { qpos, qvel } = env.getState();
  edit(qpos, qvel);
  env.setState(qpos, qvel);
  const r = env.step(new Float64Array(env.actionDim));
  env.close();
  return r.terminated;
}

test('hopper: each termination condition fires on a state forced past its bound, and not inside it', async () => {
  assert.equal(await terminatesFrom('hopper', () => {}), false);
  assert.equal(await terminatesFrom('hopper', (q) => (q[1] = 0.5)), true, 'z below 0.7');
  assert.equal(await terminatesFrom('hopper', (q) => (q[1] = 0.9)), false, 'z above 0.7');
  assert.equal(await terminatesFrom('hopper', (q) => (q[2] = 0.35)), true, 'angle above 0.2');
  assert.equal(await terminatesFrom('hopper', (q) => (q[2] = -0.35)), true, 'angle below -0.2');
  assert.equal(await terminatesFrom('hopper', (q) => (q[2] = 0.1)), false, 'angle inside');
  assert.equal(await terminatesFrom('hopper', (_, v) => (v[0] = 150)), true, 'state entry above 100 (qvel x)');
  assert.equal(await terminatesFrom('hopper', (_, v) => (v[0] = -150)), true, 'state entry below -100');
  assert.equal(await terminatesFrom('hopper', (_, v) => (v[0] = 50)), false, 'state entry inside');
  // The bounds are strict (docs/spec.md §14.2): exactly on a bound is unhealthy.
  const h = TASKS.hopper.isHealthy;
  const q = Float64Array.of(0, 1.25, 0, 0, 0, 0);
  const v = new Float64Array(6);
  assert.equal(h(q, v), true);
  assert.equal(h(Float64Array.of(0, 0.7, 0, 0, 0, 0), v), false);
  assert.equal(h(Float64Array.of(0, 1.25, 0.2, 0, 0, 0), v), false);
  assert.equal(h(Float64Array.of(0, 1.25, 0, 0, 100, 0), v), false);
  assert.equal(h(q, Float64Array.of(0, 0, 0, NaN, 0, 0)), false);
  // x position is not part of the health test (state[2:]).
  assert.equal(h(Float64Array.of(1e6, 1.25, 0, 0, 0, 0), v), true);
});

test('walker2d: each termination condition fires on a state forced past its bound, and not inside it', async () => {
  assert.equal(await terminatesFrom('walker2d', () => {}), false);
  assert.equal(await terminatesFrom('walker2d', (q) => (q[1] = 0.6)), true, 'z below 0.8');
  assert.equal(await terminatesFrom('walker2d', (q) => (q[1] = 2.5)), true, 'z above 2.0');
  assert.equal(await terminatesFrom('walker2d', (q) => (q[1] = 1.9)), false, 'z inside');
  assert.equal(await terminatesFrom('walker2d', (q) => (q[2] = 1.3)), true, 'angle above 1');
  assert.equal(await terminatesFrom('walker2d', (q) => (q[2] = -1.3)), true, 'angle below -1');
  assert.equal(await terminatesFrom('walker2d', (q) => (q[2] = 0.8)), false, 'angle inside');
  const h = TASKS.walker2d.isHealthy;
  const v = new Float64Array(9);
  assert.equal(h(Float64Array.of(0, 0.8, 0, 0, 0, 0, 0, 0, 0), v), false);
  assert.equal(h(Float64Array.of(0, 2.0, 0, 0, 0, 0, 0, 0, 0), v), false);
  assert.equal(h(Float64Array.of(0, 1.2, -1.0, 0, 0, 0, 0, 0, 0), v), false);
});

test('halfcheetah never terminates, even from a flipped or sunken state', async () => {
  assert.equal(await terminatesFrom('halfcheetah', (q) => ((q[1] = -0.5), (q[2] = 3))), false);
});

test('time limit: step 1000 sets truncated, not terminated; D4RL timeout/terminal bookkeeping', async () => {
  const env = await makeEnv('halfcheetah', { seed: 3 });
  env.reset();
  const actions = randomActions(3, 1000 * 6);
  for (let t = 1; t <= 1000; t++) {
    const r = env.step(actions.subarray((t - 1) * 6, t * 6));
    assert.equal(r.terminated, false);
    assert.equal(r.truncated, t === 1000, `t=${t}`);
    assert.equal(r.info.timeout, t === 1000);
    assert.equal(r.info.terminal, false);
    assert.equal(r.info.elapsedSteps, t);
  }
  env.close();
  // A step that is both unhealthy and the last one: terminated wins over truncated, D4RL records a timeout only.
  const hop = await makeEnv('hopper', { seed: 3, maxEpisodeSteps: 3 });
  hop.reset();
  assert.equal(hop.step([0, 0, 0]).truncated, false);
  assert.equal(hop.step([0, 0, 0]).truncated, false);
  const { qpos, qvel } = hop.getState();
  qpos[1] = 0.3;
  hop.setState(qpos, qvel);
  const last = hop.step([0, 0, 0]);
  assert.deepEqual(
    [last.terminated, last.truncated, last.info.timeout, last.info.terminal],
    [true, false, true, false],
  );
  // An unhealthy step before the limit is a D4RL terminal.
  hop.reset();
  const s = hop.getState();
  s.qpos[1] = 0.3;
  hop.setState(s.qpos, s.qvel);
  const early = hop.step([0, 0, 0]);
  assert.deepEqual(
    [early.terminated, early.truncated, early.info.timeout, early.info.terminal],
    [true, false, false, true],
  );
  hop.close();
});

test('actions are clipped to [-1, 1]: a large action acts like ±1', async () => {
  const a = await makeEnv('hopper', { seed: 5 });
  const b = await makeEnv('hopper', { seed: 5 });
  a.reset();
  b.reset();
  const ra = a.step([5, -7, 0.5]);
  const rb = b.step([1, -1, 0.5]);
  assert.deepEqual(Array.from(ra.observation), Array.from(rb.observation));
  assert.equal(ra.reward, rb.reward);
  a.close();
  b.close();
});
