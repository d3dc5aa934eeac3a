/**
 * A file offered under a D4RL name is D4RL's (src/data/d4rl-facts.ts): a kit-generated file copied into
 * data/d4rl/ is refused, as are D4RL-shaped files with the kit's int8 flags, missing keys or other
 * episode counts; h5py's D4RL layout passes.
 */
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { after, before, test } from 'node:test';
import { downloadD4rl, generateDataset, loadDataset, readManifest, writeHdf5 } from '../../src/data';
import type { H5Entry } from '../../src/data/h5';
import { hopperEntries, tempDir } from '../helpers/data-files';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'h5py-hopper-tiny.hdf5');
const dir = tempDir('facts');
const d4rl = path.join(dir, 'd4rl');
const saved = process.env.DMM_DATA_DIR;
before(() => {
  process.env.DMM_DATA_DIR = dir;
  fs.mkdirSync(d4rl, { recursive: true });
});
after(() => {
  if (saved === undefined) delete process.env.DMM_DATA_DIR;
  else process.env.DMM_DATA_DIR = saved;
});

/** One line, naming the file's problem and the fix. */
function oneLine(pattern: RegExp): (err: Error) => boolean {
  return (err) => {
    assert.match(err.message, pattern);
    assert.match(err.message, /npx dmm data download hopper-\w+-v2, --base-url for a mirror/);
    assert.ok(!err.message.includes('\n'), err.message);
    return true;
  };
}

test('a kit-generated file copied under a D4RL name is refused, by loadDataset and downloadD4rl, and never recorded', async () => {
  const kit = await generateDataset('hopper-random', {
    scale: 'smoke',
    file: path.join(dir, 'kit.hdf5'),
    progress: false,
  });
  fs.copyFileSync(kit.file, path.join(d4rl, 'hopper_random-v2.hdf5'));
  const refused = oneLine(
    /must be D4RL's file, got a kit-generated one \(metadata\/generator 'dmm-kit', dataset 'hopper-random', scale 'smoke'\)/,
  );
  await assert.rejects(loadDataset('hopper-random', { source: 'd4rl', download: false }), refused);
  await assert.rejects(downloadD4rl('hopper-random-v2', { dir: d4rl }), refused);
  assert.deepEqual(readManifest(d4rl).files, {});
  // The same file is fine as kit data.
  fs.rmSync(path.join(d4rl, 'hopper_random-v2.hdf5'));
});

test("h5py's D4RL layout passes where the counts are not known, and fails D4RL's counts where they are", async () => {
  fs.copyFileSync(FIXTURE, path.join(d4rl, 'hopper_expert-v2.hdf5'));
  const ok = await loadDataset('hopper-expert', { source: 'd4rl', download: false });
  assert.equal(ok.trajectories.length, 2);
  fs.copyFileSync(FIXTURE, path.join(d4rl, 'hopper_medium-v2.hdf5'));
  await assert.rejects(
    loadDataset('hopper-medium', { source: 'd4rl', download: false }),
    oneLine(/must hold D4RL's 2186 episodes in 999906 rows, got 2 episodes in 17 rows/),
  );
});

test("the kit's int8 flags or a missing infos key are not D4RL's file either", async () => {
  const file = path.join(d4rl, 'hopper_random-v2.hdf5');
  // D4RL's keys, int8 terminals/timeouts, no kit metadata.
  const entries: Record<string, H5Entry> = {
    ...hopperEntries(30, { 9: 't', 19: 'o' }),
    'infos/action_log_probs': { data: new Float32Array(30), shape: [30] },
  };
  await writeHdf5(file, entries);
  await assert.rejects(
    loadDataset('hopper-random', { source: 'd4rl', download: false }),
    oneLine(/key 'terminals' must have D4RL's dtype bool \(h5py\), got i1/),
  );
  const { ['infos/qvel']: _dropped, ...noQvel } = entries;
  void _dropped;
  fs.rmSync(file);
  await writeHdf5(file, noQvel);
  await assert.rejects(downloadD4rl('hopper-random-v2', { dir: d4rl }), oneLine(/must hold D4RL's key 'infos\/qvel'/));
});
