/**
 * The queue end to end, on a real redis-server: 6 cells through 3 worker processes, one worker killed
 * with SIGKILL mid-run, a failing cell, enqueuing twice, collecting twice. Jobs run the fake runner
 * (test/sweep/fake-runner.ts) in child processes, exactly as real runs would.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { enqueueGrid, sweepCollect, sweepStatus } from '../../src/sweep/queue';
import { loadGrid } from '../../src/sweep/grid';
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

const COMMIT = 'test-commit-queue';
let redis: TestRedis | undefined;
const workers: TestWorker[] = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-sweep-'));

after(async () => {
  await Promise.all(workers.map((w) => stopProcess(w)));
  await redis?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test(
  '6 cells on 3 workers: a worker killed with -9 mid-run, a failing cell, each record exactly once',
  { timeout: 120_000, skip: redisMissing() },
  async () => {
    redis = await startRedis();
    const q = { queue: redis.url, commit: COMMIT };
    const results = path.join(tmp, 'results'); // the submitting machine
    const artifacts = path.join(tmp, 'artifacts'); // shared checkpoints
    const fakeLog = path.join(tmp, 'finished.log');
    // 8 steps of 250 ms: long enough to kill a worker in the middle of a run.
    const grid = writeGrid(tmp, 'six', {
      experiment: 'six',
      scale: 'smoke',
      models: ['dmm', 'dt'],
      envs: ['hopper'],
      datasets: ['medium'],
      seeds: [1, 2, 3],
      overrides: { steps: 8, stepMs: 250 },
    });
    const bad = writeGrid(tmp, 'bad', {
      experiment: 'six',
      scale: 'smoke',
      cells: [
        { model: 'dc', env: 'hopper', dataset: 'hopper-medium', seed: 7, overrides: { fail: true } },
        {
          model: 'dc',
          env: 'hopper',
          dataset: 'hopper-medium',
          seed: 8,
          overrides: { crashTimes: 1, steps: 2, stepMs: 50 }, // its first process dies, the retry finishes
        },
      ],
    });

    const first = await enqueueGrid(grid, { ...q, resultsDir: results, attempts: 2, backoffMs: 200 });
    assert.deepEqual({ cells: first.cells, local: first.local, added: first.added }, { cells: 6, local: 0, added: 6 });
    const again = await enqueueGrid(grid, { ...q, resultsDir: results, attempts: 2, backoffMs: 200 });
    assert.equal(again.added, 0, 'enqueuing the same grid again adds nothing');
    assert.equal(again.present.waiting, 6);
    assert.equal((await enqueueGrid(bad, { ...q, resultsDir: results, attempts: 2, backoffMs: 200 })).added, 2);

    const args = [
      '--queue',
      redis.url,
      '--concurrency',
      '1',
      '--runner',
      FAKE_RUNNER,
      '--artifacts',
      artifacts,
      '--lock-ms',
      '2000',
      '--stalled-ms',
      '1000',
    ];
    const env = { DMM_COMMIT: COMMIT, DMM_FAKE_LOG: fakeLog };
    for (let i = 0; i < 3; i++) workers.push(startWorker([...args, '--results', path.join(tmp, `worker-${i}`)], env));
    const victim = workers[0];

    // Kill worker 0 once its run has checkpointed at least 2 of 8 steps in the shared artifacts.
    const jobPrefix = await waitFor(
      'worker 0 to start a run',
      () => /start .* \(job ([0-9a-f]{12})/.exec(victim.output())?.[1],
      60_000,
    );
    const ckptDir = await waitFor('the run to checkpoint', () => {
      const dir = path.join(artifacts, 'six', 'checkpoints');
      const hit = fs.existsSync(dir) ? fs.readdirSync(dir).find((d) => d.startsWith(jobPrefix)) : undefined;
      if (!hit) return undefined;
      const f = path.join(dir, hit, 'step.json');
      return fs.existsSync(f) && (JSON.parse(fs.readFileSync(f, 'utf8')) as { step: number }).step >= 2
        ? hit
        : undefined;
    });
    victim.proc.kill('SIGKILL');
    assert.equal(await victim.exited, null, 'worker 0 died by signal');
    // Progress events reach the queue: a running job shows its fraction and the runner's info line.
    await waitFor('progress of a running job', async () =>
      (await sweepStatus(q)).runningJobs.some((r) => (r.progress ?? 0) > 0 && /^step \d\/8$/.test(r.info ?? '')),
    );

    const status = await waitFor(
      'all jobs to finish',
      async () => {
        const s = await sweepStatus(q);
        return s.done + s.failed === 8 && s.running === 0 && s.waiting === 0 ? s : undefined;
      },
      100_000,
      500,
    );
    assert.equal(status.done, 7);
    assert.equal(status.failed, 1);
    assert.match(status.failedJobs[0].label, /dc hopper-medium s7/);
    assert.match(status.failedJobs[0].error ?? '', /planned failure of seed 7 on attempt 2/);
    assert.equal(status.failedJobs[0].attemptsMade, 2);

    // Every run finished exactly once: the killed run's orphan did not go on, and it ran again only once.
    const finished = fs
      .readFileSync(fakeLog, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' ')[0]);
    assert.equal(finished.length, 7, finished.join(','));
    assert.equal(new Set(finished).size, 7);

    const collected = await sweepCollect({ ...q, resultsDir: results });
    assert.equal(collected.written.length, 7);
    const expected = [
      ...loadGrid(grid).cells.map((c) => c.hash),
      ...loadGrid(bad)
        .cells.slice(1)
        .map((c) => c.hash),
    ]
      .map((h) => `${h}.json`)
      .sort();
    assert.deepEqual(
      fs.readdirSync(path.join(results, 'six')).sort(),
      expected,
      'one record per finished cell, named by its specHash',
    );
    const resumed = JSON.parse(fs.readFileSync(path.join(results, 'six', `${ckptDir}.json`), 'utf8')) as {
      resumedFromStep: number;
      pid: number;
    };
    assert.ok(resumed.resumedFromStep >= 2, `the killed run resumed from step ${resumed.resumedFromStep}`);
    assert.equal(
      (await sweepCollect({ ...q, resultsDir: results })).written.length,
      0,
      'collecting twice writes nothing',
    );

    const last = await enqueueGrid(grid, { ...q, resultsDir: results });
    assert.deepEqual(
      { local: last.local, added: last.added },
      { local: 6, added: 0 },
      'finished cells are not enqueued again',
    );

    assert.ok(
      workers.some((w) =>
        /failed dc hopper-medium s8 \(smoke\) \(attempt 1 of 2\): run process exited with code 7/.test(w.output()),
      ),
      'a run process that died was reported and retried',
    );
    assert.ok(
      workers.slice(1).some((w) => /stalled \(its worker died\)/.test(w.output())),
      'a surviving worker took the killed run back as stalled',
    );
    for (const w of workers.slice(1)) assert.equal(await stopProcess(w), 0, w.output());
  },
);
