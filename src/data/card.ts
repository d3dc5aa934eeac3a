/**
 * The dataset card: what a dataset holds, in numbers a reader can compare with D4RL's (transitions,
 * episodes, returns, normalized scores with d4rl/infos.py reference values, state statistics).
 */
import { normalizedScore, referenceScores } from './d4rl-ids';
import { type DatasetEnv } from '../config/names';
import { trajectoryLength, trajectoryReturn, type Trajectory } from './trajectories';

export interface Summary {
  mean: number;
  /** Population std. */
  std: number;
  min: number;
  max: number;
}

export interface DatasetCard {
  id: string;
  env: DatasetEnv;
  source: 'kit' | 'd4rl';
  transitions: number;
  episodes: number;
  /** Steps after the last terminal/timeout, dropped (docs/spec.md §8.1). */
  droppedSteps: number;
  terminals: number;
  timeouts: number;
  episodeLength: Summary;
  episodeReturn: Summary;
  /** 100·(R − min)/(max − min) with `referenceScores`. */
  normalizedScore: Summary;
  referenceScores: { min: number; max: number };
  stateMean: number[];
  stateStd: number[];
  checksum: string;
}

export function summarize(values: ArrayLike<number>): Summary {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN, min: NaN, max: NaN };
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    sum += values[i];
    min = Math.min(min, values[i]);
    max = Math.max(max, values[i]);
  }
  const mean = sum / n;
  let sq = 0;
  for (let i = 0; i < n; i++) sq += (values[i] - mean) ** 2;
  return { mean, std: Math.sqrt(sq / n), min, max };
}

export function buildCard(args: {
  id: string;
  env: DatasetEnv;
  source: 'kit' | 'd4rl';
  trajectories: readonly Trajectory[];
  droppedSteps: number;
  stateMean: Float64Array;
  stateStd: Float64Array;
  checksum: string;
}): DatasetCard {
  const { trajectories, env } = args;
  const lengths = trajectories.map(trajectoryLength);
  const returns = trajectories.map(trajectoryReturn);
  let terminals = 0;
  let timeouts = 0;
  for (const t of trajectories) {
    for (let i = 0; i < t.terminals.length; i++) terminals += t.terminals[i] ? 1 : 0;
    for (let i = 0; i < t.timeouts.length; i++) timeouts += t.timeouts[i] ? 1 : 0;
  }
  return {
    id: args.id,
    env,
    source: args.source,
    transitions: lengths.reduce((a, b) => a + b, 0),
    episodes: trajectories.length,
    droppedSteps: args.droppedSteps,
    terminals,
    timeouts,
    episodeLength: summarize(lengths),
    episodeReturn: summarize(returns),
    normalizedScore: summarize(returns.map((r) => normalizedScore(env, r))),
    referenceScores: { ...referenceScores(env) },
    stateMean: Array.from(args.stateMean),
    stateStd: Array.from(args.stateStd),
    checksum: args.checksum,
  };
}

/** A few lines of text for the command line and notebooks. */
export function formatCard(card: DatasetCard): string {
  const f = (s: Summary, d = 1): string =>
    `${s.mean.toFixed(d)} ± ${s.std.toFixed(d)} (min ${s.min.toFixed(d)}, max ${s.max.toFixed(d)})`;
  return [
    `${card.id} (${card.source === 'kit' ? 'kit-generated' : 'D4RL'}), sha256 ${card.checksum.slice(0, 16)}…`,
    `  transitions ${card.transitions}, episodes ${card.episodes} (${card.terminals} terminal, ${card.timeouts} timeout), dropped trailing steps ${card.droppedSteps}`,
    `  episode length ${f(card.episodeLength)}`,
    `  return         ${f(card.episodeReturn)}`,
    `  normalized     ${f(card.normalizedScore)}  [D4RL reference min ${card.referenceScores.min}, max ${card.referenceScores.max}]`,
    `  state mean     [${card.stateMean.map((v) => v.toFixed(3)).join(', ')}]`,
    `  state std      [${card.stateStd.map((v) => v.toFixed(3)).join(', ')}]`,
  ].join('\n');
}
