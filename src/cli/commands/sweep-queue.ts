/**
 * The queue side of `dmm sweep` (its options are in ./sweep.ts, one table for both modes):
 *   dmm sweep --grid FILE --queue URL    enqueue every cell without a finished local record
 *   dmm sweep --status [--queue URL]     done, running, failed, waiting, ETA
 *   dmm sweep --collect [--queue URL]    write finished records that are not yet in results/
 */
import type { DataSource } from '../../config/names';
import { enqueueGrid, formatDuration, sweepCollect, sweepStatus, type SweepStatus } from '../../sweep/queue';
import { commandError, parseInteger } from '../args';
import type { SweepFlags } from './sweep';

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

/** `dmm sweep --queue|--status|--collect ...` with its parsed options: resolves with the exit code. */
export async function sweepQueue(v: SweepFlags): Promise<number> {
  const target = { queue: v.queue, name: v.name };
  if (v.grid !== undefined) {
    if (v.status || v.collect)
      throw commandError(
        'sweep',
        '--grid enqueues; run --status or --collect as a separate command, got them together',
      );
    const r = await enqueueGrid(v.grid, {
      ...target,
      resultsDir: v.results,
      attempts: parseInteger('sweep', 'attempts', v.attempts, 1),
      backoffMs: parseInteger('sweep', 'backoff-ms', v['backoff-ms'], 0),
      retryFailed: v['retry-failed'] ?? false,
      source: v.source as DataSource | undefined,
    });
    const present =
      Object.entries(r.present)
        .map(([k, n]) => `${n} ${k}`)
        .join(', ') || 'none';
    console.log(
      `${v.grid}: ${r.cells} cells; ${r.local} already in ${v.results ?? 'the results folder'}; added ${r.added}; already queued: ${present}` +
        (r.restamped ? `; ${r.restamped} re-stamped with this commit` : '') +
        (r.retried ? `; ${r.retried} failed put back` : ''),
    );
    return 0;
  }
  if (!v.status && !v.collect)
    throw commandError('sweep', 'the queue needs --grid FILE (enqueue), --status or --collect, got none of them');
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
}
