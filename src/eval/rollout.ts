/**
 * Return-conditioned rollouts (model-spec.md §10), batched: all episodes of every target step together,
 * one model call per environment step over the episodes still running, each target on its own VecEnv.
 *
 * Per episode, exactly as the official loop: R ← target/scale; at step t the current action slot holds
 * 0 while the model reads the last K (state, action, RTG, timestep) entries, left-padded to K; then
 * R ← R − r/scale (float32) and τ ← t+1 (clipped to maxEpLen − 1). The window is rebuilt every step
 * from the stored history: no recurrent state crosses steps (quirk 16).
 *
 * Padding (quirk 1): `official` pads states 0 (normalised space), actions 0, RTG 0, timesteps 0;
 * `train-consistent` pads as training does: states −μ/σ, actions −10. The mask is 0 on pads either way.
 */
import * as os from 'os';
import { tf } from '../backend';
import { check } from '../util/check';
import { progress as makeProgress } from '../util/progress';
import { deriveSeed } from '../util/rng';
import type { SequenceModel, VecEnvLike } from '../train/deps';
import { normalizedScore } from './targets';

export const EVAL_PADDINGS = ['official', 'train-consistent'] as const;
export type EvalPadding = (typeof EVAL_PADDINGS)[number];

export interface EvalConfig {
  targets: readonly number[];
  episodesPerTarget: number;
  /** Cap on episode length: 1000 officially (max_ep_len); the environment's time limit also applies. */
  maxEpisodeSteps: number;
  /** Timestep clip for the embedding table (max_ep_len − 1). */
  maxEpLen: number;
  returnScale: number;
  evalPadding: EvalPadding;
}

export interface TargetResult {
  target: number;
  returns: number[];
  lengths: number[];
  returnMean: number;
  returnStd: number;
  lengthMean: number;
  normalizedScore: number;
}

export interface EvaluateOptions {
  env: string;
  stateMean: ArrayLike<number>;
  stateStd: ArrayLike<number>;
  config: EvalConfig;
  /** Run seed; the env reset seed of a target is deriveSeed(seed, 'eval', target) (VecEnv derives one per episode). */
  seed: number;
  createVecEnv(env: string, n: number, opts: { seed: number; workers?: number }): Promise<VecEnvLike>;
  /** Worker threads per VecEnv; default: the cores shared among the targets from 100 episodes on, else 0 (this thread). */
  workers?: number;
  label?: string;
  silent?: boolean;
}

function meanStd(xs: number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) * (b - mean), 0) / xs.length;
  return { mean, std: Math.sqrt(variance) };
}

export async function evaluate(model: SequenceModel, opts: EvaluateOptions): Promise<TargetResult[]> {
  const { config, env } = opts;
  const { stateDim: s, actDim: a } = model.dims;
  const K = Number(model.config.contextLength);
  const E = config.episodesPerTarget;
  const targets = config.targets;
  const rows = targets.length * E;
  check(
    Number.isInteger(E) && E > 0,
    () => `Error in evaluate: episodesPerTarget must be a positive integer, got ${E}.`,
  );
  check(
    opts.stateMean.length === s && opts.stateStd.length === s,
    () =>
      `Error in evaluate: stateMean/stateStd must have ${s} entries, got ${opts.stateMean.length}/${opts.stateStd.length}.`,
  );

  const cores = os.cpus().length;
  // Worker threads pay off for the paper's 400 episodes; for a few dozen, stepping in this thread is
  // cheaper than starting workers at every evaluation.
  const workers = opts.workers ?? (rows >= 100 ? Math.max(1, Math.round(cores / targets.length)) : 0);
  const envs: VecEnvLike[] = [];
  try {
    for (const target of targets)
      envs.push(await opts.createVecEnv(env, E, { seed: deriveSeed(opts.seed, 'eval', target), workers }));
    for (const v of envs) {
      check(
        v.observationDim === s && v.actionDim === a,
        () =>
          `Error in evaluate: env ${env} must have dims ${s}/${a} like the model, got ${v.observationDim}/${v.actionDim}.`,
      );
    }

    const official = config.evalPadding === 'official';
    const padState = new Float32Array(s);
    for (let j = 0; j < s; j++) padState[j] = official ? 0 : (0 - opts.stateMean[j]) / opts.stateStd[j];
    const padAction = official ? 0 : -10;

    // Left-padded K-windows per episode; the last `filled` slots are real.
    const winS = new Float32Array(rows * K * s);
    const winA = new Float32Array(rows * K * a).fill(padAction);
    const winR = new Float32Array(rows * K);
    const winT = new Int32Array(rows * K);
    const winM = new Float32Array(rows * K);
    for (let r = 0; r < rows * K; r++) winS.set(padState, r * s);

    const returns = new Float64Array(rows);
    const lengths = new Int32Array(rows);
    const done = new Uint8Array(rows);
    const rtg = new Float32Array(rows);

    const push = (r: number, obs: Float64Array, offset: number, R: number, tau: number) => {
      // Shift the window left by one step, then write the newest entry at slot K−1.
      winS.copyWithin(r * K * s, r * K * s + s, (r + 1) * K * s);
      winA.copyWithin(r * K * a, r * K * a + a, (r + 1) * K * a);
      winR.copyWithin(r * K, r * K + 1, (r + 1) * K);
      winT.copyWithin(r * K, r * K + 1, (r + 1) * K);
      winM.copyWithin(r * K, r * K + 1, (r + 1) * K);
      const last = r * K + K - 1;
      // As the official loop: the observation becomes float32, is normalised in float64, then cast (quirk 17).
      for (let j = 0; j < s; j++)
        winS[last * s + j] = (Math.fround(obs[offset + j]) - opts.stateMean[j]) / opts.stateStd[j];
      winA.fill(0, last * a, last * a + a); // placeholder for the current action (§10)
      winR[last] = R;
      winT[last] = Math.min(tau, config.maxEpLen - 1);
      winM[last] = 1;
    };

    const firstObs = await Promise.all(envs.map((v) => v.reset()));
    for (let ti = 0; ti < targets.length; ti++) {
      for (let e = 0; e < E; e++) {
        const r = ti * E + e;
        rtg[r] = Math.fround(targets[ti] / config.returnScale);
        push(r, firstObs[ti], e * s, rtg[r], 0);
      }
    }

    const bar = makeProgress(opts.label ?? `eval ${model.name} ${env}`, config.maxEpisodeSteps, {
      silent: opts.silent,
    });
    const actions = targets.map(() => new Float32Array(E * a));
    for (let t = 0; t < config.maxEpisodeSteps; t++) {
      const active: number[] = [];
      for (let r = 0; r < rows; r++) if (!done[r]) active.push(r);
      if (active.length === 0) break;
      const B = active.length;
      const bS = new Float32Array(B * K * s);
      const bA = new Float32Array(B * K * a);
      const bR = new Float32Array(B * K);
      const bT = new Int32Array(B * K);
      const bM = new Float32Array(B * K);
      active.forEach((r, i) => {
        bS.set(winS.subarray(r * K * s, (r + 1) * K * s), i * K * s);
        bA.set(winA.subarray(r * K * a, (r + 1) * K * a), i * K * a);
        bR.set(winR.subarray(r * K, (r + 1) * K), i * K);
        bT.set(winT.subarray(r * K, (r + 1) * K), i * K);
        bM.set(winM.subarray(r * K, (r + 1) * K), i * K);
      });
      const out = tf.tidy(() => {
        const pred = model.forward(
          {
            states: tf.tensor3d(bS, [B, K, s]),
            actions: tf.tensor3d(bA, [B, K, a]),
            returnsToGo: tf.tensor3d(bR, [B, K, 1]),
            timesteps: tf.tensor2d(bT, [B, K], 'int32'),
            mask: tf.tensor2d(bM, [B, K]),
          },
          { training: false },
        );
        return pred.slice([0, K - 1, 0], [B, 1, a]).reshape([B, a]);
      });
      const act = (await out.data()) as Float32Array;
      out.dispose();
      for (const buf of actions) buf.fill(0);
      active.forEach((r, i) => {
        const ti = Math.floor(r / E);
        const e = r % E;
        for (let j = 0; j < a; j++) {
          actions[ti][e * a + j] = act[i * a + j];
          winA[(r * K + K - 1) * a + j] = act[i * a + j]; // hist_a[−1] ← a
        }
      });
      const results = await Promise.all(envs.map((v, ti) => v.step(actions[ti])));
      for (const r of active) {
        const ti = Math.floor(r / E);
        const e = r % E;
        const res = results[ti];
        const reward = res.rewards[e];
        returns[r] += reward;
        lengths[r] += 1;
        if (res.terminated[e] || res.truncated[e]) {
          done[r] = 1;
          continue;
        }
        rtg[r] = Math.fround(rtg[r] - Math.fround(reward / config.returnScale));
        push(r, res.observations, e * s, rtg[r], t + 1);
      }
      bar.tick(1, `${active.length} running`);
    }
    bar.done();

    return targets.map((target, ti) => {
      const rets = Array.from(returns.subarray(ti * E, (ti + 1) * E));
      const lens = Array.from(lengths.subarray(ti * E, (ti + 1) * E));
      const { mean, std } = meanStd(rets);
      return {
        target,
        returns: rets,
        lengths: lens,
        returnMean: mean,
        returnStd: std,
        lengthMean: meanStd(lens).mean,
        normalizedScore: normalizedScore(env, mean),
      };
    });
  } finally {
    for (const v of envs) await v.close();
  }
}
