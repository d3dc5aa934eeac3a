/**
 * Notebook 07 (DMM Figure 5): score against context length K for the four models on hopper-medium
 * (docs/spec.md §11 F5). The official-K points are the main table's runs.
 */
import { meanStd } from '../eval/protocols';
import type { Data } from '../figures';
import type { RunRecord } from '../results/record';
import { budgetFor } from '../config/budget';
import { runCells, type CellsReport } from './cells';
import { EXPERIMENTS, MODEL_LABELS, MODELS, contextCells, contextLengths, type Model } from './plan';
import {
  cellsLine,
  finished,
  fmt,
  markdownTable,
  paperNote,
  runsMeta,
  seedErrorBars,
  type NotebookResult,
} from './report';

export function scoreByK(
  records: readonly RunRecord[],
  model: Model,
  k: number,
): { best: number; bestStd: number; final: number; n: number } {
  const rs = records.filter(
    (r) => r.spec.model === model && Number(r.config.model.contextLength) === k && r.dataset.id === 'hopper-medium',
  );
  const best = meanStd(rs.map((r) => r.scores!.best_official));
  return {
    best: best.mean,
    bestStd: best.std,
    final: meanStd(rs.map((r) => r.scores!.final)).mean,
    n: rs.length,
  };
}

/** Notebook 07's runs: trains what the cache lacks, returns every cell's record. */
export function contextRuns(scale: string): Promise<CellsReport> {
  return runCells(contextCells(scale), { scale, workers: budgetFor(scale).workers });
}

/** Notebook 07's figure, table and finding: a pure function of the runs' records. */
export function contextFigures(cells: CellsReport, scale: string): NotebookResult {
  const records = finished(cells);
  const ks = [...new Set(records.map((r) => Number(r.config.model.contextLength)))].sort((a, b) => a - b);
  const data: Data[] = MODELS.map((m) => {
    const pts = ks.map((k) => ({ k, ...scoreByK(records, m, k) })).filter((p) => p.n > 0);
    return {
      type: 'scatter',
      mode: 'lines+markers',
      name: MODEL_LABELS[m],
      x: pts.map((p) => p.k),
      y: pts.map((p) => p.best),
      // Mean ± population std over seeds, once a point has more than one.
      error_y: seedErrorBars(pts.map((p) => ({ std: p.bestStd, n: p.n }))),
    } as Data;
  });
  const figure = {
    name: '07-context-length',
    notebook: '07-context-length',
    scale,
    ...runsMeta(records, scale),
    data,
    layout: {
      title: { text: 'Score against context length K (hopper-medium, best_official)' },
      xaxis: { title: { text: 'context length K (steps)' }, tickvals: ks },
      yaxis: { title: { text: 'normalised score' } },
    },
    caption: `Normalised score (best_official; mean ± population std over seeds where n > 1) against K; everything else at each model's official setting. Swept K: ${contextLengths(scale).join(', ')} plus each model's official K.`,
  };
  const table = markdownTable(
    ['K', ...MODELS.map((m) => MODEL_LABELS[m])],
    ks.map((k) => [
      k,
      ...MODELS.map((m) => {
        const s = scoreByK(records, m, k);
        return s.n ? `${fmt(s.best)} / ${fmt(s.final)}` : '–';
      }),
    ]),
  );
  const lines = MODELS.map((m) => {
    const pts = ks.map((k) => ({ k, ...scoreByK(records, m, k) })).filter((p) => p.n > 0);
    if (pts.length < 2) return undefined;
    const top = pts.reduce((a, b) => (b.best > a.best ? b : a));
    const spread = Math.max(...pts.map((p) => p.best)) - Math.min(...pts.map((p) => p.best));
    return `${MODEL_LABELS[m]} peaks at K=${top.k} (${fmt(top.best)}; spread ${fmt(spread)} points)`;
  }).filter(Boolean);
  const finding = lines.length
    ? `${lines.join('; ')}. With one seed per point at ${scale} scale, spreads of a few points are not evidence of a K effect. ${cellsLine(cells)}`
    : `Too few finished runs to compare K. ${cellsLine(cells)}`;
  return { figures: [figure], tables: ['Cells: best_official / final.\n\n' + table], finding, cells };
}

export function contextPaperNote(measured: readonly RunRecord[]): string {
  return paperNote(
    '07-context-length',
    contextCells('paper').filter((c) => c.experiment === EXPERIMENTS.context),
    measured,
    ['grids/03-main-results.json (the official-K points)'],
  );
}

export async function contextLength(scale: string): Promise<NotebookResult> {
  return contextFigures(await contextRuns(scale), scale);
}
