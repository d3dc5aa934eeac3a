/**
 * What every paper notebook hands back and shows: figures (saved through saveFigure), Markdown tables,
 * and the computed "what we see" text. Also the caption parts built from run records (data source with
 * checksum prefix, backend, seeds) and, at paper scale, the grid file and cost estimate.
 */
import * as fs from 'fs';
import * as path from 'path';
import { kitRoot, saveFigure, saveStandalonePage, type StandalonePageSpec } from '../figures';
import type { FigureSpec, SavedFigure } from '../figures';
import { readMeta } from '../figures/page';
import { check } from '../util/check';
import type { RunRecord } from '../results/record';
import { stableStringify, writeFileAtomic } from '../util/atomic';
import { normaliseRunSpec, specHash, type RunSpec } from '../config/run-spec';
import { cellCounts, deviation } from '../config/budget';
import type { CellsReport } from './cells';

export interface NotebookResult {
  figures: FigureSpec[];
  pages?: StandalonePageSpec[];
  /** Markdown tables, shown in order. */
  tables: string[];
  /** The computed "what we see" text. */
  finding: string;
  /** Training cells behind this notebook (cached/trained/failed counts). */
  cells?: CellsReport;
  /** Free-form numbers for tests and docs/results.md. */
  numbers?: Record<string, unknown>;
}

function insideTslab(): boolean {
  return '__tslab__' in globalThis;
}

/** Saves the figures and pages and shows the tables (Markdown inside tslab, plain text elsewhere). */
export async function show(result: NotebookResult): Promise<void> {
  const written: string[] = [];
  for (const t of result.tables) {
    if (insideTslab()) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      (require('tslab') as typeof import('tslab')).display.markdown(t);
    } else console.log(t);
  }
  for (const f of result.figures) written.push(checkSaved(await saveFigure(f)).html);
  for (const p of result.pages ?? []) written.push(saveStandalonePage(p));
  console.log(`Wrote ${written.length} figure page(s): ${written.map((f) => f.split('/').pop()).join(', ')}`);
}

/** Every figure must exist as HTML, PNG and SVG, and its page must carry the caption (issue 8 tests). */
export function checkSaved(saved: SavedFigure): SavedFigure {
  for (const file of [saved.html, saved.png, saved.svg])
    check(
      fs.existsSync(file) && fs.statSync(file).size > 0,
      () =>
        `Error in show: figure file ${file} must exist and be non-empty, got none. Check the figure renderer (npm run doctor).`,
    );
  const meta = readMeta(fs.readFileSync(saved.html, 'utf8'));
  check(
    meta !== undefined && meta.caption === saved.caption,
    () => `Error in show: ${saved.html} must carry its caption, got ${meta ? 'a different one' : 'no metadata'}.`,
  );
  return saved;
}

/** `kit-generated hopper-medium (sha256 1a2b3c4d)`, one per dataset, from records. */
export function dataSourceOf(records: readonly RunRecord[]): string {
  const seen = new Map<string, string>();
  for (const r of records) {
    const src = r.dataset.source === 'd4rl' ? 'D4RL' : 'kit-generated';
    seen.set(`${r.dataset.id}`, `${src} ${r.dataset.id} (sha256 ${r.dataset.checksum.slice(0, 8)})`);
  }
  if (seen.size === 0) return 'no finished runs';
  const list = [...seen.values()].sort();
  return list.length > 4
    ? `${list.slice(0, 3).join(', ')} and ${list.length - 3} more (${list.filter((s) => s.startsWith('kit')).length} kit-generated)`
    : list.join(', ');
}

export function backendOf(records: readonly RunRecord[]): string | undefined {
  const b = [...new Set(records.map((r) => r.backend))];
  return b.length ? b.join('+') : undefined;
}

export function seedsOf(records: readonly RunRecord[]): number[] {
  return [...new Set(records.map((r) => r.seed))].sort((a, b) => a - b);
}

/** Training steps of each run (iterations × steps per iteration), distinct, ascending. */
export function stepsOf(records: readonly RunRecord[]): number[] {
  const steps = records.map((r) => Number(r.config.train.iterations) * Number(r.config.train.stepsPerIteration));
  return [...new Set(steps.filter(Number.isFinite))].sort((a, b) => a - b);
}

/**
 * What every figure of trained runs says about them, from the records it plots: the scale's deviation from
 * the official protocol, training steps, seeds, data source and backend (the figure's details and footer).
 */
export function runsMeta(records: readonly RunRecord[], scale: string) {
  return {
    protocol: protocolNote(scale),
    steps: stepsOf(records),
    seeds: seedsOf(records),
    dataSource: dataSourceOf(records),
    backend: backendOf(records),
  };
}

/** Plotly's default colourway, in trace order: a figure that sets colours itself keeps the ones Plotly would pick. */
export const PLOTLY_COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'] as const;

/**
 * Plotly error bars of the population std over seeds. A point with one seed (n = 1) gets none, not a
 * zero-length bar that would read as a measured spread; with no point above n = 1 the bars are off
 * altogether. The gap is the string 'NaN': JSON turns a NaN into null, which Plotly reads as 0 and draws,
 * while Plotly's `+value` turns 'NaN' into NaN, which it skips.
 */
export function seedErrorBars(stats: readonly { std: number; n: number }[]) {
  return {
    type: 'data' as const,
    array: stats.map((s) => (s.n > 1 ? s.std : 'NaN')) as number[],
    visible: stats.some((s) => s.n > 1),
  };
}

/** Caption tail: the scale's deviation from the official protocol (labelled on every training figure). */
export function protocolNote(scale: string): string {
  return deviation(scale) + '.';
}

/** One line about the cells: how many were read from cache, trained now, failed. */
export function cellsLine(r: CellsReport): string {
  return `${r.outcomes.length} run(s) behind this notebook: ${r.cached} read from the results cache, ${r.trained} trained now, ${r.failed} failed (${r.seconds.toFixed(0)} s).`;
}

/** Records of finished outcomes. */
export function finished(r: CellsReport): RunRecord[] {
  return r.outcomes.filter((o) => o.record).map((o) => o.record!);
}

export function fmt(x: number, digits = 1): string {
  return Number.isFinite(x) ? x.toFixed(digits) : '–';
}

export function fmtMs(m: { mean: number; std: number; n: number }): string {
  if (m.n === 0) return '–';
  return m.n > 1 ? `${fmt(m.mean)} ± ${fmt(m.std)}` : fmt(m.mean);
}

/** A Markdown table; a `|` inside a cell (`mean |a|`) is escaped so it does not split the cell. */
export function markdownTable(head: string[], rows: (string | number)[][]): string {
  const line = (r: (string | number)[]) => `| ${r.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The grid file for a notebook's own paper-scale cells (cells shared with 03 live in its grid). */
export function gridFile(notebook: string): string {
  return path.join('grids', `${notebook}.json`);
}

export function paperGrid(
  notebook: string,
  experiment: string,
  cells: readonly RunSpec[],
  description: string,
): Record<string, unknown> {
  const own = cells.map((c) => normaliseRunSpec(c)).filter((c) => c.experiment === experiment);
  const seen = new Set<string>();
  const list: Record<string, unknown>[] = [];
  for (const c of own) {
    const cell: Record<string, unknown> = { model: c.model, env: c.env, dataset: c.dataset, seed: c.seed };
    if (c.overrides) cell.overrides = c.overrides;
    if (c.evalPadding !== 'official') cell.evalPadding = c.evalPadding;
    const key = stableStringify(cell);
    if (!seen.has(key)) {
      seen.add(key);
      list.push(cell);
    }
  }
  return { description, experiment, scale: 'paper', cells: list };
}

/** Writes grids/NAME.json (used by `npm run` scripts and checked by a test to equal the plan). */
export function writePaperGrid(notebook: string, grid: Record<string, unknown>): string {
  const file = path.join(kitRoot(), gridFile(notebook));
  writeFileAtomic(file, JSON.stringify(grid, null, 2) + '\n');
  return file;
}

/** ms per B=64 training step per model at official size, from bench/results/train-step.json (bench/train-step.ts). */
export function benchStepMs(): Record<string, number> {
  const file = path.join(kitRoot(), 'bench', 'results', 'train-step.json');
  if (!fs.existsSync(file)) return {};
  try {
    const rows =
      (JSON.parse(fs.readFileSync(file, 'utf8')) as { rows?: { model?: string; msPerStep?: number }[] }).rows ?? [];
    return Object.fromEntries(
      rows.filter((r) => r.model && typeof r.msPerStep === 'number').map((r) => [r.model!, r.msPerStep!]),
    );
  } catch {
    return {};
  }
}

/**
 * Paper-scale training cost of `cells` in process-hours on this machine: official steps × the benchmark's
 * per-step time of each model at its official size (hopper). Evaluation is not included (it adds
 * 10 × 100 episodes × 4-5 targets per run). Undefined without the benchmark file.
 */
export function paperCost(cells: readonly RunSpec[]): { cpuHours: number; basis: string } | undefined {
  const ms = benchStepMs();
  const steps = cellCounts('paper').steps;
  const known = cells.filter((c) => ms[c.model] !== undefined);
  if (known.length === 0) return undefined;
  const seconds = known.reduce((a, c) => a + (steps * ms[c.model]) / 1000, 0) * (cells.length / known.length);
  return {
    cpuHours: seconds / 3600,
    basis: `training only, ${steps} steps at ${Object.entries(ms)
      .map(([m, v]) => `${m} ${v.toFixed(0)} ms`)
      .join(', ')} per B=64 step (bench/results/train-step.json, official hopper sizes); evaluation comes on top`,
  };
}

/**
 * Which of the paper cells have a finished record among `measured`, per model, with the datasets they cover:
 * `Finished: 30 of 220 (dmm 30/55: halfcheetah-medium ×5, …; dt 0/55; …); the rest are missing. ` Empty when none is.
 */
export function paperProgress(cells: readonly RunSpec[], measured: readonly RunRecord[]): string {
  const done = new Set(measured.filter((r) => r.status === 'finished').map((r) => specHash(r.spec)));
  const byModel = new Map<string, { n: number; finished: number; perDataset: Map<string, number> }>();
  let total = 0;
  for (const c of cells) {
    const m = byModel.get(c.model) ?? { n: 0, finished: 0, perDataset: new Map<string, number>() };
    m.n++;
    if (done.has(specHash(c))) {
      m.finished++;
      total++;
      m.perDataset.set(c.dataset, (m.perDataset.get(c.dataset) ?? 0) + 1);
    }
    byModel.set(c.model, m);
  }
  if (total === 0) return '';
  const parts = [...byModel.entries()].map(([model, m]) => {
    const list = [...m.perDataset.entries()].map(([d, n]) => `${d} ×${n}`).join(', ');
    return `${model} ${m.finished}/${m.n}${list ? `: ${list}` : ''}`;
  });
  return `Finished: ${total} of ${cells.length} (${parts.join('; ')}); the rest are missing. `;
}

/** The text a notebook prints at paper scale (and in its "how to run at paper scale" cell at every scale). */
export function paperNote(
  notebook: string,
  cells: readonly RunSpec[],
  measured: readonly RunRecord[],
  extraGrids: string[] = [],
): string {
  const file = gridFile(notebook);
  const exists = fs.existsSync(path.join(kitRoot(), file));
  const cost = paperCost(cells);
  const grids = [exists ? file : undefined, ...extraGrids].filter(Boolean) as string[];
  return (
    `Paper scale: ${cells.length} run(s) of ${cellCounts('paper').steps} steps. ` +
    paperProgress(cells, measured) +
    (cost
      ? `Estimated cost ≈ ${cost.cpuHours.toFixed(0)} process-hours on this machine's backend (${cost.basis}). `
      : 'No timed runs yet to estimate the cost from. ') +
    (grids.length ? `Run with: ${grids.map((g) => `npx dmm sweep --grid ${g}`).join(' ; ')}` : '')
  );
}
