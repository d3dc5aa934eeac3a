import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { test } from 'node:test';
import { runSpecs } from '../../src/sweep/local';
import { readRecord, rerunRecordPath } from '../../src/results/record';
import { runTraining } from '../../src/train/run';
import { toyDeps } from '../helpers/train-fakes';
import { checkpointDir, recordPath, type RunSpec } from '../../src/config/run-spec';

const runner = path.join(__dirname, '..', 'helpers', 'train-toy-runner.ts');
const cell = (seed: number): RunSpec => ({
  model: 'dmm',
  env: 'hopper',
  dataset: 'hopper-medium',
  seed,
  scale: 'smoke',
  experiment: 'sweep-test',
});

test('a sweep with a failing and a crashing cell completes the others and records both failures; a rerun skips finished cells', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-sweep-'));
  const specs = [cell(12), cell(99), cell(23), cell(98)];
  const lines: string[] = [];
  const r = await runSpecs([...specs, cell(12)], { resultsDir: dir, jobs: 2, runner, log: (l) => lines.push(l) });
  assert.equal(r.trained, 2, lines.join('\n'));
  assert.equal(r.failed, 2);
  assert.equal(r.outcomes.length, 5, 'one outcome per spec, in order; the duplicate ran once');
  assert.equal(r.outcomes[4].record?.specHash, r.outcomes[0].record?.specHash);
  assert.match(r.outcomes[3].error!, /SIGKILL/);
  assert.equal(readRecord(recordPath(cell(12), dir)).status, 'finished');
  assert.equal(readRecord(recordPath(cell(23), dir)).status, 'finished');
  const failed = readRecord(recordPath(cell(99), dir));
  assert.equal(failed.status, 'failed');
  assert.match(failed.error!, /hopper-medium must exist, got no file/);
  const crashed = readRecord(recordPath(cell(98), dir));
  assert.equal(crashed.status, 'failed');
  assert.match(crashed.error!, /SIGKILL/);

  const again = await runSpecs([cell(12), cell(23)], { resultsDir: dir, jobs: 2, runner, log: () => undefined });
  assert.equal(again.cached, 2);
  assert.equal(again.trained + again.failed, 0);
  assert.deepEqual(
    again.outcomes.map((o) => o.record?.scores),
    [r.outcomes[0].record?.scores, r.outcomes[2].record?.scores],
  );
});

test('two pools on one spec at once: one trains, the other is refused in one line, the record ends finished', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-sweep-'));
  const quiet = { resultsDir: dir, jobs: 1, runner, log: () => undefined };
  // Long enough (a few seconds) that both pools' processes start while the first one trains.
  const long: RunSpec = { ...cell(12), overrides: { stepsPerIteration: 400 } };
  const [a, b] = await Promise.all([runSpecs([long], quiet), runSpecs([long], quiet)]);
  assert.equal(a.trained + b.trained, 1, 'trained once');
  const refused = [a, b].find((r) => r.failed === 1)!;
  assert.match(refused.outcomes[0].error!, /must be trained by one process at a time, got one already training it/);
  assert.equal(readRecord(recordPath(long, dir)).status, 'finished');
});

test("a run refused by another process's lock writes no record of its own", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-sweep-'));
  const lock = path.join(checkpointDir(cell(12), dir), 'lock.json');
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  // Held by a live process of this host (this test's parent).
  fs.writeFileSync(lock, JSON.stringify({ pid: process.ppid, host: os.hostname(), since: '2026-01-01T00:00:00Z' }));
  const r = await runSpecs([cell(12)], { resultsDir: dir, runner, log: () => undefined });
  assert.equal(r.failed, 1);
  assert.match(r.outcomes[0].error!, /got one already training it \(pid \d+ on host/);
  assert.equal(fs.existsSync(recordPath(cell(12), dir)), false, "the holder's record is the holder's to write");
});

test('a restart whose process dies keeps the finished record; the failure goes beside it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-sweep-'));
  // Seed 98's runner kills its process; its finished record comes from a run in this process.
  const done = await runTraining(cell(98), { resultsDir: dir, deps: toyDeps(), silent: true });
  const file = recordPath(cell(98), dir);
  const bytes = fs.readFileSync(file, 'utf8');
  const lines: string[] = [];
  const r = await runSpecs([cell(98)], {
    resultsDir: dir,
    runner,
    cache: false,
    resume: false,
    log: (l) => lines.push(l),
  });
  assert.equal(r.failed, 1);
  assert.equal(fs.readFileSync(file, 'utf8'), bytes, 'the finished record is untouched');
  assert.equal(readRecord(file).scores?.final, done.scores?.final);
  const beside = readRecord(rerunRecordPath(file));
  assert.equal(beside.status, 'failed');
  assert.match(beside.error!, /SIGKILL/);
  assert.match(lines.join('\n'), /the finished record .* is kept/);
});

test('train: false only reads: finished cells come back, missing ones stay missing and nothing runs', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-sweep-'));
  await runSpecs([cell(12)], { resultsDir: dir, jobs: 1, runner, log: () => undefined });
  const lines: string[] = [];
  const r = await runSpecs([cell(12), cell(23)], { resultsDir: dir, runner, train: false, log: (l) => lines.push(l) });
  assert.deepEqual([r.cached, r.trained, r.failed], [1, 0, 0]);
  assert.equal(r.outcomes[0].record?.status, 'finished');
  assert.equal(r.outcomes[1].record, undefined);
  assert.ok(!fs.existsSync(recordPath(cell(23), dir)), 'the missing cell did not start');
  assert.match(lines.join('\n'), /1 finished before, 1 missing \(read only: not trained\)/);
});
