/**
 * Notebook 04 (DMM Figure 1): parameter count (log x) against normalised score for each model at several
 * widths D on `medium` (docs/spec.md §11 F1). The official-width points are the main table's runs.
 */
import { meanStd } from '../eval/protocols';
import type { Data } from '../figures';
import { paddedRange, placeLabels } from '../figures/labels';
import type { RunRecord } from '../results/record';
import { budgetFor } from '../config/budget';
import { runCells, type CellsReport } from './cells';
import { EXPERIMENTS, MODEL_LABELS, MODELS, sizeCells, type Model } from './plan';
import {
  cellsLine,
  finished,
  fmt,
  markdownTable,
  paperNote,
  PLOTLY_COLOURS,
  runsMeta,
  type NotebookResult,
} from './report';

export interface SizePoint {
  model: Model;
  width: number;
  parameters: number;
  best: number;
  final: number;
  seeds: number;
}

export function sizePoints(records: readonly RunRecord[]): SizePoint[] {
  const groups = new Map<string, RunRecord[]>();
  for (const r of records) {
    const key = `${r.spec.model}|${r.config.model.hiddenSize}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const out: SizePoint[] = [];
  for (const rs of groups.values()) {
    out.push({
      model: rs[0].spec.model as Model,
      width: Number(rs[0].config.model.hiddenSize),
      parameters: rs[0].parameterCount ?? NaN,
      best: meanStd(rs.map((r) => r.scores!.best_official)).mean,
      final: meanStd(rs.map((r) => r.scores!.final)).mean,
      seeds: rs.length,
    });
  }
  return out.sort((a, b) => a.model.localeCompare(b.model) || a.width - b.width);
}

/** Notebook 04's runs: trains what the cache lacks, returns every cell's record. */
export function sizeRuns(scale: string): Promise<CellsReport> {
  return runCells(sizeCells(scale), { scale, workers: budgetFor(scale).workers });
}

/** Notebook 04's figure, table and finding: a pure function of the runs' records. */
export function sizeFigures(cells: CellsReport, scale: string): NotebookResult {
  const records = finished(cells);
  const pts = sizePoints(records);
  // Labels (D=16, D=32) placed so that close points of different models do not print over each other:
  // the axis ranges and margins are fixed, so the pixel positions placeLabels assumes are the drawn ones.
  const size = { width: 760, height: 460, margin: { l: 70, r: 20, t: 100, b: 60 } };
  const xRange = paddedRange(
    pts.map((p) => p.parameters),
    true,
  );
  const yRange = paddedRange(
    pts.map((p) => p.best),
    false,
    0.15,
  );
  const byModel = MODELS.map((m) => pts.filter((x) => x.model === m));
  const positions = placeLabels(
    byModel.flat().map((p) => ({ x: p.parameters, y: p.best, text: `D=${p.width}` })),
    {
      width: size.width - size.margin.l - size.margin.r,
      height: size.height - size.margin.t - size.margin.b,
      xRange,
      yRange,
      xLog: true,
    },
  );
  let next = 0;
  const data: Data[] = MODELS.map((m, i) => {
    const p = byModel[i];
    return {
      type: 'scatter',
      mode: 'lines+markers+text',
      name: MODEL_LABELS[m],
      x: p.map((x) => x.parameters),
      y: p.map((x) => x.best),
      text: p.map((x) => `D=${x.width}`),
      textposition: p.map(() => positions[next++]),
      // Each label in its line's colour (Plotly's default colourway), so a label says whose point it is.
      textfont: { color: PLOTLY_COLOURS[i % PLOTLY_COLOURS.length] },
    } as Data;
  });
  const figure = {
    name: '04-size-vs-score',
    notebook: '04-size-vs-score',
    scale,
    ...runsMeta(records, scale),
    data,
    width: size.width,
    height: size.height,
    layout: {
      title: { text: 'Parameters against normalised score (best_official)' },
      margin: size.margin,
      legend: { orientation: 'h' as const, x: 0, y: 1.02, yanchor: 'bottom' as const },
      xaxis: { type: 'log' as const, range: xRange, title: { text: 'trainable parameters (log scale)' } },
      yaxis: { range: yRange, title: { text: 'normalised score' } },
    },
    caption: `Each point is one model at one width D, trained on ${[...new Set(records.map((r) => r.dataset.id))].join(', ') || 'medium'}; parameter counts are read from the instantiated models.`,
  };
  const table = markdownTable(
    ['model', 'D', 'parameters', 'best_official', 'final', 'seeds'],
    pts.map((p) => [
      MODEL_LABELS[p.model],
      p.width,
      p.parameters.toLocaleString('en-US'),
      fmt(p.best),
      fmt(p.final),
      p.seeds,
    ]),
  );
  // Finding: at the smallest parameter count where a model reaches its best, and whether DMM's smallest point beats the others' best.
  const best = MODELS.map((m) => {
    const p = pts.filter((x) => x.model === m);
    const top = p.reduce<SizePoint | undefined>((a, b) => (!a || b.best > a.best ? b : a), undefined);
    return { m, top };
  }).filter((x) => x.top);
  let finding = `No run finished. ${cellsLine(cells)}`;
  if (best.length) {
    const dmm = pts.filter((p) => p.model === 'dmm');
    const others = pts.filter((p) => p.model !== 'dmm');
    const dmmSmall = dmm.length ? dmm.reduce((a, b) => (b.parameters < a.parameters ? b : a)) : undefined;
    const biggerBetter = dmmSmall
      ? others.filter((o) => o.parameters > dmmSmall.parameters && o.best > dmmSmall.best)
      : [];
    finding =
      `Best point per model: ${best.map((x) => `${MODEL_LABELS[x.m]} ${fmt(x.top!.best)} at ${x.top!.parameters.toLocaleString('en-US')} parameters (D=${x.top!.width})`).join('; ')}. ` +
      (dmmSmall
        ? biggerBetter.length === 0
          ? `DMM's smallest model (${dmmSmall.parameters.toLocaleString('en-US')} parameters, ${fmt(dmmSmall.best)}) is not beaten by any larger baseline here, in line with Figure 1's claim. `
          : `DMM's smallest model (${dmmSmall.parameters.toLocaleString('en-US')} parameters, ${fmt(dmmSmall.best)}) is beaten by ${biggerBetter.length} larger baseline point(s), so at this scale the kit does not reproduce Figure 1's claim in full. `
        : '') +
      `Single seed per point at ${scale} scale: differences of a few points are within noise. ${cellsLine(cells)}`;
  }
  return { figures: [figure], tables: [table], finding, cells, numbers: { points: pts } };
}

export function sizePaperNote(measured: readonly RunRecord[]): string {
  return paperNote(
    '04-size-vs-score',
    sizeCells('paper').filter((c) => c.experiment === EXPERIMENTS.size),
    measured,
    ['grids/03-main-results.json (the official-width points)'],
  );
}

export async function sizeVsScore(scale: string): Promise<NotebookResult> {
  return sizeFigures(await sizeRuns(scale), scale);
}
