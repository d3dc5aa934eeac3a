/**
 * Kit-generated datasets at smoke scale, from the committed behaviour policies (data/policies/hopper.json).
 */
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { after, before, test } from 'node:test';
import {
  datasetCachePath,
  generateDataset,
  loadDataset,
  loadRecipe,
  readD4rlFile,
  readHdf5,
  sha256File,
  type GeneratedFile,
} from '../../src/data';
import { makeEnv } from '../../src/envs';
import { deadPid } from '../helpers/dead-pid';
import { tempDir } from '../helpers/data-files';

const dir = tempDir('generate');
const savedDataDir = process.env.DMM_DATA_DIR;
let a: GeneratedFile;

before(async () => {
  process.env.DMM_DATA_DIR = dir;
  a = await generateDataset('hopper-medium', { scale: 'smoke', file: path.join(dir, 'a.hdf5'), progress: false });
});
after(() => {
  if (savedDataDir === undefined) delete process.env.DMM_DATA_DIR;
  else process.env.DMM_DATA_DIR = savedDataDir;
});

test("D4RL's keys, dtypes and metadata", async () => {
  const { arrays } = await readHdf5(a.file);
  const dtypes = Object.fromEntries([...arrays].map(([k, v]) => [k, `${v.dtype}${JSON.stringify(v.shape)}`]));
  const n = loadRecipe().sizes.smoke.medium as number;
  assert.equal(a.transitions, n);
  assert.deepEqual(
    Object.fromEntries(
      [
        'observations',
        'actions',
        'next_observations',
        'rewards',
        'terminals',
        'timeouts',
        'infos/qpos',
        'infos/qvel',
        'infos/action_log_probs',
      ].map((k) => [k, dtypes[k]]),
    ),
    {
      observations: `f4[${n},11]`,
      actions: `f4[${n},3]`,
      next_observations: `f4[${n},11]`,
      rewards: `f4[${n}]`,
      terminals: `i1[${n}]`,
      timeouts: `i1[${n}]`,
      'infos/qpos': `f4[${n},6]`,
      'infos/qvel': `f4[${n},6]`,
      'infos/action_log_probs': `f4[${n}]`,
    },
  );
  for (const key of ['generator', 'generator_version', 'policy', 'seed', 'scale', 'algorithm'])
    assert.ok(arrays.has(`metadata/${key}`), `metadata/${key}`);
  assert.equal(arrays.get('metadata/generator')?.data, 'dmm-kit');
  assert.equal(arrays.get('metadata/seed')?.data, loadRecipe().seed);
  assert.match(String(arrays.get('metadata/policy')?.data), /medium snapshot \(iteration \d+\)/);
});

test('setState(qpos, qvel) reproduces the stored observations; next_observations chain within episodes', async () => {
  const t = await readD4rlFile(a.file, 'hopper', { withInfos: true });
  const env = await makeEnv('hopper', { seed: 5 });
  let worst = 0;
  for (let i = 0; i < t.n; i += 13) {
    const o = env.setState(t.qpos!.subarray(i * 6, i * 6 + 6), t.qvel!.subarray(i * 6, i * 6 + 6));
    for (let j = 0; j < 11; j++) worst = Math.max(worst, (o[j] - t.observations[i * 11 + j]) ** 2);
  }
  env.close();
  assert.ok(worst < 1e-8, `squared error ${worst} (check_mujoco_datasets.py asks < 1e-8)`);
  for (let i = 0; i + 1 < t.n; i++) {
    if (t.terminals[i] || t.timeouts[i]) continue;
    for (let j = 0; j < 11; j++) assert.equal(t.nextObservations![i * 11 + j], t.observations[(i + 1) * 11 + j]);
  }
  assert.ok(
    t.terminals.some((x) => x === 1),
    'some episode ended by termination',
  );
  for (let i = 0; i < t.n; i++)
    assert.ok(!(t.terminals[i] && t.timeouts[i]), 'a timeout step is never also a terminal');
  assert.ok(t.actions.every((x) => x >= -1 && x <= 1));
  assert.ok(t.actionLogProbs!.every(Number.isFinite));
});

test('same seed, same bytes; another seed, other bytes', async () => {
  const b = await generateDataset('hopper-medium', { scale: 'smoke', file: path.join(dir, 'b.hdf5'), progress: false });
  assert.equal(b.sha256, a.sha256);
  assert.equal(sha256File(b.file), sha256File(a.file));
  const c = await generateDataset('hopper-medium', {
    scale: 'smoke',
    seed: 1,
    file: path.join(dir, 'c.hdf5'),
    progress: false,
  });
  assert.notEqual(c.sha256, a.sha256);
});

test('loadDataset verifies the committed checksum and carries provenance; a changed file is refused', async () => {
  const cached = datasetCachePath('hopper-medium', 'smoke', loadRecipe().seed);
  fs.mkdirSync(path.dirname(cached), { recursive: true });
  fs.copyFileSync(a.file, cached); // what a first use would have generated (same seed, same bytes)
  const committed = loadRecipe().checksums['hopper-medium']?.smoke;
  assert.equal(committed, a.sha256, 'data/recipes.json holds the checksum of the smoke file');
  const d = await loadDataset('hopper-medium', { source: 'kit', scale: 'smoke' });
  assert.equal(d.provenance.source, 'kit');
  assert.equal(d.provenance.checksum, committed);
  assert.equal(d.provenance.generator?.name, 'dmm-kit');
  assert.equal(d.provenance.generator?.seed, loadRecipe().seed);
  // Relative to the data folder, so a record reads the same on every machine.
  assert.equal(d.provenance.file, path.relative(dir, cached));
  assert.equal(d.provenance.file, 'cache/hopper_medium-kit-smoke-seed0.hdf5');
  assert.equal(d.card.transitions + d.card.droppedSteps, a.transitions);
  assert.ok(d.card.normalizedScore.mean > 5, `medium normalized score ${d.card.normalizedScore.mean}`);
  fs.appendFileSync(cached, Buffer.from([0]));
  await assert.rejects(
    loadDataset('hopper-medium', { source: 'kit', scale: 'smoke' }),
    /must have the sha256 committed in data\/recipes\.json/,
  );
  fs.copyFileSync(a.file, cached);
});

test("a killed generator's temporary file is removed on the next load of that dataset; a live one is kept", async () => {
  const cached = datasetCachePath('hopper-medium', 'smoke', loadRecipe().seed);
  fs.mkdirSync(path.dirname(cached), { recursive: true });
  fs.copyFileSync(a.file, cached);
  const stale = `${cached}.${deadPid()}.k1ll3d.tmp`;
  const live = `${cached}.${process.ppid}.w0rk1ng.tmp`;
  const other = `${datasetCachePath('hopper-expert', 'smoke', loadRecipe().seed)}.${deadPid()}.0th3r.tmp`;
  for (const f of [stale, live, other]) fs.writeFileSync(f, 'partial');
  await loadDataset('hopper-medium', { source: 'kit', scale: 'smoke' });
  assert.equal(fs.existsSync(stale), false, "the dead writer's file is gone");
  assert.equal(fs.existsSync(live), true, "a running writer's file stays");
  assert.equal(fs.existsSync(other), true, "another dataset's file is left to its own load");
  fs.rmSync(live);
  fs.rmSync(other);
});

test('medium-expert is the expert list plus the medium list, shuffled with a seed', async () => {
  const medium = await loadDataset('hopper-medium', { source: 'kit', scale: 'smoke' });
  const expert = await loadDataset('hopper-expert', { source: 'kit', scale: 'smoke' });
  const me = await loadDataset('hopper-medium-expert', { source: 'kit', scale: 'smoke', shuffleSeed: 3 });
  assert.equal(me.trajectories.length, medium.trajectories.length + expert.trajectories.length);
  const key = (t: { rewards: Float32Array }): string =>
    `${t.rewards.length}:${t.rewards[0]}:${t.rewards[t.rewards.length - 1]}`;
  assert.deepEqual(me.trajectories.map(key).sort(), [...expert.trajectories, ...medium.trajectories].map(key).sort());
  assert.notDeepEqual(me.trajectories.map(key), [...expert.trajectories, ...medium.trajectories].map(key), 'shuffled');
  const again = await loadDataset('hopper-medium-expert', { source: 'kit', scale: 'smoke', shuffleSeed: 3 });
  assert.deepEqual(again.trajectories.map(key), me.trajectories.map(key));
  assert.equal(me.provenance.parts?.length, 2);
});
