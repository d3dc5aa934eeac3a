/**
 * Notebook 06 (DMM Figure 4): the loss-gradient norm of each of the 24 input tokens (K=8 × R, s, a),
 * docs/spec.md §11 F4 kit definition: ‖∂ℒ/∂x_j‖₂ over channels, x_j token j after embed_ln, ℒ the masked MSE,
 * eval mode, full-length (unpadded) training windows, mean per token; DMM, Decision Mamba, DT and DC, all
 * at K=8 on hopper-medium (the K=8 cells of notebook 07). AntMaze's environment and datasets are in the kit
 * (notebook 01), but no model has been trained on them yet, so the paper's AntMaze panel is missing.
 */
import { tf } from '../backend';
import { BatchSampler, loadDataset } from '../data';
import type { Data } from '../figures';
import { tokenGradientNorms } from '../models';
import type { RunRecord } from '../results/record';
import { deriveSeed } from '../util/rng';
import { budgetFor } from '../config/budget';
import { runCells, type CellsReport } from './cells';
import { MODEL_LABELS, MODELS, contextCells, type Model } from './plan';
import { cellsLine, fmt, markdownTable, paperNote, runsMeta, type NotebookResult } from './report';
import { loadTrained, windowsToInputs, type Window } from './trained';
import { tokenLabels } from './activation-heatmaps';

function cellsFor(scale: string) {
  return contextCells(scale).filter(
    (c) =>
      Number(
        (c.overrides?.contextLength as number | undefined) ?? (c.model === 'dt' || c.model === 'dmamba' ? 20 : 8),
      ) === 8,
  );
}

export function windowCount(scale: string): number {
  const s = budgetFor(scale).scale;
  return s === 'smoke' ? 16 : s === 'paper' ? 1024 : 256;
}

/** Notebook 06's runs: the K=8 hopper-medium cells of the four models. */
export function gradientRuns(scale: string): Promise<CellsReport> {
  return runCells(cellsFor(scale), { scale, workers: budgetFor(scale).workers });
}

/** Mean ‖∂ℒ/∂x_j‖ per input token of each trained model, and the models that could not be measured. */
export interface TokenNorms {
  norms: { model: Model; mean: number[]; record: RunRecord }[];
  notes: string[];
}

/** Restores each run's final checkpoint and averages its token-gradient norms over training windows. */
export async function measureGradientNorms(cells: CellsReport, scale: string): Promise<TokenNorms> {
  const N = windowCount(scale);
  const norms: { model: Model; mean: number[]; record: RunRecord }[] = [];
  const notes: string[] = [];
  for (const o of cells.outcomes) {
    const t = await loadTrained(o, scale);
    if (!t) {
      notes.push(`${o.spec.model}: no trained model (${o.error ?? 'missing checkpoint'})`);
      continue;
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
    norms.push({ model: o.spec.model as Model, mean: Array.from(sum, (v) => v / Math.max(1, n)), record: t.record });
    t.model.dispose();
  }
  return { norms, notes };
}

/** Notebook 06's figure, table and finding: a pure function of the measured norms. */
export function gradientFigures({ norms, notes }: TokenNorms, cells: CellsReport, scale: string): NotebookResult {
  const N = windowCount(scale);
  const records = norms.map((x) => x.record);
  const labels = tokenLabels(8);
  const data: Data[] = MODELS.filter((m) => norms.some((x) => x.model === m)).map((m) => {
    const x = norms.find((v) => v.model === m)!;
    // Normalised to sum 1 per model, so models with different loss scales compare as shares.
    const total = x.mean.reduce((s, v) => s + v, 0) || 1;
    return { type: 'bar', name: MODEL_LABELS[m], x: labels, y: x.mean.map((v) => v / total) } as Data;
  });
  const figure = {
    name: '06-gradient-norms',
    notebook: '06-gradient-norms',
    scale,
    ...runsMeta(records, scale),
    data,
    layout: {
      title: { text: 'Share of the loss-gradient norm per input token (K=8, hopper-medium)' },
      barmode: 'group' as const,
      xaxis: { title: { text: 'token (R, s, a of steps 1..8; step 8 is the newest)' }, tickangle: -90 },
      yaxis: { title: { text: 'share of Σ_j ‖∂ℒ/∂x_j‖' } },
    },
    width: 1000,
    caption: `‖∂ℒ/∂x_j‖₂ per token, mean over ${N} full-length training windows, eval mode, each model's norms divided by their sum. The paper's AntMaze panel is missing: the kit has AntMaze's environment and data (notebook 01) but no model trained on them yet.`,
  };
  const rows = norms.map((x) => {
    const total = x.mean.reduce((s, v) => s + v, 0) || 1;
    const share = (k: number) => x.mean.filter((_, j) => j % 3 === k).reduce((s, v) => s + v, 0) / total;
    const newest = (x.mean[21] + x.mean[22] + x.mean[23]) / total;
    return { model: x.model, R: share(0), s: share(1), a: share(2), newest };
  });
  const table = markdownTable(
    ['model', 'share R', 'share s', 'share a', 'share of newest step (R8, s8, a8)'],
    rows.map((r) => [MODEL_LABELS[r.model], fmt(r.R, 3), fmt(r.s, 3), fmt(r.a, 3), fmt(r.newest, 3)]),
  );
  const dmm = rows.find((r) => r.model === 'dmm');
  const dma = rows.find((r) => r.model === 'dmamba');
  const finding = rows.length
    ? `Share of the gradient norm on the newest step's three tokens: ${rows.map((r) => `${MODEL_LABELS[r.model]} ${fmt(r.newest, 2)}`).join(', ')} (uniform would be 0.125). ` +
      `State tokens carry ${rows.map((r) => `${MODEL_LABELS[r.model]} ${fmt(r.s, 2)}`).join(', ')} of the norm. ` +
      (dmm && dma
        ? dmm.newest < dma.newest
          ? 'DMM spreads its gradient over more of the window than Decision Mamba here. '
          : 'DMM concentrates its gradient on the newest step at least as much as Decision Mamba here. '
        : '') +
      `The paper's AntMaze panel is not reproduced: no model has been trained on the kit's AntMaze data yet. ${notes.join('; ')} ${cellsLine(cells)}`
    : `No trained models: ${notes.join('; ')}. ${cellsLine(cells)}`;
  return { figures: records.length ? [figure] : [], tables: [table], finding, cells, numbers: { rows } };
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
