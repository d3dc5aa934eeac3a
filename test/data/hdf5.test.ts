import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { test } from 'node:test';
import { datasetFromFile, readD4rlFile, readHdf5, sha256File, writeHdf5 } from '../../src/data';
import { ACT, OBS, hopperEntries, obsValue, tempDir } from '../helpers/data-files';

const dir = tempDir('hdf5');
const FIXTURE = path.join(__dirname, '..', 'fixtures', 'h5py-hopper-tiny.hdf5');

test('write then read a small file: arrays, dtypes, metadata and D4RL checks pass', async () => {
  const file = path.join(dir, 'ok.hdf5');
  await writeHdf5(file, hopperEntries(20, { 4: 't', 12: 'o' }), { gzip: 1, chunkRows: 8 });
  const { keys, arrays } = await readHdf5(file);
  assert.deepEqual(keys.sort(), [
    'actions',
    'infos/qpos',
    'infos/qvel',
    'metadata/algorithm',
    'next_observations',
    'observations',
    'rewards',
    'terminals',
    'timeouts',
  ]);
  assert.equal(arrays.get('observations')?.dtype, 'f4');
  assert.deepEqual(arrays.get('observations')?.shape, [20, OBS]);
  assert.equal(arrays.get('terminals')?.dtype, 'i1');
  assert.equal(arrays.get('metadata/algorithm')?.data, 'test');
  const t = await readD4rlFile(file, 'hopper', { withInfos: true });
  assert.equal(t.n, 20);
  assert.equal(t.observations[3 * OBS + 5], obsValue(3, 5));
  assert.equal(t.terminals[4], 1);
  assert.equal(t.timeouts[12], 1);
  assert.equal(
    t.terminals.reduce((a, b) => a + b, 0),
    1,
  );
  assert.equal(t.qpos?.length, 20 * 6);
  const d = await datasetFromFile(file, 'hopper', 'medium');
  assert.deepEqual(
    d.trajectories.map((x) => x.rewards.length),
    [5, 8],
  );
  assert.equal(d.card.droppedSteps, 7);
});

test('equal inputs give equal bytes (HDF5 timestamps pinned)', async () => {
  const a = path.join(dir, 'a.hdf5');
  const b = path.join(dir, 'b.hdf5');
  await writeHdf5(a, hopperEntries(30, { 29: 'o' }), { gzip: 1 });
  await new Promise((r) => setTimeout(r, 1100));
  await writeHdf5(b, hopperEntries(30, { 29: 'o' }), { gzip: 1 });
  assert.equal(sha256File(a), sha256File(b));
  const c = path.join(dir, 'c.hdf5');
  const changed = hopperEntries(30, { 29: 'o' });
  (changed.rewards.data as Float32Array)[3] += 1;
  await writeHdf5(c, changed, { gzip: 1 });
  assert.notEqual(sha256File(a), sha256File(c));
});

async function expectError(entries: ReturnType<typeof hopperEntries>, name: string, pattern: RegExp): Promise<void> {
  const file = path.join(dir, `${name}.hdf5`);
  await writeHdf5(file, entries);
  await assert.rejects(readD4rlFile(file, 'hopper', { withInfos: true }), (err: Error) => {
    assert.match(err.message, pattern);
    assert.equal(err.message.split('\n').length, 1, 'one-line error');
    return true;
  });
}

test('a missing key names the key', async () => {
  const e = hopperEntries(10, { 9: 'o' });
  delete (e as Record<string, unknown>).rewards;
  await expectError(e, 'missing', /key 'rewards' is missing/);
  const f = hopperEntries(10, { 9: 'o' });
  delete (f as Record<string, unknown>).timeouts;
  await expectError(f, 'missing-timeouts', /key 'timeouts' is missing/);
});

test('a row count that disagrees with observations names the key', async () => {
  const e = hopperEntries(10, { 9: 'o' });
  e.actions = { data: new Float32Array(9 * ACT), shape: [9, ACT] };
  await expectError(e, 'rows', /key 'actions' must have as many rows as 'observations' \(10\), got 9/);
  const f = hopperEntries(10, { 9: 'o' });
  f['infos/qpos'] = { data: new Float32Array(11 * 6), shape: [11, 6] };
  await expectError(f, 'rows-qpos', /key 'infos\/qpos' must have as many rows/);
});

test('a wrong dimension for the environment names the key', async () => {
  const e = hopperEntries(10, { 9: 'o' });
  e.observations = { data: new Float32Array(10 * 17), shape: [10, 17] };
  await expectError(e, 'dim-obs', /key 'observations' must have 11 columns for hopper, got shape \(10, 17\)/);
  const f = hopperEntries(10, { 9: 'o' });
  f.actions = { data: new Float32Array(10 * 6), shape: [10, 6] };
  await expectError(f, 'dim-act', /key 'actions' must have shape \(10, 3\) for hopper, got \(10, 6\)/);
});

test('NaN or infinity names the key and row', async () => {
  const e = hopperEntries(10, { 9: 'o' });
  (e.observations.data as Float32Array)[4 * OBS + 2] = NaN;
  await expectError(e, 'nan', /key 'observations' must hold finite numbers, got NaN at row 4, column 2/);
  const f = hopperEntries(10, { 9: 'o' });
  (f.rewards.data as Float32Array)[7] = Infinity;
  await expectError(f, 'inf', /key 'rewards' must hold finite numbers, got Infinity at row 7/);
});

test('rewards and terminals of shape (N, 1) are squeezed, as get_dataset does', async () => {
  const e = hopperEntries(10, { 4: 't', 9: 'o' });
  e.rewards = { data: e.rewards.data, shape: [10, 1] };
  e.terminals = { data: e.terminals.data, shape: [10, 1] };
  const file = path.join(dir, 'squeeze.hdf5');
  await writeHdf5(file, e);
  const t = await readD4rlFile(file, 'hopper');
  assert.equal(t.rewards.length, 10);
  assert.equal(t.terminals[4], 1);
});

test('a file that is not HDF5 gives one line', async () => {
  const file = path.join(dir, 'junk.hdf5');
  fs.writeFileSync(file, 'not an hdf5 file');
  await assert.rejects(readD4rlFile(file, 'hopper'), /must be a complete HDF5 file, got .*\(not an HDF5 file\)/);
});

test("the h5py fixture (D4RL's exact layout, bool terminals) loads", async () => {
  const { arrays } = await readHdf5(FIXTURE);
  assert.equal(arrays.get('terminals')?.dtype, 'bool');
  assert.equal(arrays.get('metadata/algorithm')?.data, 'SAC');
  const d = await datasetFromFile(FIXTURE, 'hopper', 'medium');
  // make-h5py-fixture.py: terminal at row 6, timeout at row 16, 8 trailing rows dropped.
  assert.deepEqual(
    d.trajectories.map((t) => t.rewards.length),
    [7, 10],
  );
  assert.deepEqual(Array.from(d.trajectories[0].terminals), [0, 0, 0, 0, 0, 0, 1]);
  assert.equal(d.trajectories[1].timeouts[9], 1);
  assert.equal(d.card.droppedSteps, 8);
  assert.equal(d.trajectories[1].observations[0], Math.fround(Math.sin(7 * 0.1 + 0)));
  assert.equal(d.trajectories[0].rewards[3], Math.fround(1 + 0.01 * 3));
});

test('empty, truncated, foreign and damaged files: one line each, and HDF5 prints nothing of its own', () => {
  const good = fs.readFileSync(FIXTURE);
  const damaged = Buffer.from(good);
  damaged.fill(0xab, 96, 400); // past the superblock: only HDF5 itself can notice
  const files: Record<string, Buffer> = {
    empty: Buffer.alloc(0),
    text: Buffer.from('observations,actions\n1,2\n'),
    truncated: good.subarray(0, 3000),
    damaged,
  };
  for (const [name, bytes] of Object.entries(files)) fs.writeFileSync(path.join(dir, `${name}.hdf5`), bytes);
  // A child process, so that output HDF5 writes to the process's stderr directly is seen too.
  const script = `
    const { readD4rlFile } = require(${JSON.stringify(path.join(__dirname, '../../src/data'))});
    (async () => {
      for (const name of ${JSON.stringify(Object.keys(files))}) {
        try { await readD4rlFile(${JSON.stringify(dir)} + '/' + name + '.hdf5', 'hopper'); console.log(name + ': read'); }
        catch (err) { console.log(name + ': ' + err.message); }
      }
    })();`;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8' });
  assert.equal(run.stderr, '', 'nothing on stderr');
  const lines = run.stdout.trim().split('\n');
  assert.equal(lines.length, 4, run.stdout);
  const fix = /Delete it and download or generate it again\.$/;
  assert.match(
    lines[0],
    /^empty: Error in readHdf5: '.*empty\.hdf5' must be a complete HDF5 file, got an empty file \(0 bytes\)\./,
  );
  assert.match(
    lines[1],
    /^text: Error in readHdf5: '.*text\.hdf5' must be a complete HDF5 file, got a file without the HDF5 signature \(not an HDF5 file\)\./,
  );
  assert.match(
    lines[2],
    /^truncated: Error in readHdf5: '.*truncated\.hdf5' must be a complete HDF5 file, got a truncated file \(3000 of 29792 bytes\)\./,
  );
  assert.match(
    lines[3],
    /^damaged: Error in readHdf5: '.*damaged\.hdf5' must be a complete HDF5 file, got one HDF5 cannot read \(.+\)\./,
  );
  assert.doesNotMatch(lines[3], /name not defined/);
  for (const line of lines) assert.match(line, fix);
});
