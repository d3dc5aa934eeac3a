/**
 * Notebook 09: Ota's Decision Mamba ablations on hopper-medium (docs/spec.md §11 DMa A1: no channel MLP; A2:
 * K ∈ {5, 10, 20, 30, 50}), with DT beside it. The defaults are the main table's runs.
 */
import type { RunRecord } from '../results/record';
import { EXPERIMENTS, dmambaCells } from './plan';
import { cellsLine, fmt, paperNote, seedsOf, type NotebookResult } from './report';
import type { CellsReport } from './cells';
import { runVariants, variantDeltas, variantStudy, variantTable } from './variants';

/** Notebook 09's runs: trains what the cache lacks, returns every variant's record. */
export function dmambaRuns(scale: string): Promise<CellsReport> {
  return runVariants(scale, dmambaCells(scale));
}

/** Notebook 09's figure, table and finding: a pure function of the runs' records. */
export function dmambaFigures(runs: CellsReport, scale: string): NotebookResult {
  const { cells, records, scores, figure } = variantStudy(scale, dmambaCells(scale), runs, {
    name: '09-decision-mamba',
    title: 'Decision Mamba ablations on hopper-medium',
    baseHeight: 140,
    caption: (records: RunRecord[]) =>
      `Decision Mamba at its default setting (D=${records.find((r) => r.spec.model === 'dmamba')?.config.model.hiddenSize ?? '?'} at this scale, K=20, channel MLP) and one change per bar; DT at K=20 and the same width.`,
  });
  const ref = scores.find((s) => s.label.startsWith('with MLP'));
  const noMlp = scores.find((s) => s.label === 'without MLP');
  const dt = scores.find((s) => s.group === 'baseline');
  const finding = ref?.best.n
    ? `Decision Mamba (default) scores ${fmt(ref.best.mean)}; differences: ${variantDeltas(scores, ref).join(', ')}. ` +
      (noMlp?.best.n
        ? noMlp.best.mean < ref.best.mean
          ? 'Removing the channel MLP lowers the score, as Ota reports (A1). '
          : "Removing the channel MLP does NOT lower the score here, unlike Ota's A1. "
        : '') +
      (dt?.best.n
        ? ref.best.mean > dt.best.mean
          ? 'Decision Mamba is ahead of DT here. '
          : 'Decision Mamba is NOT ahead of DT here, unlike the paper. '
        : '') +
      `${seedsOf(records).length} seed(s) at ${scale} scale: indicative only. ${cellsLine(cells)}`
    : `The default Decision Mamba run did not finish. ${cellsLine(cells)}`;
  return { figures: [figure], tables: [variantTable(scores)], finding, cells };
}

export function dmambaPaperNote(measured: readonly RunRecord[]): string {
  return paperNote(
    '09-decision-mamba',
    dmambaCells('paper')
      .map((p) => p.cell)
      .filter((c) => c.experiment === EXPERIMENTS.dmamba),
    measured,
    ['grids/03-main-results.json (defaults and DT)'],
  );
}

export async function decisionMamba(scale: string): Promise<NotebookResult> {
  return dmambaFigures(await dmambaRuns(scale), scale);
}
