/**
 * The default job runner: one training run through `runTraining` (src/train/run.ts), with checkpoints
 * in the job's shared folder when the worker has `--artifacts`, so a retried job resumes there.
 */
import type { JobContext } from './runner';
import type { RunSpec } from './spec';

type RunTraining = (spec: RunSpec, opts: Record<string, unknown>) => Promise<unknown>;

export async function runJob(spec: RunSpec, ctx: JobContext): Promise<unknown> {
  // Loaded here, in the child process, so the worker process never loads tfjs.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { runTraining } = require('../train/run') as { runTraining: RunTraining };
  // runTraining resumes from the latest checkpoint in its folder: the shared one with --artifacts, else
  // this machine's (so a retry resumes only where the checkpoint was made, and restarts elsewhere).
  return runTraining(spec, {
    ...ctx.runOptions,
    resultsDir: ctx.resultsDir,
    checkpointDir: ctx.checkpointDir,
    onProgress: ctx.onProgress,
    silent: true,
  });
}
