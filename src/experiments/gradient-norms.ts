/**
 * Notebook 06 (DMM Figure 4): the loss-gradient norm of each of the 24 input tokens (K=8 × R, s, a),
 * docs/spec.md §11 F4 kit definition: ‖∂ℒ/∂x_j‖₂ over channels, x_j token j after embed_ln, ℒ the masked MSE,
 * eval mode, full-length (unpadded) training windows, mean per token; DMM, Decision Mamba, DT and DC, all
 * at K=8 on hopper-medium (the K=8 cells of notebook 07); and the paper's AntMaze panel, DMM against Decision
 * Mamba at K=8 on antmaze-umaze (plan.ts `antmazeGradientCells`).
 */
import { tf } from '../backend';
import { BatchSampler, loadDataset } from '../data';
import type { Data } from '../figures';
import { tokenGradientNorms } from '../models';
import type { RunRecord } from '../results/record';
import { deriveSeed } from '../util/rng';
import { budgetFor } from '../config/budget';
import { runCells, type CellsReport } from './cells';
import { MODEL_LABELS, MODELS, antmazeGradientCells, contextCells, type Model } from './plan';
import { cellsLine, fmt, markdownTable, paperNote, PLOTLY_COLOURS, runsMeta, type NotebookResult } from './report';
import { loadTrained, windowsToInputs, type Window } from './trained';
import { tokenLabels } from './activation-heatmaps';

/** The panels of the figure: hopper-medium (four models) and antmaze-umaze (DMM and Decision Mamba). */
const PANELS = ['hopper-medium', 'antmaze-umaze'] as const;

function cellsFor(scale: string) {
  const hopper = contextCells(scale).filter(
    (c) =>
      Number(
        (c.overrides?.contextLength as number | undefined) ?? (c.model === 'dt' || c.model === 'dmamba' ? 20 : 8),
      ) === 8,
  );
  return [...hopper, ...antmazeGradientCells(scale)];
}

export function windowCount(scale: string): number {
  const s = budgetFor(scale).scale;
  return s === 'smoke' ? 16 : s === 'paper' ? 1024 : 256;
}

/** Notebook 06's runs: the K=8 hopper-medium cells of the four models, and DMM and Decision Mamba on antmaze-umaze. */
export function gradientRuns(scale: string): Promise<CellsReport> {
  return runCells(cellsFor(scale), { scale, workers: budgetFor(scale).workers });
}

/** Mean ‖∂ℒ/∂x_j‖ per input token of each trained model (and its dataset), and the models that could not be measured. */
export interface TokenNorms {
  norms: { model: Model; dataset: string; mean: number[]; record: RunRecord }[];
  notes: string[];
}

/** Restores each run's final checkpoint and averages its token-gradient norms over training windows. */
export async function measureGradientNorms(cells: CellsReport, scale: string): Promise<TokenNorms> {
  const N = windowCount(scale);
  const norms: TokenNorms['norms'] = [];
  const notes: string[] = [];
  for (const o of cells.outcomes) {
    const t = await loadTrained(o, scale);
    if (!t) {
      notes.push(`${o.spec.model} ${o.spec.dataset}: no trained model (${o.error ?? 'missing checkpoint'})`);
      continue;
    }
    if (t.retrained) {
      // Checkpoints are not committed: the weights measured are a fresh training of the same spec, which
      // need not reproduce the record's scores (the training code may have changed since the record).
      const was = t.record.scores?.best_official ?? NaN;
      const now = t.retrainedRecord?.scores?.best_official ?? NaN;
      notes.push(
        `${o.spec.model} ${o.spec.dataset}: no checkpoint, retrained to measure (best_official ${fmt(now)}; the record's ${fmt(was)})`,
      );
    }
    const K = 8;
    const ds = await loadDataset(o.spec.dataset, { source: 'kit', scale: budgetFor(scale).scale });
    const sampler = new BatchSampler(ds, {
      contextLength: K,
      batchSize: 64,
      returnScale: Number(t.record.config.train.returnScale),
      maxEpLen: 1000,
      seed: deriveSeed(12, 'gradient-norms'),
    });
    const { stateDim: s, actDim: a } = t.model.dims;
    const sum = new Float64Array(3 * K);
    let n = 0;
    for (let guard = 0; n < N && guard < 1000; guard++) {
      const batch = sampler.sample();
      const full: Window[] = [];
      for (let b = 0; b < batch.mask.length / K && n + full.length < N; b++) {
        if (!batch.mask.subarray(b * K, (b + 1) * K).every((m) => m === 1)) continue;
        full.push({
          step: 0,
          states: batch.states.slice(b * K * s, (b + 1) * K * s),
          actions: batch.actions.slice(b * K * a, (b + 1) * K * a),
          returnsToGo: batch.returnsToGo.slice(b * K, (b + 1) * K),
          timesteps: batch.timesteps.slice(b * K, (b + 1) * K),
          mask: batch.mask.slice(b * K, (b + 1) * K),
        });
      }
      if (!full.length) continue;
      const inputs = windowsToInputs(full, K, s, a);
      const g = tokenGradientNorms(t.model, inputs, inputs.actions, { training: false });
      const per = g.perWindow.arraySync() as number[][];
      for (const row of per) row.forEach((v, j) => (sum[j] += v));
      n += per.length;
      tf.dispose([g.mean, g.perWindow, ...Object.values(inputs)]);
    }
    norms.push({
      model: o.spec.model as Model,
      dataset: o.spec.dataset,
      mean: Array.from(sum, (v) => v / Math.max(1, n)),
      // The captions describe the weights measured: a retrained run's own record (its data and backend).
      record: t.retrainedRecord ?? t.record,
    });
    t.model.dispose();
  }
  return { norms, notes };
}

/** Shares of one model's token norms: per token type, and on the newest step's three tokens. */
function shares(mean: readonly number[]) {
  const total = mean.reduce((s, v) => s + v, 0) || 1;
  const share = (k: number) => mean.filter((_, j) => j % 3 === k).reduce((s, v) => s + v, 0) / total;
  return { R: share(0), s: share(1), a: share(2), newest: (mean[21] + mean[22] + mean[23]) / total };
}

/** Notebook 06's figures (one per panel), table and finding: a pure function of the measured norms. */
export function gradientFigures({ norms, notes }: TokenNorms, cells: CellsReport, scale: string): NotebookResult {
  const N = windowCount(scale);
  const labels = tokenLabels(8);
  // One measurement per model and panel: the first seed's (the plan lists seeds in order).
  const of = (dataset: string) =>
    MODELS.flatMap((m) => norms.filter((x) => x.dataset === dataset && x.model === m).slice(0, 1));
  const figures = PANELS.map((dataset) => {
    const panel = of(dataset);
    const records = panel.map((x) => x.record);
    const antmaze = dataset.startsWith('antmaze');
    const data: Data[] = panel.map((x) => {
      // Normalised to sum 1 per model, so models with different loss scales compare as shares.
      const total = x.mean.reduce((s, v) => s + v, 0) || 1;
      // Each model keeps the colour it has in the four-model panel (Plotly's default order over MODELS).
      const colour = PLOTLY_COLOURS[MODELS.indexOf(x.model)];
      return {
        type: 'bar',
        name: MODEL_LABELS[x.model],
        x: labels,
        y: x.mean.map((v) => v / total),
        marker: { color: colour },
      } as Data;
    });
    return {
      name: antmaze ? '06-gradient-norms-antmaze' : '06-gradient-norms',
      notebook: '06-gradient-norms',
      scale,
      ...runsMeta(records, scale),
      data,
      layout: {
        title: { text: `Share of the loss-gradient norm per input token (K=8, ${dataset})` },
        barmode: 'group' as const,
        xaxis: { title: { text: 'token (R, s, a of steps 1..8; step 8 is the newest)' }, tickangle: -90 },
        yaxis: { title: { text: 'share of Σ_j ‖∂ℒ/∂x_j‖' } },
      },
      width: 1000,
      caption:
        `‖∂ℒ/∂x_j‖₂ per token, mean over ${N} full-length training windows of ${dataset}, eval mode, each model's norms divided by their sum. ` +
        (antmaze
          ? "The paper's AntMaze panel: DMM (official shared-frozen DSM) against Decision Mamba, both at K=8 (Decision Mamba's official K is 20), on the kit's antmaze-umaze data."
          : 'The four models at K=8 (the K=8 cells of notebook 07).'),
    };
  });
  const rows = PANELS.flatMap((dataset) => of(dataset).map((x) => ({ dataset, model: x.model, ...shares(x.mean) })));
  const table = markdownTable(
    ['dataset', 'model', 'share R', 'share s', 'share a', 'share of newest step (R8, s8, a8)'],
    rows.map((r) => [r.dataset, MODEL_LABELS[r.model], fmt(r.R, 3), fmt(r.s, 3), fmt(r.a, 3), fmt(r.newest, 3)]),
  );
  /** DMM against Decision Mamba on one panel's newest-step share. */
  const versus = (dataset: string): string => {
    const dmm = rows.find((r) => r.dataset === dataset && r.model === 'dmm');
    const dma = rows.find((r) => r.dataset === dataset && r.model === 'dmamba');
    if (!dmm || !dma) return '';
    return dmm.newest < dma.newest
      ? `On ${dataset} DMM spreads its gradient over more of the window than Decision Mamba. `
      : `On ${dataset} DMM concentrates its gradient on the newest step at least as much as Decision Mamba. `;
  };
  const hopper = rows.filter((r) => r.dataset === 'hopper-medium');
  const ant = rows.filter((r) => r.dataset === 'antmaze-umaze');
  const list = (rs: typeof rows, key: 'newest' | 's') =>
    rs.map((r) => `${MODEL_LABELS[r.model]} ${fmt(r[key], 2)}`).join(', ');
  const finding = rows.length
    ? (hopper.length
        ? `hopper-medium: share of the gradient norm on the newest step's three tokens ${list(hopper, 'newest')} (uniform would be 0.125); state tokens carry ${list(hopper, 's')} of the norm. `
        : '') +
      versus('hopper-medium') +
      (ant.length
        ? `antmaze-umaze (the paper's AntMaze panel): newest-step share ${list(ant, 'newest')}; state tokens ${list(ant, 's')}. ${versus('antmaze-umaze')}`
        : "The paper's AntMaze panel is missing: no antmaze-umaze model could be measured. ") +
      `${notes.join('; ')} ${cellsLine(cells)}`
    : `No trained models: ${notes.join('; ')}. ${cellsLine(cells)}`;
  return {
    figures: figures.filter((f) => f.data.length > 0),
    tables: [table],
    finding,
    cells,
    numbers: { rows },
  };
}

export async function gradientNorms(scale: string): Promise<NotebookResult> {
  const cells = await gradientRuns(scale);
  return gradientFigures(await measureGradientNorms(cells, scale), cells, scale);
}

export function gradientPaperNote(measured: readonly RunRecord[]): string {
  return paperNote('06-gradient-norms', cellsFor('paper'), measured, [
    'grids/03-main-results.json',
    'grids/07-context-length.json (the trained models it reads)',
  ]);
}
