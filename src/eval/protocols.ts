/**
 * The two reporting protocols of docs/spec.md §10 (quirk 3), on the (iteration × target) matrix of
 * normalised scores of one run, and their aggregation across seeds.
 *   best_official: max over evaluations of (max over targets of the mean normalised score), floored at 0;
 *   final:         the last evaluation at the environment's primary target.
 */
import { check } from '../util/check';

export const PROTOCOLS = ['best_official', 'final'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** One run's evaluations: scores[i][j] is iteration i, target targets[j]. */
export interface ScoreMatrix {
  targets: readonly number[];
  scores: readonly (readonly number[])[];
}

export function bestOfficial(m: ScoreMatrix): number {
  let best = 0; // "starting from 0, so it is never negative"
  for (const row of m.scores) for (const v of row) if (v > best) best = v;
  return best;
}

/** DMa-style companion: per target, the max over evaluations (not floored). */
export function bestPerTarget(m: ScoreMatrix): Record<string, number> {
  const out: Record<string, number> = {};
  m.targets.forEach((t, j) => {
    out[String(t)] = Math.max(...m.scores.map((row) => row[j]));
  });
  return out;
}

export function finalScore(m: ScoreMatrix, primary: number): number {
  check(m.scores.length > 0, () => 'Error in finalScore: the run must have at least one evaluation, got none.');
  const j = m.targets.indexOf(primary);
  check(
    j >= 0,
    () => `Error in finalScore: targets must include the primary target ${primary}, got [${m.targets.join(', ')}].`,
  );
  return m.scores[m.scores.length - 1][j];
}

/** Mean ± population std, with the values. */
export interface MeanStd {
  mean: number;
  std: number;
  n: number;
  values: number[];
}

/**
 * The kit's one aggregator: mean and population std (docs/spec.md §10 "Across seeds": over a run's seeds; the evaluator
 * uses it over a target's episodes). No values give NaN, so tables show a dash rather than a zero.
 */
export function meanStd(values: readonly number[]): MeanStd {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) * (b - mean), 0) / n);
  return { mean, std, n, values: values.slice() };
}
