import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { before, test } from 'node:test';
import { initBackend, tf } from '../../src/backend';
import { loadRows } from '../../src/results/aggregate';
import { readRecord, rerunRecordPath } from '../../src/results/record';
import { checkpointDir, recordPath } from '../../src/config/run-spec';
import { loadCheckpoint, latestCheckpoint } from '../../src/train/checkpoint';
import { runTraining } from '../../src/train/run';
import { deadPid } from '../helpers/dead-pid';
import { toyDataset, toyDeps } from '../helpers/train-fakes';

before(async () => {
  await initBackend({ log: false });
});

const spec = {
  model: 'dmm',
  env: 'hopper',
  dataset: 'medium',
  seed: 12,
  scale: 'smoke',
  experiment: 'toy',
  overrides: { iterations: 3, stepsPerIteration: 5, batchSize: 6, learningRate: 0.01 },
} as const;

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-run-'));
}

function weightsOf(dir: string): Record<string, number[]> {
  const ck = loadCheckpoint(latestCheckpoint(dir)!);
  return Object.fromEntries([...ck.weights].map(([k, v]) => [k, Array.from(v.data)]));
}

test('a run writes a finished record with the (iteration × target) matrix and both protocols', async () => {
  const dir = tmp();
  const before = tf.memory().numTensors;
  const rec = await runTraining(spec, { resultsDir: dir, deps: toyDeps(), silent: true });
  assert.equal(tf.memory().numTensors, before, 'no tensors leak from a run');
  assert.equal(rec.status, 'finished');
  const onDisk = readRecord(recordPath(spec, dir));
  assert.equal(onDisk.iterations.length, 3);
  assert.deepEqual(
    onDisk.iterations.map((it) => it.step),
    [5, 10, 15],
  );
  for (const it of onDisk.iterations) {
    assert.ok(Number.isFinite(it.loss));
    assert.deepEqual(
      it.targets.map((t) => t.target),
      [3600, 7200, 36000, 72000],
    );
    for (const t of it.targets) assert.equal(t.returns.length, 2);
  }
  assert.ok(onDisk.scores!.best_official >= 0);
  assert.equal(onDisk.scores!.final, onDisk.iterations[2].targets[0].normalizedScore);
  assert.equal(onDisk.dataset.checksum, 'toy-1');
  assert.match(onDisk.gitCommit, /^[0-9a-f]{40}$|^unknown$/);
});

test('a run stopped after an iteration and resumed ends with bitwise the same weights and record', async () => {
  const a = tmp();
  const b = tmp();
  const full = await runTraining(spec, { resultsDir: a, deps: toyDeps(), silent: true });
  const part = await runTraining(spec, { resultsDir: b, deps: toyDeps(), silent: true, stopAfterIteration: 1 });
  assert.equal(part.status, 'running');
  assert.equal(part.iterations.length, 1);
  const resumed = await runTraining(spec, { resultsDir: b, deps: toyDeps(), silent: true });
  assert.equal(resumed.status, 'finished');
  const ckA = path.join(a, 'toy', 'checkpoints', full.specHash);
  const ckB = path.join(b, 'toy', 'checkpoints', resumed.specHash);
  assert.deepEqual(weightsOf(ckB), weightsOf(ckA));
  assert.deepEqual(loadCheckpoint(latestCheckpoint(ckB)!).optimizer, loadCheckpoint(latestCheckpoint(ckA)!).optimizer);
  assert.deepEqual(
    resumed.iterations.map((it) => [it.loss, it.targets.map((t) => t.returns)]),
    full.iterations.map((it) => [it.loss, it.targets.map((t) => t.returns)]),
  );
});

test('training lowers the loss on a learnable toy dataset', async () => {
  const dir = tmp();
  const rec = await runTraining(
    { ...spec, overrides: { iterations: 3, stepsPerIteration: 40, batchSize: 16, learningRate: 0.03, warmupSteps: 0 } },
    { resultsDir: dir, deps: toyDeps(), silent: true },
  );
  const losses = rec.iterations.map((it) => it.loss);
  assert.ok(losses[2] < 0.7 * losses[0], `loss ${losses.join(' → ')}`);
});

test('a failure inside a run is written to the record as failed with its error', async () => {
  const dir = tmp();
  await assert.rejects(
    runTraining(spec, {
      resultsDir: dir,
      silent: true,
      deps: toyDeps({
        loadDataset: async () => {
          throw new Error('Error in loadDataset: no such file');
        },
      }),
    }),
    /no such file/,
  );
  const rec = readRecord(recordPath(spec, dir));
  assert.equal(rec.status, 'failed');
  assert.match(rec.error!, /no such file/);
});

test('a corrupt checkpoint gives a one-line error naming the folder, not a tfjs crash', async () => {
  const dir = tmp();
  const part = await runTraining(spec, { resultsDir: dir, deps: toyDeps(), silent: true, stopAfterIteration: 1 });
  const ck = latestCheckpoint(path.join(dir, 'toy', 'checkpoints', part.specHash))!;
  fs.writeFileSync(path.join(ck, 'model.safetensors'), Buffer.from([1, 2, 3]));
  await assert.rejects(runTraining(spec, { resultsDir: dir, deps: toyDeps(), silent: true }), (err: Error) => {
    assert.match(
      err.message,
      /^Error in loadCheckpoint: .*iter-0001 must be a complete dmm-kit\/checkpoint@1 folder, got an unreadable model.safetensors/,
    );
    assert.ok(!err.message.includes('\n'));
    return true;
  });
  fs.writeFileSync(path.join(ck, 'state.json'), '{"format": "dmm-kit/checkpoint@1", "iter');
  assert.throws(() => loadCheckpoint(ck), /got a state.json that is not JSON/);
});

test('a checkpoint made under other scale numbers is not continued', async () => {
  const dir = tmp();
  const part = await runTraining(spec, { resultsDir: dir, deps: toyDeps(), silent: true, stopAfterIteration: 1 });
  const ck = latestCheckpoint(path.join(dir, 'toy', 'checkpoints', part.specHash))!;
  const state = JSON.parse(fs.readFileSync(path.join(ck, 'state.json'), 'utf8'));
  state.run.config.train.stepsPerIteration = 999;
  fs.writeFileSync(path.join(ck, 'state.json'), JSON.stringify(state));
  await assert.rejects(
    runTraining(spec, { resultsDir: dir, deps: toyDeps(), silent: true }),
    /must have this run's train config, got a different one/,
  );
});

test("leftovers of a killed run's writes are removed when the spec runs again; a live writer's are kept", async () => {
  const dir = tmp();
  const part = await runTraining(spec, { resultsDir: dir, deps: toyDeps(), silent: true, stopAfterIteration: 1 });
  const ckRoot = path.join(dir, 'toy', 'checkpoints', part.specHash);
  const record = recordPath(spec, dir);
  const dead = deadPid();
  const stale = [path.join(ckRoot, `iter-0002.tmp-${dead}`), `${record}.${dead}.abc123.tmp`];
  const live = [path.join(ckRoot, `iter-0002.tmp-${process.ppid}`), `${record}.${process.ppid}.def456.tmp`];
  fs.mkdirSync(stale[0]);
  fs.writeFileSync(path.join(stale[0], 'model.safetensors'), 'half');
  fs.mkdirSync(live[0]);
  fs.writeFileSync(stale[1], '{"half');
  fs.writeFileSync(live[1], '{"half');
  await runTraining(spec, { resultsDir: dir, deps: toyDeps(), silent: true });
  for (const f of stale) assert.equal(fs.existsSync(f), false, `${path.basename(f)} removed`);
  for (const f of live) assert.equal(fs.existsSync(f), true, `${path.basename(f)} kept`);
});

test('a finished record survives a rerun: a damaged checkpoint or a changed dataset never replaces it', async () => {
  const dir = tmp();
  const done = await runTraining(spec, { resultsDir: dir, deps: toyDeps(), silent: true });
  const file = recordPath(spec, dir);
  const bytes = fs.readFileSync(file, 'utf8');
  const ck = latestCheckpoint(path.join(dir, 'toy', 'checkpoints', done.specHash))!;
  fs.writeFileSync(path.join(ck, 'model.safetensors'), 'damaged');
  // The same spec again: skipped, the finished record returned as it is.
  const again = await runTraining(spec, { resultsDir: dir, deps: toyDeps(), silent: true });
  assert.equal(again.status, 'finished');
  assert.deepEqual(again.scores, done.scores);
  const changed = toyDeps({
    loadDataset: async () => ({ ...toyDataset(), provenance: { source: 'kit', checksum: 'toy-2' } }),
  });
  await runTraining(spec, { resultsDir: dir, deps: changed, silent: true });
  assert.equal(fs.readFileSync(file, 'utf8'), bytes, 'the finished record is untouched');
});

test('a restart that fails keeps the finished record and writes its failure beside it; one that finishes replaces it', async () => {
  const dir = tmp();
  const done = await runTraining(spec, { resultsDir: dir, deps: toyDeps(), silent: true });
  const file = recordPath(spec, dir);
  const bytes = fs.readFileSync(file, 'utf8');
  const broken = toyDeps({
    loadDataset: async () => {
      throw new Error('Error in loadDataset: the dataset changed (test failure).');
    },
  });
  await assert.rejects(
    runTraining(spec, { resultsDir: dir, deps: broken, silent: true, resume: false }),
    /dataset changed/,
  );
  assert.equal(fs.readFileSync(file, 'utf8'), bytes, 'the finished record is untouched');
  const beside = rerunRecordPath(file);
  assert.equal(readRecord(beside).status, 'failed');
  assert.match(readRecord(beside).error!, /dataset changed/);
  assert.deepEqual(
    loadRows(dir).map((r) => r.status),
    ['finished'],
    'the failed restart is not a second run in the tables',
  );
  const redone = await runTraining(spec, { resultsDir: dir, deps: toyDeps(), silent: true, resume: false });
  assert.equal(redone.status, 'finished');
  assert.deepEqual(readRecord(file).scores, done.scores, 'same spec, same seed: the same result');
  assert.notEqual(readRecord(file).startedAt, done.startedAt, 'the new run replaced the record');
  assert.equal(fs.existsSync(beside), false);
});

test('two trainings of one spec at once: the second refuses in one line and the first finishes', async () => {
  const dir = tmp();
  const first = runTraining(spec, { resultsDir: dir, deps: toyDeps(), silent: true });
  await assert.rejects(runTraining(spec, { resultsDir: dir, deps: toyDeps(), silent: true }), (err: Error) => {
    assert.match(
      err.message,
      /^Error in runTraining: dmm hopper-medium s12 \(smoke\) must be trained by one process at a time, got one already training it \(pid \d+ on host .*\)\. Wait for it to finish/,
    );
    assert.ok(!err.message.includes('\n'));
    return true;
  });
  assert.equal((await first).status, 'finished');
  assert.equal(readRecord(recordPath(spec, dir)).status, 'finished');
  assert.equal(
    (await runTraining(spec, { resultsDir: dir, deps: toyDeps(), silent: true, resume: false })).status,
    'finished',
  );
});

test("a lock left by a dead process is taken over; a live holder's on another host is respected until it goes quiet", async () => {
  const dir = tmp();
  const lock = path.join(checkpointDir(spec, dir), 'lock.json');
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  fs.writeFileSync(lock, JSON.stringify({ pid: deadPid(), host: os.hostname(), since: '2026-01-01T00:00:00Z' }));
  assert.equal((await runTraining(spec, { resultsDir: dir, deps: toyDeps(), silent: true })).status, 'finished');
  assert.equal(fs.existsSync(lock), false, 'released after the run');
  fs.writeFileSync(lock, JSON.stringify({ pid: 1, host: 'elsewhere', since: '2026-01-01T00:00:00Z' }));
  await assert.rejects(
    runTraining(spec, { resultsDir: dir, deps: toyDeps(), silent: true, resume: false }),
    /got one already training it \(pid 1 on host elsewhere since 2026-01-01T00:00:00Z/,
  );
  const quiet = new Date(Date.now() - 60 * 60 * 1000);
  fs.utimesSync(lock, quiet, quiet); // no heartbeat for an hour
  assert.equal(
    (await runTraining(spec, { resultsDir: dir, deps: toyDeps(), silent: true, resume: false })).status,
    'finished',
  );
});
