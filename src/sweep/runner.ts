/**
 * What a worker runs for one job. A runner module exports `runJob(spec, ctx)`; the default one
 * (./train-runner) calls `runTraining`. Tests and benchmarks pass their own module path, so the queue
 * machinery is exercised with the same child processes whatever the job does.
 */
import type { RunSpec } from './spec';

export interface JobContext {
  /** The job id (= specHash of the spec). */
  jobId: string;
  /** 1 for the first try, 2 for the first retry, ... (stalled restarts included). */
  attempt: number;
  /** Where the worker machine keeps its own copy of records. */
  resultsDir: string;
  /** This run's checkpoint folder on shared storage (`--artifacts DIR`); resume from it when it holds one. */
  checkpointDir?: string;
  /** Options the submitter chose for every run of the sweep (e.g. `source: 'd4rl'`), passed to runTraining. */
  runOptions?: Record<string, unknown>;
  /** Report progress (fraction in [0, 1]); forwarded to the queue as job progress. */
  onProgress(fraction: number, info?: string): void;
}

/** Runs one spec to completion and returns its record (JSON-able). Throwing fails this attempt. */
export type JobRunner = (spec: RunSpec, ctx: JobContext) => Promise<unknown>;

/** A runner module: `export async function runJob(spec, ctx)`. */
export interface RunnerModule {
  runJob: JobRunner;
}
