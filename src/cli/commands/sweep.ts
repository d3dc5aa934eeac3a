/**
 * `dmm sweep --grid FILE`: every cell of a grid (src/sweep/grid.ts format) on local worker processes.
 * With --queue, --status or --collect it is the job-queue sweep of ./sweep-queue.ts (issue 9).
 */
import { specLabel } from '../../config/run-spec';
import { loadGrid } from '../../sweep/grid';
import { runSpecs } from '../../sweep/local';
import { check } from '../../util/check';
import { helpText, parseFlags, parsePositiveInt, type CommandSpec } from '../args';
import type { CliCommand } from '../command';

export const SWEEP_SPEC: CommandSpec = {
  name: 'sweep',
  summary:
    'Runs every cell of a grid file on local worker processes, one per core. Cells with a finished record are skipped, so rerunning resumes; a failed cell is recorded as failed with its error and the rest go on. For many machines add --queue (see dmm sweep --queue --help).',
  usage:
    'dmm sweep --grid FILE [--jobs N] [--results DIR]   |   dmm sweep --grid FILE --queue redis://host:6379   |   dmm sweep --status | --collect',
  flags: {
    grid: { type: 'string', value: 'FILE', help: 'grid JSON (grids/*.json)' },
    jobs: { type: 'string', value: 'N', help: 'processes at once', default: 'one per core' },
    results: { type: 'string', value: 'DIR', help: 'results folder', default: 'results' },
    runner: {
      type: 'string',
      value: 'FILE',
      help: 'module exporting runJob(spec, ctx) instead of runTraining (tests, benchmarks)',
    },
    queue: { type: 'string', value: 'URL', help: 'enqueue on a Redis job queue instead' },
    status: { type: 'boolean', help: 'queue status' },
    collect: { type: 'boolean', help: 'pull finished records from the queue' },
  },
  examples: ['dmm sweep --grid grids/smoke-6.json', 'dmm sweep --grid grids/main-table.json --jobs 2'],
};

export async function sweepMain(argv: string[]): Promise<number> {
  const queueMode = argv.some(
    (a) => a === '--queue' || a.startsWith('--queue=') || a === '--status' || a === '--collect',
  );
  if (queueMode) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loads bullmq only when the queue is used
    const { sweepQueueCommand } = require('./sweep-queue') as { sweepQueueCommand(argv: string[]): Promise<number> };
    return sweepQueueCommand(argv);
  }
  const v = parseFlags(SWEEP_SPEC, argv);
  if (v.help) {
    console.log(helpText(SWEEP_SPEC));
    return 0;
  }
  check(
    typeof v.grid === 'string',
    () => 'Error in dmm sweep: --grid must name a grid file, got none. See dmm sweep --help.',
  );
  const { cells } = loadGrid(v.grid as string);
  const r = await runSpecs(
    cells.map((c) => c.spec),
    {
      resultsDir: v.results as string | undefined,
      jobs: parsePositiveInt('sweep', 'jobs', v.jobs as string | undefined),
      runner: v.runner as string | undefined,
      progress: true,
    },
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
