/**
 * Behaviour policies of the kit's datasets: linear maps on normalised observations (ARS V2-t, Mania et
 * al. 2018), a = clip(W·(s − μ)/σ + σ_a·ε, −1, 1) with ε ~ N(0, I). The Gaussian exploration noise
 * plays the part of D4RL's sampled (not mean) SAC actions (docs/spec.md §15.4); action_log_probs
 * records the Gaussian log-density of the sample before the clip (the clip's point masses at ±1 are
 * not accounted for; D4RL's tanh-Gaussian had none).
 */
import * as fs from 'fs';
import { check } from '../util/check';
import type { Rng } from '../util/rng';
import { ENV_DIMS } from './d4rl-ids';
import { type EnvName } from '../config/names';

export const POLICY_FORMAT = 'dmm-kit linear policy v1';

/**
 * What a linear policy acts in: a locomotion task, or 'antmaze-direction', the AntMaze controller's task, whose
 * observation is the 80 heading-frame features of ./ant-controller.ts.
 */
export type PolicyTask = EnvName | 'antmaze-direction';

export const POLICY_DIMS: Readonly<Record<PolicyTask, { observationDim: number; actionDim: number }>> = Object.freeze({
  hopper: ENV_DIMS.hopper,
  halfcheetah: ENV_DIMS.halfcheetah,
  walker2d: ENV_DIMS.walker2d,
  'antmaze-direction': { observationDim: 80, actionDim: 8 },
});

/** One snapshot of a linear policy, as committed in data/policies/*.json. */
export interface LinearPolicy {
  format: typeof POLICY_FORMAT;
  env: PolicyTask;
  /** Row-major [actionDim × observationDim]. */
  weights: number[];
  /** Observation statistics frozen at the snapshot. */
  obsMean: number[];
  obsStd: number[];
  /** Training facts: ARS iteration, environment steps and CPU seconds spent until this snapshot. */
  iteration: number;
  envSteps: number;
  cpuSeconds: number;
  /** Mean evaluation return with exploration noise (what the dataset will show), and without. */
  noisyReturn: number;
  meanReturn: number;
}

export function validatePolicy(p: LinearPolicy, where: string): LinearPolicy {
  check(
    p && p.format === POLICY_FORMAT,
    () => `Error in loadPolicy: ${where} must have format '${POLICY_FORMAT}', got '${p?.format}'.`,
  );
  const dims = POLICY_DIMS[p.env];
  check(
    dims !== undefined,
    () => `Error in loadPolicy: ${where} env must be one of ${Object.keys(POLICY_DIMS).join(', ')}, got '${p.env}'.`,
  );
  const s = dims.observationDim;
  const a = dims.actionDim;
  check(
    p.weights.length === a * s,
    () => `Error in loadPolicy: ${where} weights must have ${a}×${s} = ${a * s} numbers, got ${p.weights.length}.`,
  );
  check(
    p.obsMean.length === s && p.obsStd.length === s,
    () =>
      `Error in loadPolicy: ${where} obsMean and obsStd must have ${s} numbers, got ${p.obsMean.length} and ${p.obsStd.length}.`,
  );
  check(
    [...p.weights, ...p.obsMean, ...p.obsStd].every(Number.isFinite),
    () => `Error in loadPolicy: ${where} must hold finite numbers, got NaN or infinity.`,
  );
  return p;
}

export function loadPolicyFile(file: string): LinearPolicy {
  check(
    fs.existsSync(file),
    () =>
      `Error in loadPolicy: policy file must exist, got '${file}'. Retrain with: npx dmm data train-policies <env>.`,
  );
  return validatePolicy(JSON.parse(fs.readFileSync(file, 'utf8')) as LinearPolicy, file);
}

/** Fast evaluation form of a policy: typed arrays, no allocation per step. */
export class PolicyRunner {
  readonly s: number;
  readonly a: number;
  private readonly w: Float64Array;
  private readonly mean: Float64Array;
  private readonly invStd: Float64Array;
  private readonly z: Float64Array;

  constructor(weights: ArrayLike<number>, mean: ArrayLike<number>, std: ArrayLike<number>, actionDim: number) {
    this.s = mean.length;
    this.a = actionDim;
    this.w = Float64Array.from(weights);
    this.mean = Float64Array.from(mean);
    this.invStd = Float64Array.from(std, (v) => 1 / v);
    this.z = new Float64Array(this.s);
  }

  static of(p: LinearPolicy): PolicyRunner {
    return new PolicyRunner(p.weights, p.obsMean, p.obsStd, POLICY_DIMS[p.env].actionDim);
  }

  /** Mean action (unclipped) W·(s − μ)/σ into `out`. */
  meanAction(obs: ArrayLike<number>, out: Float64Array): void {
    const { s, a, w, z } = this;
    for (let j = 0; j < s; j++) z[j] = (obs[j] - this.mean[j]) * this.invStd[j];
    for (let i = 0; i < a; i++) {
      let acc = 0;
      for (let j = 0; j < s; j++) acc += w[i * s + j] * z[j];
      out[i] = acc;
    }
  }

  /**
   * Samples a noisy action into `out` (clipped to [−1, 1]) and returns the Gaussian log-density of the
   * unclipped sample. noiseStd 0 gives the clipped mean action and log-prob 0.
   */
  act(obs: ArrayLike<number>, out: Float64Array, noiseStd: number, rng: Rng | undefined): number {
    this.meanAction(obs, out);
    let logp = 0;
    for (let i = 0; i < this.a; i++) {
      let x = out[i];
      if (noiseStd > 0 && rng) {
        const e = rng.normal();
        x += noiseStd * e;
        logp += -0.5 * e * e - Math.log(noiseStd) - 0.5 * Math.log(2 * Math.PI);
      }
      out[i] = x < -1 ? -1 : x > 1 ? 1 : x;
    }
    return logp;
  }
}
