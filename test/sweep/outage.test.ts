/**
 * Redis goes away while workers run: they log, wait and reconnect, and the sweep finishes with each
 * run recorded once. Redis is killed with SIGKILL and restarted on the same port and folder; its
 * append-only file (fsync always) keeps the queue.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { enqueueGrid, sweepCollect, sweepStatus } from '../../src/sweep/queue';
import {
  FAKE_RUNNER,
  redisMissing,
  startRedis,
  startWorker,
  stopProcess,
  waitFor,
  writeGrid,
  type TestRedis,
  type TestWorker,
} from '../helpers/sweep-redis';

const COMMIT = 'test-commit-outage';
let redis: TestRedis | undefined;
const workers: TestWorker[] = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-outage-'));

after(async () => {
  await Promise.all(workers.map((w) => stopProcess(w)));
  await redis?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const queueTest = { timeout: 120_000, skip: redisMissing() };

test('workers survive Redis going away for a few seconds and finish the sweep', queueTest, async () => {
  redis = await startRedis();
  const q = { queue: redis.url, commit: COMMIT };
  const fakeLog = path.join(tmp, 'finished.log');
  const grid = writeGrid(tmp, 'six', {
    experiment: 'outage',
    scale: 'smoke',
    models: ['dmm', 'dt'],
    envs: ['hopper'],
    datasets: ['medium'],
    seeds: [1, 2, 3],
    overrides: { steps: 6, stepMs: 250 },
  });
  assert.equal((await enqueueGrid(grid, { ...q, resultsDir: path.join(tmp, 'results') })).added, 6);

  // Locks (10 s) outlive the outage (~3 s), so no run is taken for stalled while Redis is down.
  const args = [
    '--queue',
    redis.url,
    '--concurrency',
    '1',
    '--runner',
    FAKE_RUNNER,
    '--lock-ms',
    '10000',
    '--stalled-ms',
    '2000',
  ];
  for (let i = 0; i < 2; i++)
    workers.push(
      startWorker([...args, '--results', path.join(tmp, `worker-${i}`)], { DMM_COMMIT: COMMIT, DMM_FAKE_LOG: fakeLog }),
    );

  await waitFor(
    'two runs to finish',
    () => fs.existsSync(fakeLog) && fs.readFileSync(fakeLog, 'utf8').trim().split('\n').length >= 2,
  );
  await redis.kill();
  await waitFor(
    'the workers to notice',
    () => workers.every((w) => /queue error \(will retry\)/.test(w.output())),
    20_000,
  );
  await new Promise((r) => setTimeout(r, 3000));
  await redis.start();

  const status = await waitFor(
    'all runs to finish after the outage',
    async () => {
      const s = await sweepStatus(q);
      return s.done === 6 ? s : undefined;
    },
    90_000,
    500,
  );
  assert.equal(status.failed, 0);
  for (const w of workers) {
    assert.equal(w.proc.exitCode, null, 'the worker did not crash');
    assert.match(w.output(), /connected to .* again/);
  }
  const finished = fs
    .readFileSync(fakeLog, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(' ')[0]);
  assert.equal(finished.length, 6, 'each run finished once');
  assert.equal(new Set(finished).size, 6);
  assert.equal((await sweepCollect({ ...q, resultsDir: path.join(tmp, 'results') })).written.length, 6);
  for (const w of workers) assert.equal(await stopProcess(w), 0, w.output());
});
