/**
 * The AntMaze envs against D4RL's facts: the ant's model (timestep, solver references, gear-1 motors of range ±30,
 * actuator order), the walls in the compiled model, the v2 reset and goal draws, sparse reward and done at 0.5 m,
 * the 700-step umaze limit, VecEnv, and the top-view picture.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { envSeed, makeEnv, randomRollout, topViewSvg, VecEnv } from '../../src/envs';
import { randomActions } from '../helpers/envs-facts';

const BOX = 6; // mjGEOM_BOX

test('antmaze-umaze: 29-dim observation (qpos then qvel), 8 actions, dt 0.1 s, 700-step episodes', async () => {
  const env = await makeEnv('antmaze-umaze', { seed: 0 });
  assert.deepEqual([env.observationDim, env.actionDim, env.nq, env.nv], [29, 8, 15, 14]);
  assert.ok(Math.abs(env.dt - 0.1) < 1e-12);
  assert.equal(env.maxEpisodeSteps, 700);
  const obs = env.reset();
  const { qpos, qvel } = env.getState();
  assert.deepEqual(Array.from(obs), [...qpos, ...qvel]);
  env.close();
  for (const id of ['antmaze-medium', 'antmaze-large'] as const) {
    const e = await makeEnv(id, { seed: 0 });
    assert.equal(e.maxEpisodeSteps, 1000);
    e.close();
  }
});

test("antmaze ant: D4RL's timestep, solver references and motors (gear 1, ctrlrange ±30, D4RL's actuator order)", async () => {
  const env = await makeEnv('antmaze-umaze', { seed: 0 });
  const { mj, model } = env.raw;
  assert.equal(model.opt.timestep, 0.02);
  assert.equal(model.opt.integrator, mj.mjtIntegrator.mjINT_RK4.value);
  const gear = model.actuator_gear as Float64Array;
  const range = model.actuator_ctrlrange as Float64Array;
  const trn = model.actuator_trnid as Int32Array;
  const joints = Array.from({ length: model.nu }, (_, u) =>
    mj.mj_id2name(model, mj.mjtObj.mjOBJ_JOINT.value, trn[2 * u]),
  );
  assert.deepEqual(joints, ['hip_4', 'ankle_4', 'hip_1', 'ankle_1', 'hip_2', 'ankle_2', 'hip_3', 'ankle_3']);
  for (let u = 0; u < model.nu; u++) {
    assert.equal(gear[6 * u], 1);
    assert.deepEqual([range[2 * u], range[2 * u + 1]], [-30, 30]);
  }
  const geom = mj.mj_name2id(model, mj.mjtObj.mjOBJ_GEOM.value, 'left_leg_geom');
  assert.deepEqual(Array.from((model.geom_solref as Float64Array).subarray(2 * geom, 2 * geom + 2)), [0.02, 1]);
  assert.deepEqual(Array.from((model.geom_solimp as Float64Array).subarray(5 * geom, 5 * geom + 3)), [0.8, 0.8, 0.01]);
  // NormalizedBoxEnv: the torque is 30·clip(a, −1, 1).
  env.reset();
  const a = [0.5, -2, 1, 0, -0.25, 3, -1, 0.1];
  env.step(a);
  const ctrl = Array.from(env.raw.data.ctrl as Float64Array);
  assert.deepEqual(
    ctrl,
    a.map((v) => 30 * Math.max(-1, Math.min(1, v))),
  );
  env.close();
});

test('antmaze-umaze: the compiled model holds one colliding 4 × 4 × 2 m box per wall cell at (4j − 4, 4i − 4, 1)', async () => {
  const env = await makeEnv('antmaze-umaze', { seed: 0 });
  const { mj, model } = env.raw;
  const types = model.geom_type as Int32Array;
  const pos = model.geom_pos as Float64Array;
  const size = model.geom_size as Float64Array;
  const map = ['#####', '#R..#', '###.#', '#G..#', '#####'];
  const expected = new Set<string>();
  map.forEach((row, i) => [...row].forEach((c, j) => c === '#' && expected.add(`${4 * j - 4},${4 * i - 4},1`)));
  const found = new Set<string>();
  for (let g = 0; g < model.ngeom; g++) {
    if (types[g] !== BOX) continue;
    found.add(`${pos[3 * g]},${pos[3 * g + 1]},${pos[3 * g + 2]}`);
    assert.deepEqual(Array.from(size.subarray(3 * g, 3 * g + 3)), [2, 2, 1]);
    assert.equal((model.geom_contype as Int32Array)[g], 1);
    assert.equal((model.geom_conaffinity as Int32Array)[g], 1);
    assert.equal((model.geom_bodyid as Int32Array)[g], 0, 'walls belong to the world body');
  }
  assert.deepEqual([...found].sort(), [...expected].sort());
  assert.equal(found.size, 18);
  // The walls stop the ant: dropped with its torso overlapping the wall above the start cell (y ≥ 2), it is pushed
  // back into the free cell.
  env.reset();
  const { qpos, qvel } = env.getState();
  qpos[0] = 0;
  qpos[1] = 1.9;
  env.setState(qpos, qvel.fill(0));
  for (let t = 0; t < 10; t++) env.step(new Float64Array(8));
  const y = env.getState().qpos[1];
  assert.ok(y < 2 - 0.25 + 0.02, `torso centre at y = ${y}, inside the wall`);
  void mj;
  env.close();
});

test('v2 reset: qpos0 + U(±0.1), qvel 0.1·N(0, 1), a fresh goal every reset; all seeded', async () => {
  const env = await makeEnv('antmaze-umaze', { seed: 3 });
  const twin = await makeEnv('antmaze-umaze', { seed: 3 });
  const other = await makeEnv('antmaze-umaze', { seed: 4 });
  const qpos0 = [0, 0, 0.75, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  const n = 400;
  const dq: number[] = [];
  const v: number[] = [];
  const goals: [number, number][] = [];
  for (let k = 0; k < n; k++) {
    const obs = env.reset();
    assert.deepEqual(Array.from(twin.reset()), Array.from(obs));
    assert.deepEqual(twin.goal, env.goal);
    if (k === 0) assert.notDeepEqual(Array.from(other.reset()), Array.from(obs));
    const { qpos, qvel } = env.getState();
    qpos.forEach((q, i) => dq.push(q - qpos0[i]));
    v.push(...qvel);
    goals.push(env.goal);
  }
  assert.ok(dq.every((d) => Math.abs(d) <= 0.1));
  const mean = (a: number[]): number => a.reduce((s, x) => s + x, 0) / a.length;
  const sd = (a: number[]): number => Math.sqrt(mean(a.map((x) => (x - mean(a)) ** 2)));
  // U(±0.1): mean 0, sd 0.1/√3; 0.1·N(0, 1): mean 0, sd 0.1 (6000 and 5600 draws).
  assert.ok(Math.abs(mean(dq)) < 0.003 && Math.abs(sd(dq) / (0.1 / Math.sqrt(3)) - 1) < 0.03);
  assert.ok(Math.abs(mean(v)) < 0.004 && Math.abs(sd(v) / 0.1 - 1) < 0.03);
  // Goals: the goal cell (3, 1) centred at (0, 8), plus up to 1.5 m on each axis, different every reset.
  for (const [x, y] of goals) assert.ok(x >= 0 && x <= 1.5 && y >= 8 && y <= 9.5, `goal (${x}, ${y})`);
  assert.equal(new Set(goals.map(String)).size, n);
  assert.ok(Math.abs(mean(goals.map((g) => g[0])) - 0.75) < 0.05);
  for (const e of [env, twin, other]) e.close();
});

test('sparse reward 1 within 0.5 m of the goal (after the step) and done there; 0 outside; time limit at 700', async () => {
  const env = await makeEnv('antmaze-umaze', { seed: 1 });
  env.reset();
  const [gx, gy] = env.goal;
  const place = (dx: number): void => {
    const { qpos, qvel } = env.getState();
    qpos[0] = gx + dx;
    qpos[1] = gy;
    env.setState(qpos, qvel.fill(0));
  };
  place(0.3);
  let r = env.step(new Float64Array(8));
  const dist = (q: Float64Array): number => Math.hypot(q[0] - gx, q[1] - gy);
  assert.ok(dist(r.info.qpos) <= 0.5);
  assert.deepEqual([r.reward, r.terminated, r.truncated], [1, true, false]);
  env.reset();
  env.setGoal(gx, gy);
  place(0.8);
  r = env.step(new Float64Array(8));
  assert.ok(dist(r.info.qpos) > 0.5);
  assert.deepEqual([r.reward, r.terminated], [0, false]);
  // Random actions: every reward is the indicator recomputed from the state after the step; never done by flipping.
  env.reset();
  const goal = env.goal;
  const actions = randomActions(5, 700 * 8);
  let steps = 0;
  for (;;) {
    const s = env.step(actions.subarray(8 * steps, 8 * steps + 8));
    steps++;
    const expect = Math.hypot(s.info.qpos[0] - goal[0], s.info.qpos[1] - goal[1]) <= 0.5 ? 1 : 0;
    assert.equal(s.reward, expect);
    if (s.terminated || s.truncated) {
      assert.equal(s.truncated, steps === 700);
      assert.equal(s.info.timeout, steps === 700);
      break;
    }
  }
  assert.equal(steps, 700, 'a random ant does not reach the goal round the U');
  env.close();
});

test('endAtGoal false (the data-collection env): the reward is paid at the goal, the episode goes on', async () => {
  const env = await makeEnv('antmaze-umaze', { seed: 1, endAtGoal: false, maxEpisodeSteps: 1000 });
  assert.equal(env.maxEpisodeSteps, 1000);
  env.reset();
  const { qpos, qvel } = env.getState();
  [qpos[0], qpos[1]] = env.goal;
  env.setState(qpos, qvel.fill(0));
  for (let t = 0; t < 3; t++) {
    const r = env.step(new Float64Array(8));
    assert.deepEqual([r.reward, r.terminated], [1, false]);
  }
  await assert.rejects(makeEnv('antmaze-umaze', { endAtGoal: 1 as unknown as boolean }), /endAtGoal must be a boolean/);
  const hopper = await makeEnv('hopper');
  assert.throws(() => hopper.setGoal(0, 0), /Error in setGoal: the env must be an AntMaze env, got 'hopper'/);
  for (const e of [env, hopper]) e.close();
});

test('VecEnv runs antmaze-umaze on a worker thread: env i follows a single env seeded envSeed(seed, i), 700-step limit', async () => {
  const vec = await VecEnv.create('antmaze-umaze', 2, { seed: 6, workers: 1 });
  const single = await makeEnv('antmaze-umaze', { seed: envSeed(6, 1) });
  const obs = await vec.reset();
  assert.deepEqual(Array.from(obs.subarray(29, 58)), Array.from(single.reset()));
  const actions = randomActions(2, 16 * 5);
  for (let t = 0; t < 5; t++) {
    const r = await vec.step(actions.subarray(16 * t, 16 * t + 16));
    const s = single.step(actions.subarray(16 * t + 8, 16 * t + 16));
    assert.deepEqual(Array.from(r.observations.subarray(29, 58)), Array.from(s.observation));
  }
  assert.equal(vec.options.maxEpisodeSteps, 700);
  await vec.close();
  single.close();
});

test('top view of an AntMaze rollout: walls, goal, path and limbs, labelled', async () => {
  const rollout = await randomRollout('antmaze-umaze', 2, 40);
  assert.equal(rollout.view, 'top');
  assert.equal(rollout.path.length, 2 * rollout.frames.length);
  assert.ok(rollout.goal && rollout.goal[1] >= 8);
  const svg = topViewSvg(rollout, { snapshots: 3 });
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.equal((svg.match(/fill="#b3804d"/g) ?? []).length, 18);
  // 3 snapshots × 12 leg capsules (3 per leg); the torso is a sphere and is left out.
  assert.equal((svg.match(/stroke-linecap="round"/g) ?? []).length, 3 * 12);
  assert.match(svg, /40 steps \(dt 0\.1 s\), return 0, stopped; top view, cells 4 m/);
  assert.match(svg, /<circle [^>]*r="16\.0"/);
  assert.doesNotMatch(svg, /NaN/);
  const side = await randomRollout('hopper', 1, 5);
  assert.throws(() => topViewSvg(side), /Error in topViewSvg: the rollout must be an AntMaze rollout/);
});
