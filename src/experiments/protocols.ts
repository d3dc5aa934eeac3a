/**
 * Notebook 11: best-of-training (`best_official`) against final-checkpoint (`final`) scores over every
 * finished run of this scale (docs/spec.md §10), and on hopper-medium over seeds, beside the two known numbers
 * for Decision Mamba (src/results/paper-numbers.ts): the paper's max during training and a final-epoch re-run.
 */
import { meanStd } from '../eval/protocols';
import type { Data } from '../figures';
import { listRecordFiles, readRecord, type RunRecord } from '../results/record';
import { budgetFor } from '../config/budget';
import { resultsDir } from '../config/run-spec';
import { DMAMBA_HOPPER_MEDIUM } from '../results/paper-numbers';
import { runCells, type CellsReport } from './cells';
import { MODEL_LABELS, protocolCells, type Model } from './plan';
import { cellsLine, fmt, fmtMs, markdownTable, runsMeta, seedErrorBars, type NotebookResult } from './report';

const { paper, rerun } = DMAMBA_HOPPER_MEDIUM;
/** One decimal, rounded half up (toFixed rounds 1.95 down, being 1.9499…). */
const r1 = (x: number) => (Math.round(x * 10) / 10).toFixed(1);

/** Every finished record of this scale, whatever notebook made it. */
export function allFinished(scale: string): RunRecord[] {
  const s = budgetFor(scale).scale;
  return listRecordFiles(resultsDir(scale))
    .map((f) => readRecord(f))
    .filter((r) => r.status === 'finished' && r.spec.scale === s && r.scores);
}

/** Notebook 11's runs: the main cells plus the extra seeds; trains what the cache lacks. */
export function protocolRuns(scale: string): Promise<CellsReport> {
  return runCells(protocolCells(scale), { scale, workers: budgetFor(scale).workers });
}

/**
 * Notebook 11's figures and finding from `records`, every finished run of this scale (`allFinished`), and
 * the report of the runs behind this notebook: a pure function of records.
 */
export function protocolFigures(records: readonly RunRecord[], cells: CellsReport, scale: string): NotebookResult {
  const gaps = records.map((r) => r.scores!.best_official - r.scores!.final);
  const g = meanStd(gaps);
  const lim = Math.max(10, ...records.map((r) => Math.max(r.scores!.best_official, r.scores!.final)));
  const scatter: Data[] = [
    ...(['dt', 'dc', 'dmamba', 'dmm'] as Model[]).map(
      (m) =>
        ({
          type: 'scatter',
          mode: 'markers',
          name: MODEL_LABELS[m],
          x: records.filter((r) => r.spec.model === m).map((r) => r.scores!.final),
          y: records.filter((r) => r.spec.model === m).map((r) => r.scores!.best_official),
          text: records.filter((r) => r.spec.model === m).map((r) => `${r.dataset.id} s${r.seed} ${r.spec.experiment}`),
        }) as Data,
    ),
    {
      type: 'scatter',
      mode: 'lines',
      name: 'best = final',
      x: [Math.min(0, ...records.map((r) => r.scores!.final)), lim],
      y: [Math.min(0, ...records.map((r) => r.scores!.final)), lim],
      line: { dash: 'dot', color: 'grey' },
    } as Data,
  ];
  const common = {
    notebook: '11-protocols',
    scale,
    ...runsMeta(records, scale),
  };
  const fig1 = {
    ...common,
    name: '11-protocols-scatter',
    data: scatter,
    layout: {
      title: { text: 'best_official against final, every run' },
      xaxis: { title: { text: 'final (last checkpoint, primary target)' } },
      yaxis: { title: { text: 'best_official (max over evaluations and targets)' } },
    },
    caption: `Each point is one finished run of this scale (all notebooks). Points above the dotted line gain from taking the best evaluation.`,
  };
  // hopper-medium per model over seeds.
  const hm = (m: Model) =>
    records.filter(
      (r) => r.spec.model === m && r.dataset.id === 'hopper-medium' && r.spec.experiment === 'main-results',
    );
  const models: Model[] = ['dmamba', 'dmm', 'dt', 'dc'];
  const bars: Data[] = [
    {
      type: 'bar',
      name: 'best_official (kit)',
      x: models.map((m) => MODEL_LABELS[m]),
      y: models.map((m) => meanStd(hm(m).map((r) => r.scores!.best_official)).mean),
      error_y: seedErrorBars(models.map((m) => meanStd(hm(m).map((r) => r.scores!.best_official)))),
    } as Data,
    {
      type: 'bar',
      name: 'final (kit)',
      x: models.map((m) => MODEL_LABELS[m]),
      y: models.map((m) => meanStd(hm(m).map((r) => r.scores!.final)).mean),
      error_y: seedErrorBars(models.map((m) => meanStd(hm(m).map((r) => r.scores!.final)))),
    } as Data,
    {
      type: 'scatter',
      mode: 'markers',
      name: `DMa paper: max during training ${r1(paper.mean)} ± ${r1(paper.std!)}`,
      x: ['Decision Mamba'],
      y: [paper.mean],
      error_y: { type: 'data', array: [paper.std], visible: true },
      marker: { symbol: 'diamond', size: 11, color: '#d1495b' },
    } as Data,
    {
      type: 'scatter',
      mode: 'markers',
      name: `DMa re-run: final epoch ${r1(rerun.mean)} ± ${r1(rerun.std!)}`,
      x: ['Decision Mamba'],
      y: [rerun.mean],
      error_y: { type: 'data', array: [rerun.std], visible: true },
      marker: { symbol: 'square', size: 10, color: '#00798c' },
    } as Data,
  ];
  const fig2 = {
    ...common,
    ...runsMeta(models.flatMap(hm), scale),
    name: '11-protocols-hopper-medium',
    data: bars,
    layout: {
      title: { text: 'hopper-medium: the two protocols over seeds' },
      barmode: 'group' as const,
      yaxis: { title: { text: 'normalised score' } },
    },
    caption: `Mean ± population std over seeds (${models.map((m) => `${MODEL_LABELS[m]} ${hm(m).length}`).join(', ')} seed(s)). Markers: the numbers reported for Decision Mamba on D4RL hopper-medium (paper, and the final-epoch re-run of issue #2).`,
  };
  const table = markdownTable(
    ['model', 'seeds', 'best_official', 'final', 'gap'],
    models.map((m) => {
      const rs = hm(m);
      return [
        MODEL_LABELS[m],
        rs.length,
        fmtMs(meanStd(rs.map((r) => r.scores!.best_official))),
        fmtMs(meanStd(rs.map((r) => r.scores!.final))),
        fmtMs(meanStd(rs.map((r) => r.scores!.best_official - r.scores!.final))),
      ];
    }),
  );
  const dm = hm('dmamba');
  const iters = records[0] ? records[0].iterations.length : 0;
  const finding = records.length
    ? `Over ${records.length} finished run(s), best_official exceeds final by ${fmt(g.mean)} ± ${fmt(g.std)} points on average (max ${fmt(Math.max(...gaps))}); ` +
      `the reported Decision Mamba gap is ${r1(paper.mean)} − ${r1(rerun.mean)} = ${r1(paper.mean - rerun.mean)} points. ` +
      (dm.length
        ? `Kit Decision Mamba on hopper-medium over ${dm.length} seed(s): best_official ${fmtMs(meanStd(dm.map((r) => r.scores!.best_official)))}, final ${fmtMs(meanStd(dm.map((r) => r.scores!.final)))}. `
        : '') +
      `Here each run has only ${iters} evaluation(s) to take the max over (the paper protocol has 10) and ${budgetFor(scale).scale === 'paper' ? 100 : 'far fewer'} episodes, so the gap measured at ${scale} scale is a lower bound of the paper-scale gap and mixes in evaluation noise. ${cellsLine(cells)}`
    : `No finished runs yet. ${cellsLine(cells)}`;
  return {
    figures: [fig1, fig2],
    tables: [table],
    finding,
    cells,
    numbers: { gapMean: g.mean, gapStd: g.std, runs: records.length },
  };
}

export async function protocols(scale: string): Promise<NotebookResult> {
  const cells = await protocolRuns(scale);
  return protocolFigures(allFinished(scale), cells, scale);
}
