/**
 * One return-conditioned evaluation episode (docs/spec.md §10) stepped from outside, one action at a time: the
 * batched evaluator's windows (windows.ts) on one environment. The live explorer steps it in the browser, and
 * its test steps it in Node; for the same env seed and target it plays the episode `evaluate` plays.
 *
 * Use: `window()` is what the model reads at the current step (the current action slot holds 0); the caller
 * runs the model and passes the action at the last position to `step(action)`.
 */
import { check } from '../util/check';
import type { EvalConfig } from '../config/eval';
import type { MujocoEnv, StepResult } from '../envs/env';
import { EvalWindows, initialReturnToGo, nextReturnToGo, type WindowArrays } from './windows';

export interface EpisodeOptions {
  /** RTG target in raw return units. */
  target: number;
  /** Reset seed: the env's noise stream restarts from it (what VecEnv gives episode e: envSeed(seed, e)). */
  seed: number;
  K: number;
  stateMean: ArrayLike<number>;
  stateStd: ArrayLike<number>;
  config: Pick<EvalConfig, 'evalPadding' | 'maxEpLen' | 'returnScale' | 'maxEpisodeSteps'>;
}

export class EvalEpisode {
  private readonly windows: EvalWindows;
  /** Steps taken. */
  t = 0;
  episodeReturn = 0;
  /** RTG at the current step (scaled, float32). */
  returnToGo: number;
  done = false;
  terminated = false;
  truncated = false;

  constructor(
    readonly env: MujocoEnv,
    readonly opts: EpisodeOptions,
  ) {
    const { K, config } = opts;
    check(Number.isInteger(K) && K >= 1, () => `Error in EvalEpisode: K must be a positive integer, got ${K}.`);
    this.windows = new EvalWindows(1, K, env.observationDim, env.actionDim, config, opts.stateMean, opts.stateStd);
    env.reseed(opts.seed);
    const obs = env.reset();
    this.returnToGo = initialReturnToGo(opts.target, config.returnScale);
    this.windows.push(0, obs, 0, this.returnToGo, 0);
  }

  /** The window the model reads now: [1, K, ·]. Copies, so the caller may keep it. */
  window(): WindowArrays {
    return this.windows.gather([0]);
  }

  /** Plays `action` (the model's output at the last position): records it, steps the env, moves the window on. */
  step(action: ArrayLike<number>): StepResult {
    check(
      !this.done,
      () => 'Error in EvalEpisode.step: the episode must be running, got one that ended. Start a new one.',
    );
    const { config } = this.opts;
    this.windows.setAction(0, action, 0); // hist_a[−1] ← a
    const r = this.env.step(action);
    this.episodeReturn += r.reward;
    this.t++;
    this.terminated = r.terminated;
    this.truncated = r.truncated || (!r.terminated && this.t >= config.maxEpisodeSteps);
    this.done = this.terminated || this.truncated;
    if (!this.done) {
      this.returnToGo = nextReturnToGo(this.returnToGo, r.reward, config.returnScale);
      this.windows.push(0, r.observation, 0, this.returnToGo, this.t);
    }
    return r;
  }
}
