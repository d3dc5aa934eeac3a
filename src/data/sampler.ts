/**
 * DT-style training batches (docs/spec.md §8.4-§8.8), the `get_batch` of the official code:
 * - trajectory i with probability T_i / ΣT_j, with replacement; start si ~ UniformInt[0, T_i − 1];
 *   the window [si, si+K) is cut at the trajectory's end (tlen ≤ K) and left-padded to K;
 * - returns-to-go: reverse cumulative sum with γ = 1 in float32 over the whole trajectory (equal to the
 *   official cumsum over r[si:]), 0 past the end, ÷ returnScale; pads 0;
 * - states: (s − μ)/σ in float64 then float32; pads are 0 in raw space, so −μ/σ after normalisation;
 * - actions pad −10, timesteps pad 0 and clipped to maxEpLen − 1, mask 0 on pads and 1 on real steps.
 * Evaluation pads differently (zeros); that lives with the evaluator, not here (docs/spec.md quirk 1).
 */
import { check, checkKnownKeys } from '../util/check';
import { Rng, type RngState } from '../util/rng';
import type { Trajectory } from './trajectories';

export interface SamplerConfig {
  /** K, the window length. */
  contextLength: number;
  batchSize: number;
  /** Divides returns-to-go: 1000 for MuJoCo (docs/spec.md §8.9). */
  returnScale: number;
  /** Timesteps ≥ maxEpLen are clipped to maxEpLen − 1 (docs/spec.md §8.7). */
  maxEpLen: number;
  seed: number;
  /** %BC filter (docs/spec.md §8.4): keep the best trajectories up to this fraction of the steps. 1 keeps all. */
  pctTraj: number;
}

export const SAMPLER_DEFAULTS: Readonly<Omit<SamplerConfig, 'contextLength' | 'seed'>> = Object.freeze({
  batchSize: 64,
  returnScale: 1000,
  maxEpLen: 1000,
  pctTraj: 1,
});

export function resolveSamplerConfig(partial: Partial<SamplerConfig>): Readonly<SamplerConfig> {
  checkKnownKeys('BatchSampler', partial, ['contextLength', 'batchSize', 'returnScale', 'maxEpLen', 'seed', 'pctTraj']);
  const c = { ...SAMPLER_DEFAULTS, seed: 0, ...partial } as SamplerConfig;
  const int = (key: keyof SamplerConfig, min: number): void =>
    check(
      Number.isInteger(c[key]) && c[key] >= min,
      () => `Error in BatchSampler: ${key} must be an integer ≥ ${min}, got ${c[key]}.`,
    );
  check(
    partial.contextLength !== undefined,
    () => 'Error in BatchSampler: contextLength must be given (8 for DMM and DC, 20 for DT and DMa), got undefined.',
  );
  int('contextLength', 1);
  int('batchSize', 1);
  int('maxEpLen', 1);
  int('seed', -(2 ** 31));
  check(
    Number.isFinite(c.returnScale) && c.returnScale > 0,
    () => `Error in BatchSampler: returnScale must be a positive number, got ${c.returnScale}.`,
  );
  check(c.pctTraj > 0 && c.pctTraj <= 1, () => `Error in BatchSampler: pctTraj must be in (0, 1], got ${c.pctTraj}.`);
  return Object.freeze(c);
}

export interface Batch {
  states: Float32Array; // [B*K*s], normalised
  actions: Float32Array; // [B*K*a]
  returnsToGo: Float32Array; // [B*K], scaled
  timesteps: Int32Array; // [B*K]
  mask: Float32Array; // [B*K], 1 = real step
}

export interface SamplerState {
  rng: RngState;
  batches: number;
}

/** What the sampler needs of a dataset (a `Dataset` fits). */
export interface SamplerSource {
  trajectories: readonly Trajectory[];
  stateMean: Float64Array;
  stateStd: Float64Array;
}

export class BatchSampler {
  readonly config: Readonly<SamplerConfig>;
  readonly stateDim: number;
  readonly actionDim: number;
  private readonly rng: Rng;
  private batches = 0;
  private readonly kept: Trajectory[];
  private readonly cumulative: Float64Array; // cumulative[i] = Σ_{j≤i} T_j
  private readonly normStates: Float32Array[]; // per kept trajectory, (s − μ)/σ
  private readonly rtg: Float32Array[]; // per kept trajectory, float32 reverse cumsum
  private readonly statePad: Float32Array; // −μ/σ

  constructor(source: SamplerSource, options: Partial<SamplerConfig>) {
    this.config = resolveSamplerConfig(options);
    const { stateMean: mu, stateStd: sigma } = source;
    const s = mu.length;
    this.stateDim = s;
    check(
      source.trajectories.length > 0,
      () => 'Error in BatchSampler: the dataset must hold at least one trajectory, got 0.',
    );
    const first = source.trajectories[0];
    this.actionDim = first.actions.length / first.rewards.length;
    this.kept = filterByReturn(source.trajectories, this.config.pctTraj);
    this.cumulative = new Float64Array(this.kept.length);
    let total = 0;
    this.kept.forEach((t, i) => (this.cumulative[i] = total += t.rewards.length));
    this.statePad = Float32Array.from(mu, (m, j) => (0 - m) / sigma[j]);
    this.normStates = this.kept.map((t) => {
      const o = t.observations;
      const out = new Float32Array(o.length);
      for (let i = 0; i < o.length; i += s) for (let j = 0; j < s; j++) out[i + j] = (o[i + j] - mu[j]) / sigma[j];
      return out;
    });
    this.rtg = this.kept.map((t) => returnsToGo(t.rewards));
    this.rng = new Rng(this.config.seed);
  }

  /** Number of trajectories after the %BC filter. */
  get trajectoryCount(): number {
    return this.kept.length;
  }

  /** A fresh batch: newBatch() filled by sampleInto. */
  sample(): Batch {
    const out = this.newBatch();
    this.sampleInto(out);
    return out;
  }

  /** Arrays of one batch's shape, for sampleInto. */
  newBatch(): Batch {
    const { batchSize: B, contextLength: K } = this.config;
    return {
      states: new Float32Array(B * K * this.stateDim),
      actions: new Float32Array(B * K * this.actionDim),
      returnsToGo: new Float32Array(B * K),
      timesteps: new Int32Array(B * K),
      mask: new Float32Array(B * K),
    };
  }

  /**
   * The next batch written over `out` (every element of it), so a training loop can reuse its arrays: the
   * same numbers sample() returns, without allocating.
   */
  sampleInto(out: Batch): void {
    const { batchSize: B, contextLength: K, returnScale, maxEpLen } = this.config;
    const s = this.stateDim;
    const a = this.actionDim;
    const { states, actions, returnsToGo, timesteps, mask } = out;
    const total = this.cumulative[this.cumulative.length - 1];
    for (let b = 0; b < B; b++) {
      const i = this.pickTrajectory(this.rng.int(total));
      const t = this.kept[i];
      const T = t.rewards.length;
      const si = this.rng.int(T);
      const tlen = Math.min(K, T - si);
      const pad = K - tlen;
      const row = b * K;
      for (let k = 0; k < pad; k++) {
        states.set(this.statePad, (row + k) * s);
        actions.fill(-10, (row + k) * a, (row + k + 1) * a);
        returnsToGo[row + k] = 0;
        timesteps[row + k] = 0;
        mask[row + k] = 0;
      }
      states.set(this.normStates[i].subarray(si * s, (si + tlen) * s), (row + pad) * s);
      actions.set(t.actions.subarray(si * a, (si + tlen) * a), (row + pad) * a);
      const rtg = this.rtg[i];
      for (let k = 0; k < tlen; k++) {
        returnsToGo[row + pad + k] = rtg[si + k] / returnScale;
        timesteps[row + pad + k] = Math.min(si + k, maxEpLen - 1);
        mask[row + pad + k] = 1;
      }
    }
    this.batches++;
  }

  getState(): SamplerState {
    return { rng: this.rng.getState(), batches: this.batches };
  }

  setState(state: SamplerState): void {
    check(
      Array.isArray(state?.rng) && state.rng.length === 4,
      () =>
        `Error in BatchSampler.setState: state.rng must be four 32-bit words from getState(), got ${JSON.stringify(state?.rng)}.`,
    );
    this.rng.setState(state.rng);
    this.batches = state.batches;
  }

  /** Smallest i with cumulative[i] > x: trajectory i holds global step x. */
  private pickTrajectory(x: number): number {
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cumulative[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/** G_t = Σ_{t′≥t} r_t′, accumulated in float32 from the end, as numpy's discount_cumsum does (docs/spec.md §8.6, quirk 17). */
export function returnsToGo(rewards: Float32Array): Float32Array {
  const out = new Float32Array(rewards.length);
  let acc = 0;
  for (let t = rewards.length - 1; t >= 0; t--) out[t] = acc = Math.fround(rewards[t] + acc);
  return out;
}

/** %BC (docs/spec.md §8.4): sort by return, keep the best, then the next best while the kept length stays ≤ ⌊pct·total⌋. */
function filterByReturn(trajectories: readonly Trajectory[], pct: number): Trajectory[] {
  if (pct >= 1) return [...trajectories];
  const total = trajectories.reduce((n, t) => n + t.rewards.length, 0);
  const budget = Math.floor(pct * total);
  const sum = (t: Trajectory): number => t.rewards.reduce((p, q) => p + q, 0);
  const order = trajectories.map((t, i) => ({ i, r: sum(t) })).sort((x, y) => y.r - x.r);
  const kept = [trajectories[order[0].i]];
  let used = trajectories[order[0].i].rewards.length;
  for (let k = 1; k < order.length; k++) {
    const t = trajectories[order[k].i];
    if (used + t.rewards.length > budget) break;
    kept.push(t);
    used += t.rewards.length;
  }
  return kept;
}
