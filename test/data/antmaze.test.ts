/**
 * The AntMaze controller and datasets: heading-frame features, the direction task's reward, the waypoint
 * navigator, the collection loop (timeouts, starts, goals, noise, seeds), the relabelling, and the HDF5 layout.
 */
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { test } from 'node:test';
import {
  CONTROLLER_FEATURES,
  DirectedAnt,
  Navigator,
  controllerSuccess,
  directedFeatures,
  heading,
  loadController,
} from '../../src/data/ant-controller';
import {
  ANTMAZE_COLLECTION_STEPS,
  collectAntMaze,
  generateAntMazeDataset,
  relabel,
  type AntMazeColumns,
} from '../../src/data/antmaze-generate';
import { loadDataset, loadRecipe, readHdf5 } from '../../src/data';
import { parseAntMazeName } from '../../src/data/d4rl-ids';
import { POLICY_DIMS, POLICY_FORMAT, type LinearPolicy } from '../../src/data/policy';
import { MAZES, cellCentre, freeCells } from '../../src/envs/maze';
import { Rng } from '../../src/util/rng';
import { tempDir } from '../helpers/data-files';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'h5py-antmaze-tiny.hdf5');

/** An untrained controller: seeded weights of standard deviation `scale` (0: the mean action is 0). */
function tinyPolicy(seed: number, scale = 0.05): LinearPolicy {
  const rng = new Rng(seed);
  const s = CONTROLLER_FEATURES;
  return {
    format: POLICY_FORMAT,
    env: 'antmaze-direction',
    weights: Array.from({ length: 8 * s }, () => scale * rng.normal()),
    obsMean: new Array(s).fill(0),
    obsStd: new Array(s).fill(1),
    iteration: 0,
    envSteps: 0,
    cpuSeconds: 0,
    noisyReturn: 0,
    meanReturn: 0,
  };
}

/** A 29-number observation of an ant turned by yaw α, with its world velocities rotated by α too. */
function turnedObs(alpha: number): Float64Array {
  const rng = new Rng(3);
  const o = Float64Array.from({ length: 29 }, () => rng.range(-0.5, 0.5));
  // A tilted body: yaw α composed with a fixed small roll and pitch, q = q_yaw ⊗ q_tilt.
  const t = [Math.cos(0.1), Math.sin(0.1) * 0.6, Math.sin(0.1) * 0.8, 0];
  const y = [Math.cos(alpha / 2), 0, 0, Math.sin(alpha / 2)];
  const q = [
    y[0] * t[0] - y[3] * t[3],
    y[0] * t[1] - y[3] * t[2],
    y[0] * t[2] + y[3] * t[1],
    y[0] * t[3] + y[3] * t[0],
  ];
  o.set(q, 3);
  const [vx, vy] = [0.3, -0.2];
  o[15] = Math.cos(alpha) * vx - Math.sin(alpha) * vy;
  o[16] = Math.sin(alpha) * vx + Math.cos(alpha) * vy;
  return o;
}

test('features are the same for an ant and a desired direction turned together (heading frame)', () => {
  assert.equal(CONTROLLER_FEATURES, POLICY_DIMS['antmaze-direction'].observationDim);
  const base = directedFeatures(turnedObs(0), 0.4, new Float64Array(CONTROLLER_FEATURES));
  for (const alpha of [0.7, 2.5, -1.9]) {
    const obs = turnedObs(alpha);
    const f = directedFeatures(obs, 0.4 + alpha, new Float64Array(CONTROLLER_FEATURES));
    const err = Math.max(...f.map((v, i) => Math.abs(v - base[i])));
    assert.ok(err < 1e-9, `yaw ${alpha}: features differ by ${err}`);
    const dyaw = Math.atan2(Math.sin(heading(obs) - alpha), Math.cos(heading(obs) - alpha));
    assert.ok(Math.abs(dyaw - heading(turnedObs(0))) < 1e-9);
  }
  // Upright: world-up in the torso frame is (0, 0, 1); the last two features are cos φ and sin φ.
  const up = new Float64Array(29);
  up[3] = 1;
  const f = directedFeatures(up, Math.PI / 2, new Float64Array(CONTROLLER_FEATURES));
  assert.deepEqual(Array.from(f.subarray(1, 4)), [0, 0, 1]);
  assert.ok(Math.abs(f[78]) < 1e-12 && Math.abs(f[79] - 1) < 1e-12);
});

test('direction task: reward = torso velocity along the desired direction; seeded directions replay', async () => {
  const task = await DirectedAnt.create(0, 7);
  const act = new Float64Array(8);
  const replay = async (): Promise<number[]> => {
    const rng = new Rng(1);
    task.reseed(42);
    const out: number[] = [];
    let f = task.reset();
    for (let t = 0; t < 20; t++) {
      for (let i = 0; i < 8; i++) act[i] = rng.range(-1, 1);
      // θ in the world frame from the features: φ = θ − heading; the heading is not in the features, so read the
      // observation the task keeps (x, y, quaternion) through its env.
      const env = (task as unknown as { env: { getState(): { qpos: Float64Array } } }).env;
      const before = env.getState().qpos;
      const theta = heading(before) + Math.atan2(f[79], f[78]);
      const next = new Float64Array(CONTROLLER_FEATURES);
      task.stepInto(act, 0, next, 0);
      const after = env.getState().qpos;
      const v = ((after[0] - before[0]) * Math.cos(theta) + (after[1] - before[1]) * Math.sin(theta)) / 0.1;
      assert.ok(Math.abs(task.lastReward - v) < 1e-9, `t=${t}: reward ${task.lastReward} vs ${v}`);
      out.push(task.lastReward, ...next.subarray(78));
      f = next;
    }
    return out;
  };
  const a = await replay();
  // 20 steps with a switch every 7: three directions were asked for.
  assert.equal(new Set(a.filter((_, i) => i % 3 === 1).map((c) => c.toFixed(6))).size > 1, true);
  assert.deepEqual(await replay(), a);
  task.close();
});

test('navigator: heads along the shortest path, to the next cell, and straight to the goal in its cell', () => {
  const maze = MAZES['antmaze-umaze'];
  const nav = new Navigator(maze, [0.5, 8.5], new Rng(0));
  const deg = (r: number): number => (r * 180) / Math.PI;
  // From the start cell the next cell is (1, 2), centred at (4, 0) plus U(0, 1): roughly +x.
  assert.ok(Math.abs(deg(nav.direction(0, 0))) < 15);
  // In (2, 3), the right arm, the next cell is (3, 3): +y.
  assert.ok(Math.abs(deg(nav.direction(8, 4)) - 90) < 15);
  // In (3, 2) the next cell is the goal's: straight at the goal.
  assert.ok(Math.abs(nav.direction(4, 8) - Math.atan2(0.5, 0.5 - 4)) < 1e-12);
  // In the goal cell: straight at the goal.
  assert.ok(Math.abs(nav.direction(-1, 7) - Math.atan2(1.5, 1.5)) < 1e-12);
});

test("collection: 1000-step timeouts, D4RL's starts and goals, N(0, 0.2²) action noise, seeded", async () => {
  const n = 2 * ANTMAZE_COLLECTION_STEPS + 300;
  const policy = tinyPolicy(1, 0);
  const plain = await collectAntMaze('antmaze-umaze', n, 4, policy);
  const again = await collectAntMaze('antmaze-umaze', n, 4, policy);
  assert.deepEqual(again.actions, plain.actions);
  assert.deepEqual(again.observations, plain.observations);
  const other = await collectAntMaze('antmaze-umaze', n, 5, policy);
  assert.notDeepEqual(other.actions, plain.actions);
  const ends = [...plain.timeouts].flatMap((v, i) => (v ? [i] : []));
  assert.deepEqual(ends, [999, 1999]);
  const diverse = await collectAntMaze('antmaze-umaze-diverse', n, 4, policy);
  const maze = MAZES['antmaze-umaze'];
  for (const cols of [plain, diverse]) {
    for (const start of [0, 1000, 2000]) {
      const [gx, gy] = [cols.goals[2 * start], cols.goals[2 * start + 1]];
      // The navigation goal: cell (3, 1) centred at (0, 8) plus up to 1.5 m, fixed within an episode.
      assert.ok(gx >= 0 && gx <= 1.5 && gy >= 8 && gy <= 9.5);
      assert.equal(cols.goals[2 * (start + 299)], gx);
      const [x, y] = [cols.observations[29 * start], cols.observations[29 * start + 1]];
      if (cols === plain) assert.ok(Math.hypot(x, y) < 0.15, `start (${x}, ${y})`);
      else {
        const cell = freeCells(maze).find(([i, j]) => {
          const [cx, cy] = cellCentre([i, j]);
          return x >= cx - 0.1 && x <= cx + 1.1 && y >= cy - 0.1 && y <= cy + 1.1;
        });
        assert.ok(cell && !(cell[0] === 3 && cell[1] === 1), `start (${x}, ${y})`);
      }
    }
  }
  const starts = [0, 1000, 2000].map(
    (s) => `${diverse.observations[29 * s].toFixed(1)},${diverse.observations[29 * s + 1].toFixed(1)}`,
  );
  assert.equal(new Set(starts).size, 3);
  // A zero controller's mean action is 0, so the actions are the noise: sd 0.2 (a clip at 5σ is rare).
  const a = Array.from(plain.actions);
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  const sd = Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
  assert.ok(Math.abs(mean) < 0.005 && Math.abs(sd / 0.2 - 1) < 0.01, `action mean ${mean}, sd ${sd}`);
  assert.ok(a.every((v) => v >= -1 && v <= 1));
});

test('relabelling: 1 where the next row is within 0.5 m of the evaluation goal, terminals the same, last row 0', () => {
  const n = 6;
  const cols: AntMazeColumns = {
    n,
    observations: new Float32Array(29 * n),
    actions: new Float32Array(8 * n),
    rewards: new Float32Array(n).fill(7),
    terminals: new Float32Array(n).fill(7),
    timeouts: new Int8Array(n),
    goals: new Float32Array(2 * n),
    qpos: new Float32Array(15 * n),
    qvel: new Float32Array(14 * n),
    evalGoal: [1, 9],
  };
  const xs = [0, 1.3, 1.6, 0.7, 1, 1];
  xs.forEach((x, t) => {
    cols.observations[29 * t] = x;
    cols.observations[29 * t + 1] = 9;
  });
  relabel(cols);
  // Row t looks at row t + 1: 1.3 (0.3 away) hit, 1.6 miss, 0.7 hit, 1 hit, 1 hit; the last row has no next row.
  assert.deepEqual(Array.from(cols.rewards), [1, 0, 1, 1, 1, 0]);
  assert.deepEqual(Array.from(cols.terminals), Array.from(cols.rewards));
});

test("the file: D4RL's antmaze keys, dtypes and shapes, no next_observations, the eval goal in metadata", async () => {
  const file = path.join(tempDir('antmaze'), 'umaze.hdf5');
  const out = await generateAntMazeDataset('antmaze-umaze-v2', {
    scale: 'smoke',
    transitions: 1200,
    policy: tinyPolicy(2),
    file,
    progress: false,
  });
  assert.equal(out.name, 'antmaze-umaze');
  const { arrays } = await readHdf5(file);
  const layout = Object.fromEntries(
    [...arrays]
      .filter(([k]) => !k.startsWith('metadata/'))
      .map(([k, v]) => [k, `${v.dtype}${JSON.stringify(v.shape)}`]),
  );
  assert.deepEqual(layout, {
    observations: 'f4[1200,29]',
    actions: 'f4[1200,8]',
    rewards: 'f4[1200]',
    terminals: 'f4[1200]',
    timeouts: 'i1[1200]',
    'infos/goal': 'f4[1200,2]',
    'infos/qpos': 'f4[1200,15]',
    'infos/qvel': 'f4[1200,14]',
  });
  assert.equal(arrays.get('metadata/eval_goal_x')?.data, out.evalGoal[0]);
  assert.equal(arrays.get('metadata/action_noise')?.data, 0.2);
  const again = await generateAntMazeDataset('antmaze-umaze', {
    scale: 'smoke',
    transitions: 1200,
    policy: tinyPolicy(2),
    file: file.replace('.hdf5', '-2.hdf5'),
    progress: false,
  });
  assert.equal(again.sha256, out.sha256);
  assert.throws(() => parseAntMazeName('antmaze-umaz-diverse'), /Did you mean 'antmaze-umaze-diverse'/);
  assert.deepEqual(parseAntMazeName('antmaze_umaze_diverse-v2'), {
    env: 'antmaze-umaze',
    kind: 'umaze-diverse',
    name: 'antmaze-umaze-diverse',
    d4rlId: 'antmaze-umaze-diverse-v2',
    d4rlFile: 'Ant_maze_u-maze_noisy_multistart_True_multigoal_True_sparse_fixed.hdf5',
    multiStart: true,
  });
});

test("D4RL's own antmaze file (h5py layout) loads through loadDataset; a missing or kit file is refused in one line", async () => {
  const dir = tempDir('antmaze-d4rl');
  const saved = process.env.DMM_DATA_DIR;
  process.env.DMM_DATA_DIR = dir;
  try {
    const name = parseAntMazeName('antmaze-umaze');
    await assert.rejects(
      loadDataset('antmaze-umaze-v2', { source: 'd4rl' }),
      (e: Error) =>
        /antmaze-umaze-v2 must be in .* as D4RL's Ant_maze_u-maze_noisy_multistart_False_multigoal_False_sparse_fixed\.hdf5, got no file/.test(
          e.message,
        ) && !e.message.includes('\n'),
    );
    fs.mkdirSync(path.join(dir, 'd4rl'));
    fs.copyFileSync(FIXTURE, path.join(dir, 'd4rl', name.d4rlFile));
    const ds = await loadDataset('antmaze-umaze-v2', { source: 'd4rl' });
    assert.deepEqual([ds.id, ds.env, ds.kind], ['antmaze-umaze', 'antmaze-umaze', 'umaze']);
    // The fixture's episodes: rows 0-8 and 9 end at the goal, 10-14 at the time limit, 15-20 at the goal.
    assert.deepEqual(
      ds.trajectories.map((t) => t.rewards.length),
      [9, 1, 5, 6],
    );
    assert.equal(ds.card.droppedSteps, 9);
    assert.equal(ds.card.id, 'antmaze-umaze-v2');
    assert.deepEqual(ds.card.referenceScores, { min: 0, max: 1 });
    assert.equal(ds.card.normalizedScore.mean, 75);
    assert.equal(ds.trajectories[2].observations[0], Math.fround(Math.sin(1.0)));
    // A kit-written file (int8 timeouts, the kit's generator) under D4RL's name is not D4RL's.
    await generateAntMazeDataset('antmaze-umaze-diverse', {
      scale: 'smoke',
      transitions: 1000,
      policy: tinyPolicy(3, 0),
      file: path.join(dir, 'd4rl', parseAntMazeName('antmaze-umaze-diverse').d4rlFile),
      progress: false,
    });
    await assert.rejects(
      loadDataset('antmaze-umaze-diverse', { source: 'd4rl' }),
      /must be D4RL's file, got a kit-generated one .*Put D4RL's own Ant_maze_u-maze_noisy_multistart_True_multigoal_True_sparse_fixed\.hdf5 there/,
    );
  } finally {
    if (saved === undefined) delete process.env.DMM_DATA_DIR;
    else process.env.DMM_DATA_DIR = saved;
  }
});

test('the committed controller reaches the umaze goal; the kit datasets regenerate to their committed sha256', async () => {
  const c = loadController();
  assert.equal(c.policy.env, 'antmaze-direction');
  assert.ok(c.success.clean >= 0.7 && c.success.noisy >= 0.7, JSON.stringify(c.success));
  const rate = await controllerSuccess(c.policy, 'antmaze-umaze', { episodes: 5, seed: 11, noise: 0.2 });
  assert.ok(rate >= 0.6, `success ${rate} of 5 episodes`);
  const dir = tempDir('antmaze-kit');
  const saved = process.env.DMM_DATA_DIR;
  process.env.DMM_DATA_DIR = dir;
  try {
    const ds = await loadDataset('antmaze-umaze-diverse', { source: 'kit', scale: 'smoke' });
    assert.equal(ds.provenance.checksum, loadRecipe().checksums['antmaze-umaze-diverse'].smoke);
    assert.equal(ds.card.transitions + ds.card.droppedSteps, 5000);
    assert.equal(ds.provenance.generator?.name, 'dmm-kit');
    assert.equal(ds.stateMean.length, 29);
  } finally {
    if (saved === undefined) delete process.env.DMM_DATA_DIR;
    else process.env.DMM_DATA_DIR = saved;
  }
});
