/**
 * Training runs for the notebooks: the kit's process pool (src/sweep/local.ts) with the results cache in
 * front, so a second notebook run only re-plots, and a run defined by one notebook serves every other
 * notebook that names the same spec.
 */
import * as path from 'path';
import type { RunSpec } from '../config/run-spec';
import { kitRoot } from '../figures/paths';
import { runSpecs, type RunOutcome, type RunSpecsReport } from '../sweep/local';

export type CellOutcome = RunOutcome;
export type CellsReport = RunSpecsReport;

/**
 * Where records go: DMM_RESULTS_DIR when set; at smoke scale `.cache/results-smoke` (so CI never writes
 * the committed results/); else `<kit>/results`.
 */
export function resultsDir(scale: string): string {
  const env = process.env.DMM_RESULTS_DIR;
  if (env) return path.resolve(kitRoot(), env);
  return scale === 'smoke' ? path.join(kitRoot(), '.cache', 'results-smoke') : path.join(kitRoot(), 'results');
}

/** Runs every cell without a finished record, `workers` at a time; see runSpecs. */
export function runCells(
  specs: readonly RunSpec[],
  opts: { workers?: number; scale: string; log?: (line: string) => void; resultsDir?: string },
): Promise<CellsReport> {
  return runSpecs(specs, {
    resultsDir: opts.resultsDir ?? resultsDir(opts.scale),
    jobs: opts.workers ?? 2,
    log: opts.log,
  });
}
