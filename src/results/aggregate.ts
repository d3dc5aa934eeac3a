/**
 * Tables from run records (tables are pure functions of records), with
 * arquero: one row per run, filters, then mean ± population std over seeds per protocol (docs/spec.md §10).
 */
import * as aq from 'arquero';
import * as path from 'path';
import { meanStd, PROTOCOLS } from '../eval/protocols';
import { writeFileAtomic } from '../util/atomic';
import { checkKnownKeys } from '../util/check';
import { listRecordFiles, readRecord, type RunRecord } from './record';

/** One run as a table row. */
export interface RunRow {
  experiment: string;
  model: string;
  env: string;
  dataset: string;
  source: string;
  scale: string;
  evalPadding: string;
  /** What the spec changes from the scale's defaults: its overrides, `k=v` joined ('' = none). */
  variant: string;
  seed: number;
  status: string;
  iterations: number;
  best_official: number | null;
  final: number | null;
  backend: string;
  specHash: string;
}

export interface RowFilter {
  model?: string;
  env?: string;
  dataset?: string;
  scale?: string;
  source?: string;
  experiment?: string;
  status?: string;
}

const FILTER_KEYS = ['model', 'env', 'dataset', 'scale', 'source', 'experiment', 'status'];

/** `hiddenSize=32, iterations=2`: a run's overrides, keys sorted. */
export function variantLabel(spec: { overrides?: Record<string, unknown> }): string {
  return Object.entries(spec.overrides ?? {})
    .map(([k, v]) => `${k}=${String(v)}`)
    .sort()
    .join(', ');
}

export function recordRow(r: RunRecord): RunRow {
  return {
    experiment: r.spec.experiment,
    model: r.spec.model,
    env: r.spec.env,
    dataset: r.dataset.id,
    source: r.dataset.source,
    scale: r.spec.scale,
    evalPadding: r.spec.evalPadding,
    variant: variantLabel(r.spec),
    seed: r.seed,
    status: r.status,
    iterations: r.iterations.length,
    best_official: r.scores?.best_official ?? null,
    final: r.scores?.final ?? null,
    backend: r.backend,
    specHash: r.specHash,
  };
}

/** Reads every record under resultsDir (a corrupt one throws its one-line error). */
export function loadRows(resultsDir = 'results', experiment?: string): RunRow[] {
  return listRecordFiles(resultsDir, experiment).map((f) => recordRow(readRecord(f)));
}

/** Rows matching every given filter; `dataset` matches the id (`hopper-medium`) or the kind (`medium`). */
export function filterRows(rows: RunRow[], filter: RowFilter): RunRow[] {
  checkKnownKeys('filterRows', filter, FILTER_KEYS);
  return rows.filter((r) =>
    Object.entries(filter).every(([k, v]) => {
      if (v === undefined) return true;
      if (k === 'dataset') return r.dataset === v || r.dataset === `${r.env}-${v}`;
      return String(r[k as keyof RunRow]) === v;
    }),
  );
}

/**
 * Per (experiment, model, dataset, source, scale, evalPadding, variant): seeds, then each protocol's mean, std and
 * values. Runs that differ in anything but the seed never share a row.
 */
export function summaryTable(rows: RunRow[]): aq.ColumnTable {
  // Seed order, so the per-seed value lists read in a fixed order.
  const finished = rows.filter((r) => r.status === 'finished').sort((a, b) => a.seed - b.seed);
  if (finished.length === 0) return aq.table({});
  return (
    aq
      .from(finished)
      .groupby('experiment', 'model', 'dataset', 'source', 'scale', 'evalPadding', 'variant')
      .rollup({
        seeds: aq.op.count(),
        best_official_values: aq.op.array_agg('best_official'),
        final_values: aq.op.array_agg('final'),
        seed_list: aq.op.array_agg('seed'),
      })
      // Mean ± population std through the kit's one aggregator (eval/protocols.ts).
      .derive({
        best_official_mean: aq.escape((d: { best_official_values: number[] }) => meanStd(d.best_official_values).mean),
        best_official_std: aq.escape((d: { best_official_values: number[] }) => meanStd(d.best_official_values).std),
        final_mean: aq.escape((d: { final_values: number[] }) => meanStd(d.final_values).mean),
        final_std: aq.escape((d: { final_values: number[] }) => meanStd(d.final_values).std),
      })
      .select(
        aq.not('best_official_values', 'final_values', 'seed_list'),
        'best_official_values',
        'final_values',
        'seed_list',
      )
      .orderby('experiment', 'dataset', 'model')
  );
}

const fmt = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '–');

/** `mean ± std` over n > 1 seeds; over one seed a spread of 0.0 would read as a measurement, so `mean (n = 1)`. */
function meanCell(mean: number, std: number, n: number): string {
  return n > 1 ? `${fmt(mean)} ± ${fmt(std)}` : `${fmt(mean)} (n = ${n})`;
}

/** Markdown with `mean ± std` cells and the values per seed; labelled with the protocols' names. */
export function toMarkdown(summary: aq.ColumnTable): string {
  const objs = summary.objects() as Record<string, unknown>[];
  const head = [
    'experiment',
    'model',
    'dataset',
    'source',
    'scale',
    'eval padding',
    'variant',
    'seeds',
    ...PROTOCOLS.map((p) => `${p} (mean ± std)`),
    'values (best_official / final)',
  ];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const o of objs) {
    const pm = (p: string) => meanCell(o[`${p}_mean`] as number, o[`${p}_std`] as number, o.seeds as number);
    const vals = `${(o.best_official_values as number[]).map(fmt).join(', ')} / ${(o.final_values as number[]).map(fmt).join(', ')}`;
    lines.push(
      `| ${[o.experiment, o.model, o.dataset, o.source, o.scale, o.evalPadding, o.variant || 'none', o.seeds, ...PROTOCOLS.map(pm), vals].join(' | ')} |`,
    );
  }
  return lines.join('\n') + '\n';
}

export function toCSV(summary: aq.ColumnTable): string {
  if (summary.numRows() === 0) return '';
  const flat = summary.derive({
    best_official_values: aq.escape((d: { best_official_values: number[] }) => d.best_official_values.join(';')),
    final_values: aq.escape((d: { final_values: number[] }) => d.final_values.join(';')),
    seed_list: aq.escape((d: { seed_list: number[] }) => d.seed_list.join(';')),
  });
  return flat.toCSV() + '\n';
}

/** Writes <outDir>/<name>.csv and .md atomically; returns the paths. */
export function writeReport(summary: aq.ColumnTable, outDir: string, name = 'report'): { csv: string; md: string } {
  const csv = path.join(outDir, `${name}.csv`);
  const md = path.join(outDir, `${name}.md`);
  writeFileAtomic(csv, toCSV(summary));
  writeFileAtomic(md, toMarkdown(summary));
  return { csv, md };
}
