/**
 * The evaluator's K-windows (docs/spec.md §10): per episode, the last K (state, action, RTG, timestep) entries,
 * left-padded to K. One home for the window rules, used by the batched evaluator (rollout.ts) and by the
 * single episode stepped from outside (episode.ts, the live explorer).
 *
 * Padding (docs/spec.md quirk 1): `official` pads states 0 (normalised space), actions 0, RTG 0, timesteps 0;
 * `train-consistent` pads as training does: states −μ/σ, actions −10. The mask is 0 on pads either way.
 */
import type { EvalConfig } from '../config/eval';

/** The window rules the evaluator config sets. */
export type WindowConfig = Pick<EvalConfig, 'evalPadding' | 'maxEpLen'>;

/** One or more windows as plain arrays: [B, K, ·] row-major. */
export interface WindowArrays {
  states: Float32Array;
  actions: Float32Array;
  returnsToGo: Float32Array;
  timesteps: Int32Array;
  mask: Float32Array;
}

/** R at the first step: target / scale, as float32 (the official loop keeps RTG in a float32 tensor). */
export function initialReturnToGo(target: number, returnScale: number): number {
  return Math.fround(target / returnScale);
}

/** R ← R − r/scale, in float32 like the official loop. */
export function nextReturnToGo(rtg: number, reward: number, returnScale: number): number {
  return Math.fround(rtg - Math.fround(reward / returnScale));
}

export class EvalWindows implements WindowArrays {
  readonly states: Float32Array;
  readonly actions: Float32Array;
  readonly returnsToGo: Float32Array;
  readonly timesteps: Int32Array;
  readonly mask: Float32Array;

  constructor(
    readonly rows: number,
    readonly K: number,
    readonly stateDim: number,
    readonly actDim: number,
    private readonly config: WindowConfig,
    private readonly stateMean: ArrayLike<number>,
    private readonly stateStd: ArrayLike<number>,
  ) {
    const s = stateDim;
    const official = config.evalPadding === 'official';
    const padState = new Float32Array(s);
    for (let j = 0; j < s; j++) padState[j] = official ? 0 : (0 - stateMean[j]) / stateStd[j];
    this.states = new Float32Array(rows * K * s);
    this.actions = new Float32Array(rows * K * actDim).fill(official ? 0 : -10);
    this.returnsToGo = new Float32Array(rows * K);
    this.timesteps = new Int32Array(rows * K);
    this.mask = new Float32Array(rows * K);
    for (let r = 0; r < rows * K; r++) this.states.set(padState, r * s);
  }

  /** Shifts row r's window left by one step and writes the newest entry (obs at `offset`) at slot K−1. */
  push(r: number, obs: ArrayLike<number>, offset: number, R: number, tau: number): void {
    const { K, stateDim: s, actDim: a } = this;
    this.states.copyWithin(r * K * s, r * K * s + s, (r + 1) * K * s);
    this.actions.copyWithin(r * K * a, r * K * a + a, (r + 1) * K * a);
    this.returnsToGo.copyWithin(r * K, r * K + 1, (r + 1) * K);
    this.timesteps.copyWithin(r * K, r * K + 1, (r + 1) * K);
    this.mask.copyWithin(r * K, r * K + 1, (r + 1) * K);
    const last = r * K + K - 1;
    // As the official loop: the observation becomes float32, is normalised in float64, then cast (docs/spec.md quirk 17).
    for (let j = 0; j < s; j++)
      this.states[last * s + j] = (Math.fround(obs[offset + j]) - this.stateMean[j]) / this.stateStd[j];
    this.actions.fill(0, last * a, last * a + a); // placeholder for the current action (docs/spec.md §10)
    this.returnsToGo[last] = R;
    this.timesteps[last] = Math.min(tau, this.config.maxEpLen - 1);
    this.mask[last] = 1;
  }

  /** hist_a[−1] ← the action the model chose for row r (read from y at yOffset). */
  setAction(r: number, y: ArrayLike<number>, yOffset: number): void {
    const { K, actDim: a } = this;
    for (let j = 0; j < a; j++) this.actions[(r * K + K - 1) * a + j] = y[yOffset + j];
  }

  /** The windows of the given rows, packed in that order. */
  gather(rows: readonly number[]): WindowArrays {
    const { K, stateDim: s, actDim: a } = this;
    const B = rows.length;
    const out: WindowArrays = {
      states: new Float32Array(B * K * s),
      actions: new Float32Array(B * K * a),
      returnsToGo: new Float32Array(B * K),
      timesteps: new Int32Array(B * K),
      mask: new Float32Array(B * K),
    };
    rows.forEach((r, i) => {
      out.states.set(this.states.subarray(r * K * s, (r + 1) * K * s), i * K * s);
      out.actions.set(this.actions.subarray(r * K * a, (r + 1) * K * a), i * K * a);
      out.returnsToGo.set(this.returnsToGo.subarray(r * K, (r + 1) * K), i * K);
      out.timesteps.set(this.timesteps.subarray(r * K, (r + 1) * K), i * K);
      out.mask.set(this.mask.subarray(r * K, (r + 1) * K), i * K);
    });
    return out;
  }
}
