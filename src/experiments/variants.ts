/** Shared drawing for the ablation notebooks (08, 09): one horizontal bar per variant, grouped. */
import { meanStd } from '../eval/protocols';
import type { Data } from '../figures';
import type { RunRecord } from '../results/record';
import type { RunSpec } from '../config/run-spec';
import { budgetFor } from '../config/budget';
import { runCells, type CellOutcome, type CellsReport } from './cells';
import { finished, fmt, markdownTable, runsMeta, seedErrorBars } from './report';
import type { Variant } from './plan';

export interface VariantScore {
  group: string;
  label: string;
  best: { mean: number; std: number; n: number };
  final: { mean: number; std: number; n: number };
  parameters?: number;
  failed?: string;
}

export function variantScores(items: readonly { variant: Variant; outcome: CellOutcome }[]): VariantScore[] {
  const byLabel = new Map<string, { variant: Variant; recs: RunRecord[]; failed?: string }>();
  for (const { variant, outcome } of items) {
    const key = `${variant.group}|${variant.label}`;
    const e = byLabel.get(key) ?? { variant, recs: [] };
    if (outcome.record) e.recs.push(outcome.record);
    else e.failed = outcome.error;
    byLabel.set(key, e);
  }
  return [...byLabel.values()].map(({ variant, recs, failed }) => ({
    group: variant.group,
    label: variant.label,
    best: meanStd(recs.map((r) => r.scores!.best_official)),
    final: meanStd(recs.map((r) => r.scores!.final)),
    parameters: recs[0]?.parameterCount,
    failed,
  }));
}

export function variantBars(scores: readonly VariantScore[]): Data[] {
  const y = scores.map((s) => `${s.group}: ${s.label}`);
  return [
    {
      type: 'bar',
      orientation: 'h',
      name: 'best_official',
      y,
      x: scores.map((s) => (s.best.n ? s.best.mean : null)),
      error_x: seedErrorBars(scores.map((s) => s.best)),
    } as Data,
    {
      type: 'bar',
      orientation: 'h',
      name: 'final',
      y,
      x: scores.map((s) => (s.final.n ? s.final.mean : null)),
      error_x: seedErrorBars(scores.map((s) => s.final)),
    } as Data,
  ];
}

export function variantTable(scores: readonly VariantScore[]): string {
  return markdownTable(
    ['group', 'variant', 'parameters', 'best_official', 'final', 'seeds'],
    scores.map((s) => [
      s.group,
      s.label,
      s.parameters?.toLocaleString('en-US') ?? '–',
      s.best.n ? fmt(s.best.mean) : s.failed ? `failed: ${s.failed.slice(0, 80)}` : '–',
      s.final.n ? fmt(s.final.mean) : '–',
      s.best.n,
    ]),
  );
}

/** "variant X differs from the default by +d points" lines, relative to the first variant of each group. */
export function variantDeltas(scores: readonly VariantScore[], reference: VariantScore | undefined): string[] {
  if (!reference || !reference.best.n) return [];
  return scores
    .filter((s) => s !== reference && s.best.n)
    .map(
      (s) => `${s.label} ${s.best.mean - reference.best.mean >= 0 ? '+' : ''}${fmt(s.best.mean - reference.best.mean)}`,
    );
}

/** Train (or read) the variants' cells: what notebooks 08 and 09 run. */
export function runVariants(scale: string, plan: readonly { variant: Variant; cell: RunSpec }[]): Promise<CellsReport> {
  return runCells(
    plan.map((p) => p.cell),
    { scale, workers: budgetFor(scale).workers },
  );
}

/**
 * What notebooks 08 and 09 draw from the variants' records (`cells`, in the plan's order): their scores and one
 * bar per variant. A pure function of the records.
 */
export function variantStudy(
  scale: string,
  plan: readonly { variant: Variant; cell: RunSpec }[],
  cells: CellsReport,
  figure: { name: string; title: string; baseHeight: number; caption: (records: RunRecord[]) => string },
) {
  const records = finished(cells);
  const scores = variantScores(plan.map((p, i) => ({ variant: p.variant, outcome: cells.outcomes[i] })));
  return {
    cells,
    records,
    scores,
    figure: {
      name: figure.name,
      notebook: figure.name,
      scale,
      ...runsMeta(records, scale),
      data: variantBars(scores),
      layout: {
        title: { text: figure.title },
        barmode: 'group' as const,
        xaxis: { title: { text: 'normalised score' } },
        yaxis: { automargin: true, autorange: 'reversed' as const },
        margin: { l: 260 },
      },
      width: 900,
      height: figure.baseHeight + 40 * scores.length,
      caption: figure.caption(records),
    },
  };
}
