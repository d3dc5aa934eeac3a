/**
 * `dmm worker --pack` on a real redis-server: a worker takes a group of compatible jobs at once (the runner's
 * packKey) and trains them as one pack, putting the others back; killed with SIGKILL mid-pack, its jobs stall,
 * and a second worker takes them back as one pack that resumes from the shared checkpoints. Jobs run the fake
 * runner (test/sweep/fake-runner.ts: pack key = model) in child processes, as real packs would.
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

const COMMIT = 'test-commit-pack';
let redis: TestRedis | undefined;
const workers: TestWorker[] = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-pack-worker-'));

after(async () => {
  await Promise.all(workers.map((w) => stopProcess(w)));
  await redis?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test(
  '--pack: 3 dmm and 3 dt jobs train as two packs of 3; a pack killed with -9 resumes on another worker',
  { timeout: 120_000, skip: redisMissing() },
  async () => {
    redis = await startRedis();
    const q = { queue: redis.url, commit: COMMIT };
    const results = path.join(tmp, 'results');
    const artifacts = path.join(tmp, 'artifacts');
    const fakeLog = path.join(tmp, 'finished.log');
    const grid = writeGrid(tmp, 'packs', {
      experiment: 'packs',
      scale: 'smoke',
      models: ['dmm', 'dt'],
      envs: ['hopper'],
      datasets: ['medium'],
      seeds: [1, 2, 3],
      overrides: { steps: 8, stepMs: 250 },
    });
    assert.equal((await enqueueGrid(grid, { ...q, resultsDir: results })).added, 6);
    const args = (i: number) => [
      '--queue',
      redis!.url,
      '--pack',
      '8',
      '--runner',
      FAKE_RUNNER,
      '--artifacts',
      artifacts,
      '--results',
      path.join(tmp, `worker-${i}`),
      '--lock-ms',
      '2000',
      '--stalled-ms',
      '1000',
    ];
    const env = { DMM_COMMIT: COMMIT, DMM_FAKE_LOG: fakeLog };
    const first = startWorker(args(0), env);
    workers.push(first);
    const started = await waitFor(
      'the first pack to start',
      () => /start pack of (\d+): (.*)/.exec(first.output()) ?? undefined,
    );
    assert.equal(started[1], '3', first.output());
    const models = new Set(started[2].split(', ').map((l) => l.split(' ')[0]));
    assert.equal(models.size, 1, `one model per pack, got ${started[2]}`);
    // Kill it once every run of its pack has checkpointed at least 2 of 8 steps.
    const ckpts = path.join(artifacts, 'packs', 'checkpoints');
    await waitFor('the pack to checkpoint', () => {
      const dirs = fs.existsSync(ckpts) ? fs.readdirSync(ckpts) : [];
      const steps = dirs.map((d) => {
        const f = path.join(ckpts, d, 'step.json');
        return fs.existsSync(f) ? (JSON.parse(fs.readFileSync(f, 'utf8')) as { step: number }).step : 0;
      });
      return steps.length === 3 && steps.every((s) => s >= 2);
    });
    first.proc.kill('SIGKILL');
    assert.equal(await first.exited, null, 'the first worker died by signal');

    const second = startWorker(args(1), env);
    workers.push(second);
    const status = await waitFor(
      'all jobs to finish',
      async () => {
        const s = await sweepStatus(q);
        return s.done === 6 && s.running === 0 && s.waiting === 0 ? s : undefined;
      },
      100_000,
      500,
    );
    assert.equal(status.failed, 0);
    const packs = [...second.output().matchAll(/start pack of (\d+): (.*)/g)].map((m) => m[2].split(', ').sort());
    assert.equal(packs.length, 2, second.output());
    for (const p of packs) assert.equal(new Set(p.map((l) => l.split(' ')[0])).size, 1, `one model per pack: ${p}`);
    assert.ok(/stalled \(its worker died\)/.test(second.output()), 'the killed pack came back as stalled jobs');

    const finished = fs.readFileSync(fakeLog, 'utf8').trim().split('\n');
    assert.equal(finished.length, 6, 'each run finished exactly once');
    assert.equal(new Set(finished.map((l) => l.split(' ')[0])).size, 6);
    assert.equal((await sweepCollect({ ...q, resultsDir: results })).written.length, 6);
    const records = fs.readdirSync(path.join(results, 'packs')).map(
      (f) =>
        JSON.parse(fs.readFileSync(path.join(results, 'packs', f), 'utf8')) as {
          spec: { model: string };
          packedWith: number;
          resumedFromStep: number;
        },
    );
    assert.deepEqual(
      records.map((r) => r.packedWith),
      [3, 3, 3, 3, 3, 3],
    );
    const resumed = records.filter((r) => r.spec.model === [...models][0]);
    assert.ok(
      resumed.every((r) => r.resumedFromStep >= 2),
      `the killed pack resumed: ${resumed.map((r) => r.resumedFromStep)}`,
    );
    assert.equal(await stopProcess(second), 0, second.output());
  },
);
