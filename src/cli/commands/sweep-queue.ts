/**
 * The queue side of `dmm sweep` (issue 9):
 *   dmm sweep --grid FILE --queue URL    enqueue every cell without a finished local record
 *   dmm sweep --status [--queue URL]     done, running, failed, waiting, ETA
 *   dmm sweep --collect [--queue URL]    write finished records that are not yet in results/
 * Without --queue/--status/--collect, `dmm sweep` runs locally (src/cli/main.ts).
 */
import type { DataSource } from '../../config/names';
import { check } from '../../util/check';
import { enqueueGrid, formatDuration, sweepCollect, sweepStatus, type SweepStatus } from '../../sweep/queue';
import { asCommand, parseInteger, parseOptions } from './sweep-args';

export const SWEEP_QUEUE_USAGE = `Usage: dmm sweep --grid FILE --queue redis://host:6379   (enqueue)
       dmm sweep --status  [--queue URL] [--json]
       dmm sweep --collect [--queue URL] [--results DIR]
  --attempts N        tries per run before it is marked failed (default 3)
  --backoff-ms MS     first retry delay, doubling (default 60000)
  --retry-failed      put failed runs back in the queue
  --source kit|d4rl   dataset source for every run (default: kit)
  --results DIR       this machine's results folder (default: results)
  --name NAME         queue name inside Redis (default: dmm-sweep)`;

export function printStatus(s: SweepStatus, out: (line: string) => void = console.log): void {
  out(
    `done ${s.done}, running ${s.running}, failed ${s.failed}, waiting ${s.waiting}; workers ${s.workers}; ETA ${formatDuration(s.etaSeconds)}`,
  );
  for (const r of s.runningJobs)
    out(
      `  running  ${r.label}  ${r.progress === undefined ? '' : `${Math.round(r.progress * 100)}%`}${r.info ? `  ${r.info}` : ''}`,
    );
  for (const r of s.failedJobs)
    out(`  failed   ${r.label}  after ${r.attemptsMade} attempt(s): ${r.error ?? 'unknown error'}`);
}

/** `dmm sweep --queue|--status|--collect ...`: resolves with the exit code. */
export function sweepQueueCommand(argv: string[]): Promise<number> {
  return asCommand(async () => {
    const cmd = 'dmm sweep';
    const v = parseOptions(cmd, argv, {
      grid: { type: 'string' },
      queue: { type: 'string' },
      status: { type: 'boolean' },
      collect: { type: 'boolean' },
      results: { type: 'string' },
      attempts: { type: 'string' },
      'backoff-ms': { type: 'string' },
      'retry-failed': { type: 'boolean' },
      source: { type: 'string' },
      name: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
    });
    if (v.help) {
      console.log(SWEEP_QUEUE_USAGE);
      return 0;
    }
    const target = { queue: v.queue, name: v.name };
    if (v.grid !== undefined) {
      check(
        !v.status && !v.collect,
        () => `Error in ${cmd}: --grid enqueues; run --status or --collect as a separate command, got them together.`,
      );
      const r = await enqueueGrid(v.grid, {
        ...target,
        resultsDir: v.results,
        attempts: parseInteger(cmd, 'attempts', v.attempts, 1),
        backoffMs: parseInteger(cmd, 'backoff-ms', v['backoff-ms'], 0),
        retryFailed: v['retry-failed'] ?? false,
        source: v.source as DataSource | undefined,
      });
      const present =
        Object.entries(r.present)
          .map(([k, n]) => `${n} ${k}`)
          .join(', ') || 'none';
      console.log(
        `${v.grid}: ${r.cells} cells; ${r.local} already in ${v.results ?? 'results'}/; added ${r.added}; already queued: ${present}` +
          (r.restamped ? `; ${r.restamped} re-stamped with this commit` : '') +
          (r.retried ? `; ${r.retried} failed put back` : ''),
      );
      return 0;
    }
    check(
      v.status || v.collect,
      () =>
        `Error in ${cmd}: the queue needs --grid FILE (enqueue), --status or --collect, got none of them. See dmm sweep --help.`,
    );
    if (v.collect) {
      const r = await sweepCollect({ ...target, resultsDir: v.results });
      console.log(`collected ${r.written.length} new record(s); ${r.alreadyLocal} already local`);
      for (const f of r.written) console.log(`  ${f}`);
      for (const line of r.refused) console.error(line);
    }
    if (v.status) {
      const s = await sweepStatus(target);
      if (v.json) console.log(JSON.stringify(s, null, 2));
      else printStatus(s);
    }
    return 0;
  });
}

if (require.main === module) void sweepQueueCommand(process.argv.slice(2)).then((code) => process.exit(code));
