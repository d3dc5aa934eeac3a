/**
 * A queued job is untrusted input: anyone who can write to the Redis can add one. A worker runs a job
 * only when its data is exactly what enqueueGrid writes (known keys, a valid spec, the spec's own hash as
 * hash and job id); anything else fails at once, in one line, without retries and without running.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Queue, type Job } from 'bullmq';
import { normaliseRunSpec, specHash } from '../../src/config/run-spec';
import { DEFAULT_QUEUE_NAME, parseQueueUrl } from '../../src/sweep/queue';
import {
  FAKE_RUNNER,
  redisMissing,
  startRedis,
  startWorker,
  stopProcess,
  waitFor,
  type TestRedis,
  type TestWorker,
} from '../helpers/sweep-redis';

const COMMIT = 'test-commit-untrusted';
let redis: TestRedis | undefined;
let worker: TestWorker | undefined;
let queue: Queue | undefined;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-untrusted-'));

after(async () => {
  await queue?.close();
  if (worker) await stopProcess(worker);
  await redis?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test(
  'jobs whose data is not what enqueueGrid writes fail in one line and never run',
  { timeout: 90_000, skip: redisMissing() },
  async () => {
    redis = await startRedis();
    queue = new Queue(DEFAULT_QUEUE_NAME, { connection: parseQueueUrl(redis.url) });
    const spec = (seed: number) =>
      normaliseRunSpec({
        model: 'dmm',
        env: 'hopper',
        dataset: 'medium',
        seed,
        scale: 'smoke',
        overrides: { steps: 1, stepMs: 10 },
      });
    const data = (s: ReturnType<typeof spec>, extra: object = {}) => ({
      spec: s,
      hash: specHash(s),
      kitVersion: '0.1.0',
      commit: COMMIT,
      submittedAt: '2026-01-01T00:00:00Z',
      submittedBy: 'test',
      ...extra,
    });
    const jobs: [string, unknown, RegExp][] = [
      ['good', data(spec(1)), /^$/],
      [
        'escape',
        data(spec(2), { hash: '../../escape' }),
        /hash must be the sha256 of its spec \(.{12}…\), got "\.\.\/\.\.\/escape"/,
      ],
      ['foreign-key', data(spec(3), { runOptions: { resultsDir: '/' } }), /unknown key 'runOptions'/],
      [
        'bad-spec',
        { ...data(spec(4)), spec: { ...spec(4), experiment: '../../x' } },
        /experiment must be a lower-case name .* got "\.\.\/\.\.\/x"/,
      ],
      ['bad-commit', data(spec(5), { commit: 5 }), /commit must be a string, got 5/],
    ];
    const fakeLog = path.join(tmp, 'finished.log');
    const artifacts = path.join(tmp, 'artifacts');
    for (const [name, d] of jobs) {
      const hash = (d as { hash?: unknown }).hash;
      const id =
        name === 'good' || name === 'escape'
          ? specHash(spec(name === 'good' ? 1 : 2))
          : `${name}-${String(hash).slice(0, 8)}`;
      await queue.add(name, d, { jobId: id, attempts: 3, backoff: { type: 'fixed', delay: 100 } });
    }
    worker = startWorker(
      [
        '--queue',
        redis.url,
        '--concurrency',
        '1',
        '--runner',
        FAKE_RUNNER,
        '--artifacts',
        artifacts,
        '--results',
        path.join(tmp, 'results'),
      ],
      { DMM_COMMIT: COMMIT, DMM_FAKE_LOG: fakeLog },
    );
    await waitFor('every job to end', async () => {
      const c = await queue!.getJobCounts('completed', 'failed');
      return c.completed + c.failed === jobs.length;
    });
    const ended: Job[] = await queue.getJobs(['completed', 'failed']);
    for (const [name, , message] of jobs) {
      const job = ended.find((j) => j.name === name)!;
      const state: string = await job.getState();
      if (name === 'good') {
        assert.equal(state, 'completed');
        continue;
      }
      assert.equal(state, 'failed', name);
      assert.equal(job.attemptsMade, 1, `${name}: no retries for a job that can never be valid`);
      assert.match(job.failedReason, /^Error in runWorker: job .* must be what enqueueGrid writes: /, name);
      assert.match(job.failedReason, message, name);
      assert.ok(!job.failedReason.includes('\n'), name);
    }
    const ran = fs.readFileSync(fakeLog, 'utf8').trim().split('\n');
    assert.deepEqual(
      ran.map((l) => l.split(' ')[0]),
      [specHash(spec(1))],
      'only the good job ran',
    );
    assert.equal(fs.existsSync(path.join(tmp, 'escape')), false);
  },
);
