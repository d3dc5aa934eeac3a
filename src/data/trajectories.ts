/**
 * From transition columns to trajectories (docs/spec.md §8.1-§8.3): an episode closes after step i when
 * terminals[i] or timeouts[i]; a trailing unterminated segment is dropped. medium-expert is the expert
 * list followed by the medium list, shuffled (docs/spec.md §8.2, quirk 12). State statistics are the population
 * mean and std over all observations of the loaded trajectories, in float64, with σ + 1e-6 (docs/spec.md §8.3).
 */
import { Rng, deriveSeed } from '../util/rng';
import type { TransitionArrays } from './d4rl-file';

/** One episode; every array is a view into the file's columns (no copy). */
export interface Trajectory {
  observations: Float32Array; // [T*s]
  actions: Float32Array; // [T*a]
  rewards: Float32Array; // [T]
  terminals: Uint8Array; // [T]
  timeouts: Uint8Array; // [T]
  /** [T*s] when the file was read with its next_observations. */
  nextObservations?: Float32Array;
}

export function trajectoryLength(t: Trajectory): number {
  return t.rewards.length;
}

/** Splits at terminals or timeouts; returns the trajectories and the number of trailing steps dropped. */
export function splitTrajectories(
  a: TransitionArrays,
  observationDim: number,
  actionDim: number,
): { trajectories: Trajectory[]; droppedSteps: number } {
  const trajectories: Trajectory[] = [];
  let start = 0;
  for (let i = 0; i < a.n; i++) {
    if (!(a.terminals[i] || a.timeouts[i])) continue;
    const end = i + 1;
    trajectories.push({
      observations: a.observations.subarray(start * observationDim, end * observationDim),
      actions: a.actions.subarray(start * actionDim, end * actionDim),
      rewards: a.rewards.subarray(start, end),
      terminals: a.terminals.subarray(start, end),
      timeouts: a.timeouts.subarray(start, end),
      ...(a.nextObservations
        ? { nextObservations: a.nextObservations.subarray(start * observationDim, end * observationDim) }
        : {}),
    });
    start = end;
  }
  return { trajectories, droppedSteps: a.n - start };
}

/** medium-expert as the papers build it: expert list + medium list, then a seeded shuffle (docs/spec.md quirk 12). */
export function mediumExpertTrajectories(expert: Trajectory[], medium: Trajectory[], seed: number): Trajectory[] {
  const out = [...expert, ...medium];
  const rng = new Rng(deriveSeed(seed, 'medium-expert-shuffle'));
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Per-dimension mean and population std over every observation, float64, σ + 1e-6 (docs/spec.md §8.3). */
export function stateStatistics(
  trajectories: readonly Trajectory[],
  observationDim: number,
): { mean: Float64Array; std: Float64Array } {
  const s = observationDim;
  const sum = new Float64Array(s);
  let count = 0;
  for (const t of trajectories) {
    const o = t.observations;
    for (let i = 0; i < o.length; i += s) for (let j = 0; j < s; j++) sum[j] += o[i + j];
    count += o.length / s;
  }
  const mean = sum.map((v) => v / Math.max(count, 1));
  // Two passes (sum of squared deviations) rather than E[x²]−E[x]² for float64 accuracy.
  const sq = new Float64Array(s);
  for (const t of trajectories) {
    const o = t.observations;
    for (let i = 0; i < o.length; i += s)
      for (let j = 0; j < s; j++) {
        const d = o[i + j] - mean[j];
        sq[j] += d * d;
      }
  }
  const std = sq.map((v) => Math.sqrt(v / Math.max(count, 1)) + 1e-6);
  return { mean, std };
}

export function trajectoryReturn(t: Trajectory): number {
  let r = 0;
  for (let i = 0; i < t.rewards.length; i++) r += t.rewards[i];
  return r;
}
