/**
 * Notebook 03: DT, DC, Decision Mamba and DMM on hopper/halfcheetah/walker2d × medium/medium-replay/
 * medium-expert (docs/spec.md §11 T-MuJoCo, T1), both protocols of §10, a table and a grouped bar chart; and the
 * AntMaze section (T-AntMaze: antmaze-umaze, antmaze-umaze-diverse), its own table and chart, because its scores
 * are success rates (§10: references 0 and 1), so they stay out of the MuJoCo average and ranking.
 * Paper numbers are shown only where docs/spec.md §11 "Known numbers" gives them.
 */
import { meanStd } from '../eval/protocols';
import type { Data, FigureSpec } from '../figures';
import type { RunRecord } from '../results/record';
import { budgetFor } from '../config/budget';
import { DMAMBA_HOPPER_MEDIUM, LITERATURE_DT } from '../results/paper-numbers';
import { runCells, type CellsReport } from './cells';
import { MODEL_LABELS, MODELS, mainCells, type Model } from './plan';
import {
  cellsLine,
  finished,
  fmt,
  fmtMs,
  markdownTable,
  paperNote,
  runsMeta,
  seedErrorBars,
  seedsOf,
  type NotebookResult,
} from './report';

export type Protocol = 'best_official' | 'final';

/** Scores of one model on one dataset under one protocol, over seeds. */
export function scoresOf(records: readonly RunRecord[], model: string, dataset: string, protocol: Protocol): number[] {
  return records
    .filter((r) => r.spec.model === model && r.dataset.id === dataset && r.scores)
    .map((r) => r.scores![protocol]);
}

/** The MuJoCo datasets of the main table at this scale. */
export function datasetsOf(scale: string): string[] {
  const b = budgetFor(scale);
  return b.envs.flatMap((e) => b.datasets.map((k) => `${e}-${k}`));
}

/** The AntMaze datasets of the main table at this scale (its own section). */
export function antmazeDatasetsOf(scale: string): string[] {
  return budgetFor(scale).antmaze.map((k) => `antmaze-${k}`);
}

export function groupedBars(records: readonly RunRecord[], datasets: readonly string[], protocol: Protocol): Data[] {
  const traces: Data[] = MODELS.map((m: Model) => {
    const s = datasets.map((d) => meanStd(scoresOf(records, m, d, protocol)));
    return {
      type: 'bar',
      name: MODEL_LABELS[m],
      x: [...datasets],
      y: s.map((v) => (v.n ? v.mean : null)),
      error_y: seedErrorBars(s),
    } as Data;
  });
  traces.push({
    type: 'scatter',
    mode: 'markers',
    name: 'DT, literature (D4RL data)',
    x: datasets.filter((d) => d in LITERATURE_DT),
    y: datasets.filter((d) => d in LITERATURE_DT).map((d) => LITERATURE_DT[d].mean),
    marker: { symbol: 'line-ew-open', size: 18, color: 'black', line: { width: 2 } },
  } as Data);
  const paper = DMAMBA_HOPPER_MEDIUM.paper;
  if (datasets.includes('hopper-medium') && protocol === paper.protocol)
    traces.push({
      type: 'scatter',
      mode: 'markers',
      name: `Decision Mamba, paper (${paper.mean} ± ${paper.std})`,
      x: ['hopper-medium'],
      y: [paper.mean],
      error_y: { type: 'data', array: [paper.std], visible: true },
      marker: { symbol: 'diamond', size: 10, color: '#d1495b' },
    } as Data);
  return traces;
}

/** A cell of the AntMaze table: mean ± std over seeds with n, or a note that no run of it finished. */
function antmazeCell(records: readonly RunRecord[], model: Model, dataset: string, protocol: Protocol): string {
  const m = meanStd(scoresOf(records, model, dataset, protocol));
  return m.n === 0 ? 'not run' : `${fmtMs(m)} (n = ${m.n})`;
}

/**
 * The AntMaze section: a table of success rates (%) per model and protocol, labelled with scale and seeds, "not
 * run" where no record finished, and one grouped bar chart with both protocols.
 */
export function antmazeSection(
  records: readonly RunRecord[],
  scale: string,
): { table: string; figure: FigureSpec; line: string } {
  const datasets = antmazeDatasetsOf(scale);
  const am = records.filter((r) => datasets.includes(r.dataset.id));
  const seeds = seedsOf(am);
  const label = `${scale} scale, seeds ${seeds.length ? seeds.join(', ') : 'none'}`;
  const rows = datasets.map((d) => [
    d,
    label,
    ...MODELS.flatMap((m) => [antmazeCell(records, m, d, 'best_official'), antmazeCell(records, m, d, 'final')]),
  ]);
  const head = [
    'AntMaze dataset (success %)',
    'scale, seeds',
    ...MODELS.flatMap((m) => [`${MODEL_LABELS[m]} best`, `${MODEL_LABELS[m]} final`]),
  ];
  const x = datasets.flatMap((d) => [`${d} best_official`, `${d} final`]);
  const data: Data[] = MODELS.map((m: Model) => {
    const s = datasets.flatMap((d) =>
      (['best_official', 'final'] as Protocol[]).map((p) => meanStd(scoresOf(records, m, d, p))),
    );
    return {
      type: 'bar',
      name: MODEL_LABELS[m],
      x,
      y: s.map((v) => (v.n ? v.mean : null)),
      // Printed values, so a 0% bar reads as measured and stays apart from a missing (not run) one.
      text: s.map((v) => (v.n ? fmt(v.mean, 0) : '')),
      textposition: 'outside',
      error_y: seedErrorBars(s),
    } as Data;
  });
  const figure: FigureSpec = {
    notebook: '03-main-results',
    scale,
    ...runsMeta(am, scale),
    name: '03-main-results-antmaze',
    data,
    layout: {
      title: { text: 'AntMaze success rate per dataset and protocol' },
      barmode: 'group' as const,
      yaxis: { title: { text: 'success rate (%)' }, range: [0, 100] },
      legend: { orientation: 'h' as const, y: -0.25 },
    },
    width: 900,
    height: 480,
    caption:
      `AntMaze success rate (%) = D4RL's normalised score with references 0 and 1 (docs/spec.md §10), mean ± population std over seeds, ` +
      `of DT, DC, Decision Mamba and DMM (DMM with the official shared-frozen DSM) on the kit's antmaze-umaze and antmaze-umaze-diverse data, ` +
      `evaluated in antmaze-umaze (700-step episodes that end at the goal). Not comparable with the MuJoCo scores, and not in their average. ` +
      `Official AntMaze width: D=128 for all four models (DMM's run script; the others' defaults, src/config/presets.ts). ` +
      `Each bar is labelled with its value; a missing bar and label is a cell with no finished run. The paper's AntMaze values are not available to the kit.`,
  };
  const parts = datasets.map(
    (d) =>
      `${d}: ${MODELS.map((m) => {
        const v = meanStd(scoresOf(records, m, d, 'best_official'));
        return `${MODEL_LABELS[m]} ${v.n ? fmt(v.mean) : 'not run'}`;
      }).join(', ')}`,
  );
  const episodes = [...new Set(am.map((r) => Number(r.config.eval.episodesPerTarget)))].join('/');
  const line = am.length
    ? `AntMaze success rate (best_official, %; ${label}; ${episodes} episodes per evaluation; kept out of the MuJoCo average): ${parts.join('; ')}. `
    : `AntMaze: no run finished at this scale (${datasets.join(', ')} not run). `;
  return { table: markdownTable(head, rows), figure, line };
}

/** Notebook 03's runs: trains what the cache lacks, returns every cell's record. */
export function mainRuns(scale: string): Promise<CellsReport> {
  return runCells(mainCells(scale), { scale, workers: budgetFor(scale).workers });
}

/** Notebook 03's table, figures and finding: a pure function of the runs' records. */
export function mainFigures(cells: CellsReport, scale: string): NotebookResult {
  const records = finished(cells);
  const datasets = datasetsOf(scale);
  const rows = datasets.map((d) => [
    d,
    ...MODELS.flatMap((m) => [
      fmtMs(meanStd(scoresOf(records, m, d, 'best_official'))),
      fmtMs(meanStd(scoresOf(records, m, d, 'final'))),
    ]),
    d in LITERATURE_DT ? fmt(LITERATURE_DT[d].mean) : '–',
  ]);
  const head = [
    'dataset',
    ...MODELS.flatMap((m) => [`${MODEL_LABELS[m]} best`, `${MODEL_LABELS[m]} final`]),
    'DT lit. (D4RL)',
  ];
  const table = markdownTable(head, rows);
  const antmaze = antmazeSection(records, scale);
  const mujoco = records.filter((r) => datasets.includes(r.dataset.id));
  const common = {
    notebook: '03-main-results',
    scale,
    ...runsMeta(mujoco, scale),
  };
  const figures: FigureSpec[] = (['best_official', 'final'] as Protocol[]).map((protocol) => ({
    ...common,
    name: protocol === 'best_official' ? '03-main-results' : '03-main-results-final',
    data: groupedBars(records, datasets, protocol),
    layout: {
      title: { text: `Normalised score per dataset, protocol ${protocol}` },
      barmode: 'group' as const,
      yaxis: { title: { text: 'normalised score' } },
      xaxis: { tickangle: -30 },
      legend: { orientation: 'h' as const, y: -0.35 },
      margin: { b: 150 },
    },
    width: 900,
    height: 520,
    caption:
      `Normalised score (mean ± population std over seeds; protocol ${protocol}, docs/spec.md §10) of DT, DC, Decision Mamba and DMM. ` +
      `Black bars: literature DT values on the original D4RL data; red diamond: the Decision Mamba paper's hopper-medium value.`,
  }));
  // Finding: per-dataset winner and the average rank of each model.
  const winners: Record<string, number> = {};
  const avg: Record<string, number[]> = {};
  for (const d of datasets) {
    const ms = MODELS.map((m) => ({ m, s: meanStd(scoresOf(records, m, d, 'best_official')) })).filter(
      (x) => x.s.n > 0,
    );
    if (ms.length === 0) continue;
    ms.sort((a, b) => b.s.mean - a.s.mean);
    winners[ms[0].m] = (winners[ms[0].m] ?? 0) + 1;
    for (const x of ms) (avg[x.m] ??= []).push(x.s.mean);
  }
  const means = MODELS.filter((m) => avg[m]).map((m) => ({ m, v: meanStd(avg[m]).mean }));
  means.sort((a, b) => b.v - a.v);
  let finding: string;
  if (means.length === 0)
    finding = `No MuJoCo run finished, so there is nothing to compare. ${antmaze.line}${cellsLine(cells)}`;
  else if (means.length === 1)
    finding =
      `Only ${MODEL_LABELS[means[0].m as Model]} has finished MuJoCo runs (${Object.values(avg)[0].length} dataset(s), best_official average ${fmt(means[0].v)}), ` +
      `so there is no comparison between the models yet: the other models' cells are missing. ${antmaze.line}${cellsLine(cells)}`;
  else {
    const seeds = budgetFor(scale).seeds.length;
    const evidence =
      seeds === 1 ? 'one seed per cell, so this is not evidence for the claim' : `${seeds} seeds per cell`;
    const top = means[0].m as Model;
    finding =
      `Averaged over ${Object.values(avg)[0]?.length ?? 0} dataset(s) (best_official), the order is ${means.map((x) => `${MODEL_LABELS[x.m as Model]} ${fmt(x.v)}`).join(' > ')}. ` +
      `Best per dataset: ${Object.entries(winners)
        .map(([m, n]) => `${MODEL_LABELS[m as Model]} ${n}×`)
        .join(', ')}. ` +
      (top === 'dmm'
        ? `At this scale DMM scores highest on average, the direction the DMM paper claims (${evidence}). `
        : `At this scale the kit does NOT reproduce the DMM paper's claim that DMM scores highest: ${MODEL_LABELS[top]} is ahead. `) +
      (scale !== 'paper'
        ? `This is a ${scale}-scale run (far fewer steps, episodes and seeds than the papers) on kit-generated data, so absolute scores are not comparable to the papers'. `
        : '') +
      antmaze.line +
      cellsLine(cells);
  }
  return {
    figures: [...figures, antmaze.figure],
    tables: [table, antmaze.table],
    finding,
    cells,
    numbers: { means: Object.fromEntries(means.map((x) => [x.m, x.v])) },
  };
}

export async function mainResults(scale: string): Promise<NotebookResult> {
  return mainFigures(await mainRuns(scale), scale);
}

export function mainPaperNote(measured: readonly RunRecord[]): string {
  return paperNote('03-main-results', mainCells('paper'), measured);
}
