/**
 * `dmm sweep --grid FILE`: every cell of a grid (src/sweep/grid.ts format) on local worker processes.
 * With --queue, --status or --collect it is the job-queue sweep of ./sweep-queue.ts. One option table for
 * both: an option's group says which mode it belongs to, and --help lists them all.
 */
import { resultsDir, specLabel } from '../../config/run-spec';
import { loadGrid } from '../../sweep/grid';
import { runSpecs } from '../../sweep/local';
import { commandError, helpText, parseCommand, parseInteger, type CommandSpec, type FlagValues } from '../args';
import type { CliCommand } from '../command';

const LOCAL = 'Local runs (without --queue)';
const QUEUE = 'Job queue (--queue, --status, --collect)';

export const SWEEP_SPEC = {
  name: 'sweep',
  summary:
    'Runs every cell of a grid file on local worker processes, one per core. Cells with a finished record are skipped, so rerunning resumes; a failed cell is recorded as failed with its error and the rest go on. With --queue the cells go to a Redis job queue instead, for `dmm worker` processes on any number of machines.',
  usage: [
    'dmm sweep --grid FILE [--jobs N] [--results DIR]                  (local processes)',
    'dmm sweep --grid FILE --pack [--pack-runs N] [--results DIR]     (packed runs, one GPU)',
    'dmm sweep --grid FILE --queue redis://host:6379 [--attempts N]    (enqueue)',
    'dmm sweep --status [--queue URL] [--json]',
    'dmm sweep --collect [--queue URL] [--results DIR]',
  ],
  flags: {
    grid: { type: 'string', value: 'FILE', help: 'grid JSON (grids/*.json)' },
    results: {
      type: 'string',
      value: 'DIR',
      help: "this machine's results folder",
      default: '$DMM_RESULTS_DIR, else .cache/results-smoke for smoke runs, else results',
    },
    jobs: { type: 'string', value: 'N', help: 'processes at once', default: 'one per core', group: LOCAL },
    pack: {
      type: 'boolean',
      help: 'train compatible cells (same model shape, batch, clip, plan) as packed runs of one fused-engine program, in this process',
      group: LOCAL,
    },
    'pack-runs': {
      type: 'string',
      value: 'N',
      help: 'with --pack: most runs per pack',
      default: 'what one GPU binding holds, at most 64; 4 on the CPU',
      group: LOCAL,
    },
    runner: {
      type: 'string',
      value: 'FILE',
      help: 'module exporting runJob(spec, ctx) instead of runTraining (tests, benchmarks)',
      group: LOCAL,
    },
    queue: { type: 'string', value: 'URL', help: 'Redis of the sweep', default: '$DMM_QUEUE', group: QUEUE },
    status: { type: 'boolean', help: 'done, running, failed, waiting, ETA', group: QUEUE },
    collect: { type: 'boolean', help: 'write finished records that are not yet in the results folder', group: QUEUE },
    json: { type: 'boolean', help: 'with --status: print JSON', group: QUEUE },
    attempts: {
      type: 'string',
      value: 'N',
      help: 'tries per run before it is marked failed',
      default: '3',
      group: QUEUE,
    },
    'backoff-ms': { type: 'string', value: 'MS', help: 'first retry delay, doubling', default: '60000', group: QUEUE },
    'retry-failed': { type: 'boolean', help: 'put failed runs back in the queue', group: QUEUE },
    source: {
      type: 'string',
      value: 'SRC',
      help: 'dataset source of every run: kit | d4rl',
      default: 'kit',
      group: QUEUE,
    },
    name: { type: 'string', value: 'NAME', help: 'queue name inside Redis', default: 'dmm-sweep', group: QUEUE },
  },
  examples: [
    'dmm sweep --grid grids/smoke-6.json',
    'dmm sweep --grid grids/main-table.json --jobs 2',
    'DMM_BACKEND=webgpu dmm sweep --grid grids/main-table.json --pack',
    'dmm sweep --grid grids/main-table.json --queue redis://:password@host:6379',
    'dmm sweep --status --queue redis://:password@host:6379',
  ],
} satisfies CommandSpec;

export type SweepFlags = FlagValues<typeof SWEEP_SPEC.flags>;

export async function sweepMain(argv: string[]): Promise<number> {
  const { help, flags: v } = parseCommand(SWEEP_SPEC, argv);
  if (help) {
    console.log(helpText(SWEEP_SPEC));
    return 0;
  }
  const queueMode = v.queue !== undefined || v.status || v.collect;
  const given = Object.keys(v) as (keyof typeof SWEEP_SPEC.flags)[];
  const wrong = given.find((k) => (SWEEP_SPEC.flags[k] as { group?: string }).group === (queueMode ? LOCAL : QUEUE));
  if (wrong !== undefined)
    throw commandError(
      'sweep',
      queueMode
        ? `--${wrong} is for local runs and cannot go with --queue, --status or --collect`
        : `--${wrong} is a job-queue option: it goes with --queue URL, --status or --collect`,
    );
  if (queueMode) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loads bullmq only when the queue is used
    const { sweepQueue } = require('./sweep-queue') as typeof import('./sweep-queue');
    return sweepQueue(v);
  }
  if (v.grid === undefined) throw commandError('sweep', '--grid must name a grid file, got none');
  const { grid, cells } = loadGrid(v.grid);
  const results = v.results ?? resultsDir(grid.scale);
  if (v.pack) {
    if (v.jobs !== undefined || v.runner !== undefined)
      throw commandError(
        'sweep',
        `--${v.jobs !== undefined ? 'jobs' : 'runner'} cannot go with --pack (one process trains every pack)`,
      );
    // Loaded only here: the engine and tfjs are not needed for the other modes' start-up.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a require, as for sweep-queue: tsx's CJS hook has no extensionless dynamic import
    const { runPackedSpecs } = require('../../train/packed-run') as typeof import('../../train/packed-run');
    const p = await runPackedSpecs(
      cells.map((c) => c.spec),
      { resultsDir: results, maxRuns: parseInteger('sweep', 'pack-runs', v['pack-runs']) },
    );
    console.log(
      `${v.grid}: ${cells.length} cells; ${p.trained} finished now, ${p.cached} already finished, ${p.failed} failed.`,
    );
    for (const o of p.outcomes.filter((x) => x.error)) console.log(`  failed ${specLabel(o.spec)}: ${o.error}`);
    return p.failed ? 1 : 0;
  }
  if (v['pack-runs'] !== undefined) throw commandError('sweep', '--pack-runs goes with --pack');
  const r = await runSpecs(
    cells.map((c) => c.spec),
    { resultsDir: results, jobs: parseInteger('sweep', 'jobs', v.jobs), runner: v.runner, progress: true },
  );
  console.log(
    `${v.grid}: ${cells.length} cells; ${r.trained} finished now, ${r.cached} already finished, ${r.failed} failed.`,
  );
  for (const o of r.outcomes.filter((x) => x.error)) console.log(`  failed ${specLabel(o.spec)}: ${o.error}`);
  return r.failed ? 1 : 0;
}

export const command: CliCommand = {
  name: 'sweep',
  summary: 'run a grid of runs (local processes, or a job queue with --queue)',
  run: sweepMain,
};
