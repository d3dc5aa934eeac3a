/**
 * The queue commands at the command line: one-line errors with a non-zero exit for an unreachable
 * queue, a bad grid file and an unknown option; a worker on another commit refuses the job (and stops)
 * unless --allow-version-mismatch; --status and --collect print what the queue holds.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { enqueueGrid, sweepStatus } from '../../src/sweep/queue';
import {
  FAKE_RUNNER,
  freePort,
  redisMissing,
  startRedis,
  startWorker,
  stopProcess,
  waitFor,
  writeGrid,
  type TestRedis,
  type TestWorker,
} from '../helpers/sweep-redis';

const DMM = path.resolve(__dirname, '..', '..', 'bin', 'dmm.js');
let redis: TestRedis | undefined;
const workers: TestWorker[] = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-sweep-cli-'));

after(async () => {
  await Promise.all(workers.map((w) => stopProcess(w)));
  await redis?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Runs `dmm sweep` as a user would; resolves with its exit code and output. */
function sweep(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [DMM, 'sweep', ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function oneLineError(r: { code: number | null; stderr: string }, pattern: RegExp): void {
  assert.notEqual(r.code, 0);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], pattern);
}

test('unreachable queue, bad grid, unknown option: one line and a non-zero exit', { timeout: 60_000 }, async () => {
  const closed = `redis://127.0.0.1:${await freePort()}`;
  const bad = writeGrid(tmp, 'bad', {
    experiment: 'x',
    scale: 'smoke',
    models: ['dmm'],
    envs: ['hoper'],
    datasets: ['medium'],
    seeds: [1],
  });
  // The seven commands run at once; each must fail alone, in one line. A closed local port with redis-server
  // installed (any existing file stands in for it) says to start it; without one, how to install it.
  const cases: [string[], Record<string, string>, RegExp][] = [
    [
      ['--grid', 'grids/smoke-6.json', '--queue', closed],
      { DMM_REDIS_SERVER: process.execPath },
      /^Error in enqueueGrid: the queue must be a reachable Redis, got no answer at redis:\/\/127\.0\.0\.1:\d+\/0 \(connect ECONNREFUSED .*\)\. Start redis-server there or fix --queue\.$/,
    ],
    [['--status', '--queue', closed], {}, /^Error in sweepStatus: the queue must be a reachable Redis/],
    [
      ['--grid', 'grids/smoke-6.json', '--queue', closed],
      { DMM_REDIS_SERVER: '/nonexistent/redis-server' },
      /\. redis-server is not installed here\. Install it with: sudo apt-get install redis-server, start it \(redis-server --daemonize yes\), or fix --queue\.$/,
    ],
    [['--status', '--queue', 'http://x:1'], {}, /must start with redis:\/\/ or rediss:\/\//],
    [
      ['--grid', bad, '--queue', closed],
      {},
      /env must be one of hopper, halfcheetah, walker2d, antmaze, got "hoper"\. Did you mean 'hopper'\?/,
    ],
    [
      ['--grid', 'grids/smoke-6.json', '--queu', 'redis://x'],
      {},
      /^Error in dmm sweep: unknown option '--queu'\. Did you mean '--queue'\?/,
    ],
    [['--grid', 'grids/smoke-6.json', '--queue='], { DMM_QUEUE: '' }, /a queue address is needed/],
  ];
  const runs = await Promise.all(cases.map(([args, env]) => sweep(args, env)));
  runs.forEach((r, i) => oneLineError(r, cases[i][2]));
});

test(
  'a worker on another commit refuses the job and stops; --allow-version-mismatch runs it',
  { timeout: 90_000, skip: redisMissing() },
  async () => {
    redis = await startRedis();
    const results = path.join(tmp, 'results');
    const grid = writeGrid(tmp, 'one', {
      experiment: 'one',
      scale: 'smoke',
      models: ['dt'],
      envs: ['walker2d'],
      datasets: ['medium-replay'],
      seeds: [5],
      overrides: { steps: 2, stepMs: 50 },
    });
    assert.equal(
      (await enqueueGrid(grid, { queue: redis.url, commit: 'aaaaaaaaaaaa1111', resultsDir: results, source: 'd4rl' }))
        .added,
      1,
    );

    const args = [
      '--queue',
      redis.url,
      '--concurrency',
      '1',
      '--runner',
      FAKE_RUNNER,
      '--results',
      path.join(tmp, 'w'),
    ];
    const stale = startWorker(args, { DMM_COMMIT: 'bbbbbbbbbbbb2222' });
    workers.push(stale);
    assert.equal(await stale.exited, 3, stale.output());
    assert.match(
      stale.output(),
      /Error in runWorker: job dt walker2d-medium-replay s5 \(smoke, d4rl\) was submitted from commit aaaaaaaaaaaa, this worker runs bbbbbbbbbbbb\. .*--allow-version-mismatch/,
    );
    let s = await sweepStatus({ queue: redis.url });
    assert.deepEqual([s.done, s.failed, s.waiting], [0, 0, 1], 'the refused job went back to the queue');

    const lenient = startWorker([...args, '--allow-version-mismatch'], { DMM_COMMIT: 'bbbbbbbbbbbb2222' });
    workers.push(lenient);
    s = await waitFor('the job to run', async () => {
      const st = await sweepStatus({ queue: redis!.url });
      return st.done === 1 ? st : undefined;
    });
    assert.equal(s.waiting, 0);

    const status = await sweep(['--status', '--queue', redis.url]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^done 1, running 0, failed 0, waiting 0; workers 1; ETA 0s/);
    const collect = await sweep(['--collect', '--queue', redis.url, '--results', results]);
    assert.equal(collect.code, 0, collect.stderr);
    assert.match(collect.stdout, /collected 1 new record\(s\); 0 already local/);
    const recordFile = collect.stdout.trim().split('\n')[1].trim();
    const record = JSON.parse(fs.readFileSync(recordFile, 'utf8')) as { spec: { seed: number; source: string } };
    assert.equal(record.spec.source, 'd4rl', "the submitter's source is in the run's spec");
    assert.equal(record.spec.seed, 5);
    const again = await sweep(['--grid', grid, '--queue', redis.url, '--results', results, '--source', 'd4rl']);
    assert.match(again.stdout, /1 cells; 1 already in .*; added 0/);
    assert.equal(await stopProcess(lenient), 0);
  },
);
