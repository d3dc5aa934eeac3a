/**
 * One notebook training cell, run in a sweep child process (src/sweep/child.ts loads this file as its
 * runner): `runTraining`, with the evaluation cut at `quick` scale (fewer episodes, primary RTG target only;
 * budget.ts). The cut is not in the spec hash, so quick notebook records share hashes with CLI quick runs of
 * the same spec (they live under their own experiment names).
 */
import { type EvalConfig } from '../eval/rollout';
import { primaryTarget } from '../eval/targets';
import type { RunRecord } from '../results/record';
import type { RunSpec } from '../sweep/spec';
import type { JobContext } from '../sweep/runner';
import { runTraining } from '../train/run';
import { budgetFor } from './budget';

/** The evaluation a cell of this scale runs (the run scale's own, cut at quick scale). */
export function cellEvalConfig(spec: RunSpec, base: EvalConfig): EvalConfig {
  const cut = budgetFor(spec.scale).eval;
  if (!cut) return base;
  return {
    ...base,
    targets: cut.primaryOnly ? [primaryTarget(spec.env)] : base.targets,
    episodesPerTarget: cut.episodesPerTarget,
    maxEpisodeSteps: cut.maxEpisodeSteps ?? base.maxEpisodeSteps,
  };
}

export async function runCell(spec: RunSpec, opts: { resultsDir: string; checkpointDir: string }): Promise<RunRecord> {
  return runTraining(spec, {
    resultsDir: opts.resultsDir,
    checkpointDir: opts.checkpointDir,
    silent: true,
    resume: false,
    adjustEval: budgetFor(spec.scale).eval ? (base) => cellEvalConfig(spec, base) : undefined,
  });
}

/** The sweep child's runner entry point. */
export async function runJob(spec: RunSpec, ctx: JobContext): Promise<unknown> {
  return runCell(spec, {
    resultsDir: ctx.resultsDir,
    checkpointDir: ctx.checkpointDir ?? `${ctx.resultsDir}/.checkpoints/${ctx.jobId}`,
  });
}
