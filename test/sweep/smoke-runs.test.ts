/**
 * The queue with real training: two smoke-scale runTraining runs (dt on hopper-random, which needs no
 * behaviour policies) through two worker processes with the default runner. Worker 0 is killed with
 * SIGKILL as soon as its run has written its first checkpoint to the shared --artifacts folder; worker 1
 * then resumes that run from the checkpoint, and each record arrives once. (The 6-cell, 3-worker test in
 * queue.test.ts uses the fake runner: one real smoke run takes ~30 s on the shared 2-core machine.)
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadGrid } from '../../src/sweep/grid';
import { enqueueGrid, sweepCollect, sweepStatus } from '../../src/sweep/queue';
import {
  redisMissing,
  startRedis,
  startWorker,
  stopProcess,
  waitFor,
  writeGrid,
  type TestRedis,
  type TestWorker,
} from '../helpers/sweep-redis';

const COMMIT = 'test-commit-smoke';
let redis: TestRedis | undefined;
const workers: TestWorker[] = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-sweep-smoke-'));

after(async () => {
  await Promise.all(workers.map((w) => stopProcess(w)));
  await redis?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface Rec {
  status: string;
  specHash: string;
  iterations: { iteration: number; trainSeconds: number }[];
}

test(
  '2 real smoke runs on 2 workers: one killed after its first checkpoint resumes elsewhere',
  { timeout: 280_000, skip: redisMissing() },
  async () => {
    redis = await startRedis();
    const q = { queue: redis.url, commit: COMMIT };
    const results = path.join(tmp, 'results');
    const artifacts = path.join(tmp, 'artifacts');
    const grid = writeGrid(tmp, 'smoke-2', {
      experiment: 'smoke-2',
      scale: 'smoke',
      models: ['dt'],
      envs: ['hopper'],
      datasets: ['random'],
      seeds: [12, 23],
    });
    assert.equal((await enqueueGrid(grid, { ...q, resultsDir: results, attempts: 2, backoffMs: 500 })).added, 2);

    const args = [
      '--queue',
      redis.url,
      '--concurrency',
      '1',
      '--artifacts',
      artifacts,
      '--lock-ms',
      '3000',
      '--stalled-ms',
      '1500',
    ];
    for (let i = 0; i < 2; i++)
      workers.push(startWorker([...args, '--results', path.join(tmp, `worker-${i}`)], { DMM_COMMIT: COMMIT }));
    const victim = workers[0];

    // Kill worker 0 as soon as its run has saved iteration 1 (of 2) to the shared folder.
    const prefix = await waitFor(
      'worker 0 to start a run',
      () => /start .* \(job ([0-9a-f]{12})/.exec(victim.output())?.[1],
      120_000,
    );
    const hash = await waitFor(
      'the first checkpoint',
      () => {
        const dir = path.join(artifacts, 'smoke-2', 'checkpoints');
        const h = fs.existsSync(dir) ? fs.readdirSync(dir).find((d) => d.startsWith(prefix)) : undefined;
        return h && fs.existsSync(path.join(dir, h, 'iter-0001', 'state.json')) ? h : undefined;
      },
      150_000,
      50,
    );
    victim.proc.kill('SIGKILL');
    await victim.exited;
    const saved = JSON.parse(
      fs.readFileSync(path.join(artifacts, 'smoke-2', 'checkpoints', hash, 'iter-0001', 'state.json'), 'utf8'),
    ) as {
      run: { iterations: { trainSeconds: number }[] };
    };

    const status = await waitFor(
      'both runs',
      async () => {
        const s = await sweepStatus(q);
        return s.done + s.failed === 2 && s.running === 0 ? s : undefined;
      },
      200_000,
      500,
    );
    assert.equal(status.failed, 0, JSON.stringify(status.failedJobs));
    assert.equal(status.done, 2);
    assert.match(workers[1].output(), /stalled \(its worker died\)/);

    const collected = await sweepCollect({ ...q, resultsDir: results });
    assert.equal(collected.written.length, 2);
    const expected = loadGrid(grid)
      .cells.map((c) => `${c.hash}.json`)
      .sort();
    assert.deepEqual(fs.readdirSync(path.join(results, 'smoke-2')).sort(), expected, 'one record per cell');
    for (const f of expected) {
      const rec = JSON.parse(fs.readFileSync(path.join(results, 'smoke-2', f), 'utf8')) as Rec;
      assert.equal(rec.status, 'finished');
      assert.equal(rec.iterations.length, 2);
    }
    // Resumed, not restarted: iteration 1 of the killed run is the one its checkpoint holds (its timing included).
    const killed = JSON.parse(fs.readFileSync(path.join(results, 'smoke-2', `${hash}.json`), 'utf8')) as Rec;
    assert.equal(killed.iterations[0].trainSeconds, saved.run.iterations[0].trainSeconds);
    assert.equal(
      (await sweepCollect({ ...q, resultsDir: results })).written.length,
      0,
      'collecting twice writes nothing',
    );
    assert.equal(await stopProcess(workers[1]), 0);
  },
);
