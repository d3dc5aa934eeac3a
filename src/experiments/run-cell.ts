/**
 * One notebook training cell, run in a sweep child process (src/sweep/child.ts loads this file as its
 * runner): `runTraining` without resuming, quietly. The quick budget's evaluation cut travels in the spec
 * (`RunSpec.eval`, budget.ts), so it is part of the cell's hash and of its record.
 */
import type { RunRecord } from '../results/record';
import type { RunSpec } from '../sweep/spec';
import type { JobContext } from '../sweep/runner';
import { runTraining } from '../train/run';

export async function runCell(spec: RunSpec, opts: { resultsDir: string; checkpointDir: string }): Promise<RunRecord> {
  return runTraining(spec, {
    resultsDir: opts.resultsDir,
    checkpointDir: opts.checkpointDir,
    silent: true,
    resume: false,
  });
}

/** The sweep child's runner entry point. */
export async function runJob(spec: RunSpec, ctx: JobContext): Promise<unknown> {
  return runCell(spec, {
    resultsDir: ctx.resultsDir,
    checkpointDir: ctx.checkpointDir ?? `${ctx.resultsDir}/.checkpoints/${ctx.jobId}`,
  });
}
