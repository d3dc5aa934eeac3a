/**
 * What a child process runs for one spec. A runner module exports `runJob(spec, ctx)`; the default one
 * (./train-runner) calls `runTraining`. Tests and benchmarks pass their own module path, so the process
 * pool (./local.ts) and the queue worker (./worker.ts) are exercised with the same child processes
 * whatever the job does.
 */
import type { RunSpec } from '../config/run-spec';

export interface JobContext {
  /** The job id (= specHash of the spec). */
  jobId: string;
  /** 1 for the first try, 2 for the first retry, ... (stalled restarts included). */
  attempt: number;
  /** Where this machine keeps its records. */
  resultsDir: string;
  /** Root of the checkpoint folders (`checkpointDir(spec, root)`): the queue's shared `--artifacts`; default resultsDir. */
  checkpointRoot?: string;
  /** Resume from the latest checkpoint when one exists (default true). */
  resume?: boolean;
  /** Report progress (fraction in [0, 1]); forwarded to the pool's bar or the queue's job progress. */
  onProgress(fraction: number, info?: string): void;
}

/** Runs one spec to completion and returns its record (JSON-able). Throwing fails this attempt. */
export type JobRunner = (spec: RunSpec, ctx: JobContext) => Promise<unknown>;

/** What one spec of a pack came to: its record, or the error that stopped it. */
export interface PackOutcome {
  record?: unknown;
  error?: string;
}

/**
 * A runner module: `export async function runJob(spec, ctx)`; for `dmm worker --pack`, also `packKey(spec)`
 * (specs with equal keys may train together; null: alone) and `runPackJob(specs, ctx)`, which trains them
 * together and returns one outcome per spec, in order.
 */
export interface RunnerModule {
  runJob: JobRunner;
  packKey?: (spec: RunSpec) => string | null;
  runPackJob?: (specs: RunSpec[], ctx: JobContext) => Promise<PackOutcome[]>;
}
