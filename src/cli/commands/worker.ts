/**
 * `dmm worker --queue redis://host:6379 [--concurrency N] [--artifacts DIR] [--allow-version-mismatch]`
 * Takes sweep jobs from the queue until stopped (Ctrl-C: running jobs go back to the queue).
 */
import { runWorker } from '../../sweep/worker';
import { asCommand, parseInteger, parseOptions } from './sweep-args';

export const WORKER_USAGE = `Usage: dmm worker --queue redis://host:6379 [--concurrency N] [--artifacts DIR] [--allow-version-mismatch]
  --queue URL                Redis of the sweep (default: $DMM_QUEUE)
  --concurrency N            runs at once on this machine (default: one per core)
  --artifacts DIR            shared folder for checkpoints: a retried run resumes from there
  --results DIR              this machine's copy of the records (default: results)
  --allow-version-mismatch   run jobs submitted from another git commit
  --name NAME                queue name inside Redis (default: dmm-sweep)
  --runner FILE              module exporting runJob(spec, ctx) (default: runTraining)
  --lock-ms MS, --stalled-ms MS   how fast a dead worker's job is taken back (default 30000, 15000)`;

/** `dmm worker ...`: resolves with the exit code once the worker stops (SIGINT/SIGTERM, or a refused job). */
export function workerCommand(argv: string[]): Promise<number> {
  return asCommand(async () => {
    const cmd = 'dmm worker';
    const v = parseOptions(cmd, argv, {
      queue: { type: 'string' },
      concurrency: { type: 'string' },
      artifacts: { type: 'string' },
      results: { type: 'string' },
      'allow-version-mismatch': { type: 'boolean' },
      name: { type: 'string' },
      runner: { type: 'string' },
      'lock-ms': { type: 'string' },
      'stalled-ms': { type: 'string' },
      help: { type: 'boolean' },
    });
    if (v.help) {
      console.log(WORKER_USAGE);
      return 0;
    }
    const handle = await runWorker({
      queue: v.queue,
      name: v.name,
      concurrency: parseInteger(cmd, 'concurrency', v.concurrency, 1),
      artifacts: v.artifacts,
      resultsDir: v.results,
      allowVersionMismatch: v['allow-version-mismatch'] ?? false,
      runner: v.runner,
      lockDurationMs: parseInteger(cmd, 'lock-ms', v['lock-ms'], 1),
      stalledIntervalMs: parseInteger(cmd, 'stalled-ms', v['stalled-ms'], 1),
    });
    const stop = (): void => void handle.close();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    return handle.stopped;
  });
}

if (require.main === module) void workerCommand(process.argv.slice(2)).then((code) => process.exit(code));
