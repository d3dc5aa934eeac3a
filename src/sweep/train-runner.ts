/**
 * The default job runner: one training run through `runTraining` (src/train/run.ts), quietly, its
 * checkpoints under the job's checkpoint root (the queue's shared `--artifacts`, so a retried job resumes
 * there; else the results folder).
 */
import type { RunSpec } from '../config/run-spec';
import type { JobContext } from './runner';

export async function runJob(spec: RunSpec, ctx: JobContext): Promise<unknown> {
  // Loaded here, in the child process, so the pool's and the worker's processes never load tfjs.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { runTraining } = require('../train/run') as typeof import('../train/run');
  return runTraining(spec, {
    resultsDir: ctx.resultsDir,
    checkpointRoot: ctx.checkpointRoot,
    resume: ctx.resume,
    onProgress: ctx.onProgress,
    silent: true,
  });
}
