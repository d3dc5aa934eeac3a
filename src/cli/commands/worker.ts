/**
 * `dmm worker --queue redis://host:6379`: takes sweep jobs from the queue until stopped (Ctrl-C: running
 * jobs go back to the queue).
 */
import { runWorker } from '../../sweep/worker';
import { helpText, parseCommand, parseInteger, type CommandSpec } from '../args';
import type { CliCommand } from '../command';

export const WORKER_SPEC = {
  name: 'worker',
  summary:
    'Takes sweep jobs from a Redis job queue (filled by dmm sweep --queue) and runs them, each in its own process, until stopped. Ctrl-C puts running jobs back in the queue.',
  usage:
    'dmm worker --queue redis://host:6379 [--concurrency N] [--pack N] [--artifacts DIR] [--allow-version-mismatch]',
  flags: {
    queue: { type: 'string', value: 'URL', help: 'Redis of the sweep', default: '$DMM_QUEUE' },
    concurrency: {
      type: 'string',
      value: 'N',
      help: 'runs (or packs, with --pack) at once on this machine',
      default: 'one per core; 1 with --pack',
    },
    pack: {
      type: 'string',
      value: 'N',
      help: 'take up to N compatible jobs at once and train them as packed runs in one engine program (a GPU machine)',
      default: '1 (each job alone)',
    },
    artifacts: {
      type: 'string',
      value: 'DIR',
      help: 'shared folder for checkpoints: a retried run resumes from there',
    },
    results: {
      type: 'string',
      value: 'DIR',
      help: "this machine's copy of the records",
      default: '$DMM_RESULTS_DIR, else .cache/results-smoke for smoke jobs, else results',
    },
    'allow-version-mismatch': { type: 'boolean', help: 'run jobs submitted from another git commit' },
    name: { type: 'string', value: 'NAME', help: 'queue name inside Redis', default: 'dmm-sweep' },
    runner: { type: 'string', value: 'FILE', help: 'module exporting runJob(spec, ctx)', default: 'runTraining' },
    'lock-ms': {
      type: 'string',
      value: 'MS',
      help: "how long a job's lock lives: a dead worker's job is taken back after about this long",
      default: '30000',
    },
    'stalled-ms': {
      type: 'string',
      value: 'MS',
      help: 'how often this worker looks for the jobs of dead workers',
      default: '15000',
    },
  },
  examples: [
    'dmm worker --queue $Q --concurrency 2 --artifacts /mnt/shared/dmm-artifacts',
    'dmm worker --queue $Q --pack 64 --artifacts /mnt/shared/dmm-artifacts   # a GPU machine',
  ],
} satisfies CommandSpec;

/** `dmm worker ...`: resolves with the exit code once the worker stops (SIGINT/SIGTERM, or a refused job). */
export async function workerMain(argv: string[]): Promise<number> {
  const { help, flags: v } = parseCommand(WORKER_SPEC, argv);
  if (help) {
    console.log(helpText(WORKER_SPEC));
    return 0;
  }
  const handle = await runWorker({
    queue: v.queue,
    name: v.name,
    concurrency: parseInteger('worker', 'concurrency', v.concurrency, 1),
    pack: parseInteger('worker', 'pack', v.pack, 1),
    artifacts: v.artifacts,
    resultsDir: v.results,
    allowVersionMismatch: v['allow-version-mismatch'] ?? false,
    runner: v.runner,
    lockDurationMs: parseInteger('worker', 'lock-ms', v['lock-ms'], 1),
    stalledIntervalMs: parseInteger('worker', 'stalled-ms', v['stalled-ms'], 1),
  });
  const stop = (): void => void handle.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return handle.stopped;
}

export const command: CliCommand = {
  name: 'worker',
  summary: 'take sweep jobs from a Redis queue',
  run: workerMain,
};
