/**
 * Sweep queue benchmark (issue 9), on a private redis-server on loopback:
 *   1. queue overhead per job: trivial jobs through BullMQ with an in-process processor (the queue alone),
 *      then through `runWorker` (each job in a child process, as real runs go), and enqueueGrid per cell;
 *   2. wall time of a grid through 1 worker process against 2 worker processes.
 * Usage: node --import tsx bench/sweep.ts [--jobs 200] [--child-jobs 20] [--grid-runner both|smoke|sleep] [--grid-cells 4]
 *        [--grid-kind random|medium] [--sleep-ms 2000]
 * `smoke` runs real smoke-scale training (runTraining, dt on hopper-<grid-kind>; `random` needs no behaviour
 * policies) for the grid; `sleep` runs fake jobs that sleep.
 * Prints a table and writes bench/results/sweep.json.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { Queue, Worker } from 'bullmq';
import { writeBenchResult } from './lib';
import { enqueueGrid, sweepStatus } from '../src/sweep/queue';
import { runWorker } from '../src/sweep/worker';
import { KIT_ROOT } from '../src/util/version';
import {
  FAKE_RUNNER,
  startRedis,
  startWorker,
  stopProcess,
  waitFor,
  writeGrid,
  type TestWorker,
} from '../test/helpers/sweep-redis';

const COMMIT = 'bench-commit';
const { values: args } = parseArgs({
  options: {
    jobs: { type: 'string', default: '200' },
    'child-jobs': { type: 'string', default: '20' },
    'grid-runner': { type: 'string', default: 'both' },
    'grid-cells': { type: 'string', default: '4' },
    'sleep-ms': { type: 'string', default: '2000' },
    'grid-kind': { type: 'string', default: 'random' },
  },
});
const N = Number(args.jobs);
const NC = Number(args['child-jobs']);
const GRID_CELLS = Number(args['grid-cells']);

function ms(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-bench-sweep-'));
  const redis = await startRedis();
  const conn = { host: '127.0.0.1', port: redis.port };
  const rows: { measure: string; value: number; unit: string; note: string }[] = [];
  const workers: TestWorker[] = [];
  try {
    // 1a. The queue alone: add N jobs, one in-process worker that returns at once.
    {
      const queue = new Queue('bench-raw', { connection: conn });
      let t0 = process.hrtime.bigint();
      await queue.addBulk(
        Array.from({ length: N }, (_, i) => ({
          name: 'j',
          data: { i },
          opts: { jobId: `j${i}`, removeOnComplete: false },
        })),
      );
      const addMs = ms(t0);
      let done = 0;
      t0 = process.hrtime.bigint();
      const finished = new Promise<void>((resolve) => {
        const w = new Worker('bench-raw', async (job) => ({ i: (job.data as { i: number }).i }), {
          connection: conn,
          concurrency: 1,
        });
        w.on('completed', () => {
          if (++done === N) void w.close().then(() => resolve());
        });
      });
      await finished;
      const runMs = ms(t0);
      await queue.close();
      rows.push({ measure: 'queue alone: add (addBulk)', value: addMs / N, unit: 'ms/job', note: `${N} jobs` });
      rows.push({
        measure: 'queue alone: take + complete',
        value: runMs / N,
        unit: 'ms/job',
        note: `${N} jobs, 1 in-process worker, concurrency 1`,
      });
    }
    // 1b. enqueueGrid per cell (validation, local-record check, getJob, addBulk).
    const trivialGrid = writeGrid(tmp, 'trivial', {
      experiment: 'bench-trivial',
      scale: 'smoke',
      models: ['dt'],
      envs: ['hopper'],
      datasets: ['medium'],
      seeds: Array.from({ length: NC }, (_, i) => i),
      overrides: { steps: 0 },
    });
    {
      const t0 = process.hrtime.bigint();
      const r = await enqueueGrid(trivialGrid, {
        queue: redis.url,
        name: 'bench-child',
        commit: COMMIT,
        resultsDir: path.join(tmp, 'results'),
      });
      rows.push({
        measure: 'enqueueGrid',
        value: ms(t0) / r.added,
        unit: 'ms/cell',
        note: `${r.added} cells, includes connection check`,
      });
    }
    // 1c. runWorker: each trivial job in its own child process (fork + tsx + IPC + queue).
    {
      const t0 = process.hrtime.bigint();
      const handle = await runWorker({
        queue: redis.url,
        name: 'bench-child',
        concurrency: 1,
        runner: FAKE_RUNNER,
        resultsDir: path.join(tmp, 'w'),
        commit: COMMIT,
        log: () => undefined,
      });
      await waitFor(
        'trivial child jobs',
        async () => (await sweepStatus({ queue: redis.url, name: 'bench-child' })).done === NC,
        600_000,
        100,
      );
      const total = ms(t0);
      await handle.close();
      rows.push({
        measure: 'runWorker: trivial job in a child process',
        value: total / NC,
        unit: 'ms/job',
        note: `${NC} jobs, concurrency 1 (fork + tsx load + IPC + queue)`,
      });
    }

    // 2. A grid through 1 worker process, then through 2; for each grid runner asked for.
    const runners = args['grid-runner'] === 'both' ? ['sleep', 'smoke'] : [args['grid-runner']];
    const sleepMs = Number(args['sleep-ms']);
    const seeds = Array.from({ length: GRID_CELLS }, (_, i) => 100 + i);
    for (const runner of runners) {
      const what =
        runner === 'sleep' ? `sleep jobs of ${sleepMs} ms` : `smoke training runs (dt hopper-${args['grid-kind']})`;
      const wall: Record<string, number> = {};
      for (const nWorkers of [1, 2]) {
        const name = `bench-grid-${runner}-${nWorkers}`;
        const grid = writeGrid(tmp, name, {
          experiment: name,
          scale: 'smoke',
          models: ['dt'],
          envs: ['hopper'],
          datasets: [args['grid-kind']],
          seeds,
          ...(runner === 'sleep' ? { overrides: { steps: 4, stepMs: sleepMs / 4 } } : {}),
        });
        const ws: TestWorker[] = [];
        for (let i = 0; i < nWorkers; i++) {
          const wargs = [
            '--queue',
            redis.url,
            '--name',
            name,
            '--concurrency',
            '1',
            '--results',
            path.join(tmp, `results-${name}-${i}`),
          ];
          if (runner === 'sleep') wargs.push('--runner', FAKE_RUNNER);
          const w = startWorker(wargs, { DMM_COMMIT: COMMIT });
          ws.push(w);
          workers.push(w);
        }
        await waitFor(
          'workers to connect',
          async () => (await sweepStatus({ queue: redis.url, name })).workers === nWorkers,
          60_000,
          100,
        );
        const t0 = process.hrtime.bigint();
        await enqueueGrid(grid, {
          queue: redis.url,
          name,
          commit: COMMIT,
          resultsDir: path.join(tmp, 'none'),
          attempts: 1,
        });
        const s = await waitFor(
          `grid on ${nWorkers} worker(s)`,
          async () => {
            const st = await sweepStatus({ queue: redis.url, name });
            return st.done + st.failed === seeds.length ? st : undefined;
          },
          600_000,
          200,
        );
        wall[nWorkers] = ms(t0) / 1000;
        if (s.failed > 0)
          throw new Error(`${s.failed} grid job(s) failed: ${s.failedJobs[0]?.error} | ${ws[0].output().slice(-500)}`);
        for (const w of ws) await stopProcess(w);
        rows.push({
          measure: `${runner} grid wall time, ${nWorkers} worker process(es)`,
          value: wall[nWorkers],
          unit: 's',
          note: `${seeds.length} ${what}`,
        });
      }
      rows.push({
        measure: `${runner} grid speed-up, 2 workers vs 1`,
        value: wall[1] / wall[2],
        unit: '×',
        note: `${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(1)} at the end`,
      });
    }

    console.log('\n| measure | value | unit | note |\n|---|---:|---|---|');
    for (const r of rows)
      console.log(`| ${r.measure} | ${r.value.toFixed(r.value < 10 ? 2 : 1)} | ${r.unit} | ${r.note} |`);
    const redisVersion = execFileSync(process.env.DMM_REDIS_SERVER ?? '/usr/bin/redis-server', ['--version'], {
      encoding: 'utf8',
    }).trim();
    const bullmq = (
      JSON.parse(fs.readFileSync(path.join(KIT_ROOT, 'node_modules', 'bullmq', 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
    writeBenchResult('sweep', {
      bench: 'sweep',
      date: new Date().toISOString(),
      machine: {
        cpus: os.cpus().length,
        model: os.cpus()[0]?.model,
        loadAverage: os.loadavg(),
        node: process.version,
        bullmq,
        redis: redisVersion,
      },
      gridRunners: runners,
      rows,
    });
    console.log(`\nwrote bench/results/sweep.json`);
  } finally {
    await Promise.all(workers.map((w) => stopProcess(w)));
    await redis.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error((err as Error).message);
  process.exit(1);
});
