/**
 * Notebook 08: DMM ablations on hopper-medium (docs/spec.md §11 A-mixer, A-window, A-position, A-mamba, and the
 * kit's LN-sharing, DSM-mode and evaluation-padding variants). The default DMM is the main table's run.
 */
import type { RunRecord } from '../results/record';
import { EXPERIMENTS, dmmAblationCells } from './plan';
import { cellsLine, fmt, paperNote, seedsOf, type NotebookResult } from './report';
import type { CellsReport } from './cells';
import { runVariants, variantDeltas, variantStudy, variantTable } from './variants';

/** Notebook 08's runs: trains what the cache lacks, returns every variant's record. */
export function dmmAblationRuns(scale: string): Promise<CellsReport> {
  return runVariants(scale, dmmAblationCells(scale));
}

/** Notebook 08's figure, table and finding: a pure function of the runs' records. */
export function dmmAblationFigures(runs: CellsReport, scale: string): NotebookResult {
  const { cells, records, scores, figure } = variantStudy(scale, dmmAblationCells(scale), runs, {
    name: '08-dmm-ablations',
    title: 'DMM ablations on hopper-medium',
    baseHeight: 120,
    caption: () =>
      `One change of DMM per bar (default: DSM k=6, per-layer DSM, shared LN, Mamba-1 without conv or timestep embedding, official padding).`,
  });
  const ref = scores.find((s) => s.label === 'DSM (default)');
  const deltas = variantDeltas(scores, ref);
  const noMixer = scores.find((s) => s.label === 'none');
  const finding = ref?.best.n
    ? `Default DMM scores ${fmt(ref.best.mean)} (best_official). Differences of each variant from it: ${deltas.join(', ')}. ` +
      (noMixer?.best.n
        ? noMixer.best.mean < ref.best.mean
          ? 'Removing the local mixer lowers the score here, the direction the DMM paper reports. '
          : 'Removing the local mixer does NOT lower the score here, unlike the DMM paper. '
        : '') +
      `With ${seedsOf(records).length} seed(s) at ${scale} scale these differences are indicative only. ${cellsLine(cells)}`
    : `The default DMM run did not finish, so no differences can be computed. ${cellsLine(cells)}`;
  return { figures: [figure], tables: [variantTable(scores)], finding, cells };
}

export function dmmAblationPaperNote(measured: readonly RunRecord[]): string {
  return paperNote(
    '08-dmm-ablations',
    dmmAblationCells('paper')
      .map((p) => p.cell)
      .filter((c) => c.experiment === EXPERIMENTS.dmmAblations),
    measured,
    ['grids/03-main-results.json (the default DMM)'],
  );
}

export async function dmmAblations(scale: string): Promise<NotebookResult> {
  return dmmAblationFigures(await dmmAblationRuns(scale), scale);
}
