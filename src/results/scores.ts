/**
 * A run's scores from the episodes its record keeps. A record stores every evaluation's return of every episode
 * of every RTG target (iteration × target × episode), so both protocols of docs/spec.md §10 (`best_official`,
 * `final`), and any other, are recomputed from the record alone, without rerunning. Training writes its record's
 * `scores` through this function too (src/train/run.ts), so stored and recomputed scores cannot drift apart.
 */
import { normalizedScore } from '../data/d4rl-ids';
import { primaryTarget } from '../config/presets';
import { bestOfficial, bestPerTarget, finalScore, meanStd, type ScoreMatrix } from '../eval/protocols';
import { check } from '../util/check';
import type { RunRecord } from './record';

/**
 * The (iteration × target) matrix of D4RL-normalised scores, each the normalised mean return over the target's
 * episodes (docs/spec.md §10), rebuilt from the per-episode returns. Throws one line naming the iteration and
 * target whose episodes are missing or not finite, or fewer than the evaluator's `episodesPerTarget`.
 */
export function episodeScoreMatrix(record: RunRecord): ScoreMatrix {
  const fn = 'episodeScoreMatrix';
  const targets = record.config.eval.targets as number[] | undefined;
  const episodes = record.config.eval.episodesPerTarget as number | undefined;
  const label = `${record.spec.model} ${record.spec.dataset} s${record.seed} (${record.specHash.slice(0, 12)})`;
  check(
    Array.isArray(targets) && targets.length > 0,
    () => `Error in ${fn}: the record of ${label} must name its RTG targets in config.eval.targets, got none.`,
  );
  check(
    Number.isInteger(episodes) && episodes! > 0,
    () => `Error in ${fn}: the record of ${label} must give config.eval.episodesPerTarget, got ${String(episodes)}.`,
  );
  const scores = record.iterations.map((it) => {
    check(
      it.targets.length === targets.length && it.targets.every((t, j) => t.target === targets[j]),
      () =>
        `Error in ${fn}: iteration ${it.iteration} of ${label} must evaluate the targets [${targets.join(', ')}], got [${it.targets.map((t) => t.target).join(', ')}].`,
    );
    return it.targets.map((t) => {
      const returns: unknown = t.returns;
      check(
        Array.isArray(returns) &&
          returns.length === episodes &&
          returns.every((r) => typeof r === 'number' && Number.isFinite(r)),
        () =>
          `Error in ${fn}: iteration ${it.iteration}, target ${t.target} of ${label} must keep its ${episodes} per-episode returns, got ${Array.isArray(returns) ? `${returns.length} value(s)` : 'none'}. Rerun the cell to record them.`,
      );
      return normalizedScore(record.spec.env, meanStd(returns as number[]).mean);
    });
  });
  return { targets, scores };
}

/** Both protocols of docs/spec.md §10 and the per-target bests, from the record's episodes (undefined before any evaluation). */
export function scoresFromEpisodes(record: RunRecord): RunRecord['scores'] {
  if (record.iterations.length === 0) return undefined;
  const m = episodeScoreMatrix(record);
  return {
    best_official: bestOfficial(m),
    final: finalScore(m, primaryTarget(record.spec.env)),
    bestPerTarget: bestPerTarget(m),
  };
}
