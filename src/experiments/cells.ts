/**
 * Training runs for the notebooks: the kit's process pool (src/sweep/local.ts) with the results cache in
 * front, so a second notebook run only re-plots, and a run defined by one notebook serves every other
 * notebook that names the same spec.
 */
import { resultsDir, type RunSpec } from '../config/run-spec';
import { runSpecs, type RunOutcome, type RunSpecsReport } from '../sweep/local';

export type CellOutcome = RunOutcome;
export type CellsReport = RunSpecsReport;
/**
 * Runs every cell without a finished record, `workers` at a time; see runSpecs. With DMM_PLOT_ONLY=1 (set by
 * `npm run reproduce -- --scale paper --reuse`: a paper-scale run takes hours on a CPU) it only reads, and a cell
 * without a record stays missing: its notebook lists it.
 */
export function runCells(
  specs: readonly RunSpec[],
  opts: { workers?: number; scale: string; log?: (line: string) => void; resultsDir?: string },
): Promise<CellsReport> {
  return runSpecs(specs, {
    resultsDir: opts.resultsDir ?? resultsDir(opts.scale),
    jobs: opts.workers ?? 2,
    log: opts.log,
    train: process.env.DMM_PLOT_ONLY !== '1',
  });
}
