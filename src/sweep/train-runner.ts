/**
 * The default job runner: one training run through `runTraining` (src/train/run.ts), or a pack of them
 * through `runPackedSpecs` (src/train/packed-run.ts), quietly, their
 * checkpoints under the job's checkpoint root (the queue's shared `--artifacts`, so a retried job resumes
 * there; else the results folder).
 */
import { resolveRun } from '../config/resolve';
import type { RunSpec } from '../config/run-spec';
import { packShapeKey } from '../train/pack-key';
import type { JobContext, PackOutcome } from './runner';

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

/** Specs with equal keys can share one packed engine program (a spec the engine lacks is split off later). */
export function packKey(spec: RunSpec): string | null {
  return packShapeKey(resolveRun(spec));
}

/** Several specs through runPackedSpecs: packed by shape, each outcome its spec's record or error. */
export async function runPackJob(specs: RunSpec[], ctx: JobContext): Promise<PackOutcome[]> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { runPackedSpecs } = require('../train/packed-run') as typeof import('../train/packed-run');
  const report = await runPackedSpecs(specs, {
    resultsDir: ctx.resultsDir,
    checkpointRoot: ctx.checkpointRoot,
    resume: ctx.resume,
    onProgress: ctx.onProgress,
    silent: true,
    log: () => undefined,
  });
  return report.outcomes.map((o) => ({ record: o.record, error: o.error }));
}
