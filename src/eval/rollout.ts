/**
 * Return-conditioned rollouts (docs/spec.md §10), batched: all episodes of every target step together,
 * one model call per environment step over the episodes still running, each target on its own VecEnv.
 *
 * Per episode, exactly as the official loop: R ← target/scale; at step t the current action slot holds
 * 0 while the model reads the last K (state, action, RTG, timestep) entries, left-padded to K; then
 * R ← R − r/scale (float32) and τ ← t+1 (clipped to maxEpLen − 1). The window is rebuilt every step
 * from the stored history: no recurrent state crosses steps (docs/spec.md quirk 16). The windows and their
 * padding live in windows.ts.
 */
import * as os from 'os';
import { tf } from '../backend';
import { check } from '../util/check';
import { progress as makeProgress } from '../util/progress';
import { deriveSeed } from '../util/rng';
import type { Tensor } from '@tensorflow/tfjs';
import type { EvalConfig } from '../config/eval';
import { normalizedScore } from '../data/d4rl-ids';
import { meanStd } from './protocols';
import { EvalWindows, initialReturnToGo, nextReturnToGo } from './windows';
import type { VecEnvLike } from '../envs/vec-env';
import type { ModelInputs } from '../models/sequence-model';

/** What the evaluator reads of a model (every SequenceModel, and the tests' stand-ins, have it). */
export interface EvalModel {
  name: string;
  config: Readonly<Record<string, unknown>>;
  dims: { stateDim: number; actDim: number };
  forward(inputs: ModelInputs, opts: { training: false }): Tensor;
  /** The action at the last timestep, [B, actDim]; the evaluator falls back to `forward`. */
  forwardLast?(inputs: ModelInputs): Tensor;
  /**
   * The same on plain arrays ([B, K, ·] windows), without tfjs: the fused engine's path
   * (src/engine/forward.ts). Preferred when present; `largest` is the most rows a call will have.
   */
  lastActions?(
    windows: {
      states: Float32Array;
      actions: Float32Array;
      returnsToGo: Float32Array;
      mask: Float32Array;
      timesteps: Int32Array;
    },
    B: number,
    largest: number,
  ): Promise<Float32Array>;
  /** Called once the evaluation asks nothing more (a packed evaluator then stops waiting for this run). */
  evaluationDone?(): void;
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
  /** With workers, two target groups alternate while at least this many episodes run (default 64). */
  overlapMinRows?: number;
}

export async function evaluate(model: EvalModel, opts: EvaluateOptions): Promise<TargetResult[]> {
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

    const win = new EvalWindows(rows, K, s, a, config, opts.stateMean, opts.stateStd);
    const returns = new Float64Array(rows);
    const lengths = new Int32Array(rows);
    const done = new Uint8Array(rows);
    const rtg = new Float32Array(rows);

    const firstObs = await Promise.all(envs.map((v) => v.reset()));
    for (let ti = 0; ti < targets.length; ti++) {
      for (let e = 0; e < E; e++) {
        const r = ti * E + e;
        rtg[r] = initialReturnToGo(targets[ti], config.returnScale);
        win.push(r, firstObs[ti], e * s, rtg[r], 0);
      }
    }

    const bar = makeProgress(opts.label ?? `eval ${model.name} ${env}`, config.maxEpisodeSteps, {
      silent: opts.silent,
    });
    // The action at the last timestep: the model's eval-only path where it has one (same values to float32
    // round-off, less work), else the full forward's last position.
    const lastAction = (inputs: ModelInputs, B: number): Tensor =>
      model.forwardLast
        ? model.forwardLast(inputs)
        : model
            .forward(inputs, { training: false })
            .slice([0, K - 1, 0], [B, 1, a])
            .reshape([B, a]);
    /** The tfjs path of a model call: windows as tensors, the actions read back. */
    const tensorActions = async (
      bS: Float32Array,
      bA: Float32Array,
      bR: Float32Array,
      bT: Int32Array,
      bM: Float32Array,
      B: number,
    ): Promise<Float32Array> => {
      const out = tf.tidy(() =>
        lastAction(
          {
            states: tf.tensor3d(bS, [B, K, s]),
            actions: tf.tensor3d(bA, [B, K, a]),
            returnsToGo: tf.tensor3d(bR, [B, K, 1]),
            timesteps: tf.tensor2d(bT, [B, K], 'int32'),
            mask: tf.tensor2d(bM, [B, K]),
          },
          B,
        ),
      );
      const y = (await out.data()) as Float32Array;
      out.dispose();
      return y;
    };
    /** One model call over the running episodes of targets [t0, t1); writes their actions and hist_a[−1]. */
    const act = async (t0: number, t1: number, actions: Float32Array[]): Promise<number> => {
      const active: number[] = [];
      for (let r = t0 * E; r < t1 * E; r++) if (!done[r]) active.push(r);
      const B = active.length;
      if (B === 0) return 0;
      const { states: bS, actions: bA, returnsToGo: bR, timesteps: bT, mask: bM } = win.gather(active);
      const y = model.lastActions
        ? await model.lastActions({ states: bS, actions: bA, returnsToGo: bR, mask: bM, timesteps: bT }, B, rows)
        : await tensorActions(bS, bA, bR, bT, bM, B);
      for (let ti = t0; ti < t1; ti++) actions[ti].fill(0);
      active.forEach((r, i) => {
        const ti = Math.floor(r / E);
        const e = r % E;
        for (let j = 0; j < a; j++) actions[ti][e * a + j] = y[i * a + j];
        win.setAction(r, y, i * a); // hist_a[−1] ← a
      });
      return B;
    };
    /** Steps the envs of targets [t0, t1) that have running episodes, then records rewards and windows. */
    const stepEnvs = async (t0: number, t1: number, actions: Float32Array[], t: number): Promise<void> => {
      const live: number[] = [];
      for (let ti = t0; ti < t1; ti++) if (done.subarray(ti * E, (ti + 1) * E).includes(0)) live.push(ti);
      // A target whose episodes all ended is not stepped: its envs would stand still anyway (VecEnv.step).
      const results = await Promise.all(live.map((ti) => envs[ti].step(actions[ti])));
      live.forEach((ti, k) => {
        const res = results[k];
        for (let e = 0; e < E; e++) {
          const r = ti * E + e;
          if (done[r]) continue;
          const reward = res.rewards[e];
          returns[r] += reward;
          lengths[r] += 1;
          if (res.terminated[e] || res.truncated[e]) {
            done[r] = 1;
            continue;
          }
          rtg[r] = nextReturnToGo(rtg[r], reward, config.returnScale);
          win.push(r, res.observations, e * s, rtg[r], t + 1);
        }
      });
    };
    // With worker threads, the targets form two groups whose turns alternate: one group's envs step on the
    // workers while this thread runs the model on the other group. Every episode sees the same windows and
    // actions as in one call per step (rows are independent), so only float32 round-off can differ.
    // Below overlapMinRows running episodes the groups merge into one call per step: a model call's fixed
    // cost (~250 kernels) then outweighs the env time the overlap hides (about 6,400 hopper steps/s).
    const OVERLAP_MIN_ROWS = opts.overlapMinRows ?? 64;
    const half = Math.ceil(targets.length / 2);
    let groups: [number, number][] =
      workers > 0 && targets.length >= 2 && rows >= OVERLAP_MIN_ROWS
        ? [
            [0, half],
            [half, targets.length],
          ]
        : [[0, targets.length]];
    const actions = targets.map(() => new Float32Array(E * a));
    let pending: (Promise<void> | undefined)[] = groups.map(() => undefined);
    for (let t = 0; t < config.maxEpisodeSteps; t++) {
      if (groups.length > 1 && done.reduce((n, x) => n + (x ? 0 : 1), 0) < OVERLAP_MIN_ROWS) {
        await Promise.all(pending);
        groups = [[0, targets.length]];
        pending = [undefined];
      }
      let running = 0;
      for (let g = 0; g < groups.length; g++) {
        const [t0, t1] = groups[g];
        await pending[g]; // this group's previous step: its windows are complete
        const B = await act(t0, t1, actions);
        running += B;
        pending[g] = B > 0 ? stepEnvs(t0, t1, actions, t) : undefined;
      }
      if (running === 0) break;
      bar.tick(1, `${running} running`);
    }
    await Promise.all(pending);
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
    model.evaluationDone?.();
    for (const v of envs) await v.close();
  }
}
