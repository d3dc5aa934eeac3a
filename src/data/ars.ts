/**
 * Augmented Random Search, V2-t (Mania, Guy and Recht 2018): linear policies on running-normalised
 * observations, trained by finite differences along random directions, keeping the top b of N.
 * Chosen over SAC because it is single-process plain JS with no tfjs, learns Hopper in tens of
 * seconds on one core (docs/data.md, "Behaviour policies") and gives a training curve whose snapshots are
 * the medium, expert and replay behaviour policies D4RL took from SAC runs (docs/spec.md §15.4).
 *
 * The alive bonus is removed from the training signal only (as ARS does for Hopper and Walker2d), so
 * the search does not settle on standing still; evaluation returns include it.
 */
import * as fs from 'fs';
import { check } from '../util/check';
import { Rng, deriveSeed } from '../util/rng';
import { makeEnv, type Env } from '../envs';
import type { EnvName } from '../config/names';
import { POLICY_FORMAT, PolicyRunner, type LinearPolicy } from './policy';

export interface ArsConfig {
  /** N, directions per iteration. */
  directions: number;
  /** b, best directions kept. */
  topDirections: number;
  /** α, step size. */
  stepSize: number;
  /** ν, parameter noise of the directions. */
  deltaStd: number;
  /** Training rollouts stop after this many steps (evaluation always runs full 1000-step episodes). */
  horizon: number;
  /** Evaluate (and snapshot) every this many iterations. */
  evalEvery: number;
  evalEpisodes: number;
  /** Exploration noise of the behaviour policy (the data's), used by the noisy evaluation. */
  actionNoise: number;
  /** Stop after this much CPU time of the process (seconds) or this many iterations. */
  cpuBudgetSeconds: number;
  maxIterations: number;
  seed: number;
}

/** Per-task settings: N/b/α/ν from the probe that chose ARS; seeds and budgets of the committed runs (data/policies). */
export const ARS_DEFAULTS: Readonly<Record<EnvName, Readonly<ArsConfig>>> = Object.freeze({
  hopper: Object.freeze({
    directions: 8,
    topDirections: 4,
    stepSize: 0.02,
    deltaStd: 0.03,
    horizon: 1000,
    evalEvery: 1,
    evalEpisodes: 3,
    actionNoise: 0.1,
    cpuBudgetSeconds: 240,
    maxIterations: 2000,
    seed: 2,
  }),
  halfcheetah: Object.freeze({
    directions: 8,
    topDirections: 4,
    stepSize: 0.02,
    deltaStd: 0.03,
    horizon: 1000,
    evalEvery: 10,
    evalEpisodes: 2,
    actionNoise: 0.1,
    cpuBudgetSeconds: 510,
    maxIterations: 5000,
    seed: 1,
  }),
  walker2d: Object.freeze({
    directions: 8,
    topDirections: 4,
    stepSize: 0.02,
    deltaStd: 0.03,
    horizon: 1000,
    evalEvery: 10,
    evalEpisodes: 3,
    // Linear walkers fall under σ = 0.1 (noisy return 400-1700 vs 2000-2400 without noise): smaller noise.
    actionNoise: 0.03,
    cpuBudgetSeconds: 510,
    maxIterations: 5000,
    seed: 1,
  }),
});

/** Running mean and variance (Welford), merged per iteration as ARS V2 does. */
class RunningStats {
  n = 0;
  mean: Float64Array;
  m2: Float64Array;
  constructor(readonly dim: number) {
    this.mean = new Float64Array(dim);
    this.m2 = new Float64Array(dim);
  }
  push(x: ArrayLike<number>): void {
    this.n++;
    for (let j = 0; j < this.dim; j++) {
      const d = x[j] - this.mean[j];
      this.mean[j] += d / this.n;
      this.m2[j] += d * (x[j] - this.mean[j]);
    }
  }
  merge(o: RunningStats): void {
    if (o.n === 0) return;
    const n = this.n + o.n;
    for (let j = 0; j < this.dim; j++) {
      const d = o.mean[j] - this.mean[j];
      this.mean[j] += (d * o.n) / n;
      this.m2[j] += o.m2[j] + (d * d * this.n * o.n) / n;
    }
    this.n = n;
  }
  std(): Float64Array {
    // Unvisited or constant dimensions get std 1, so they pass through unscaled.
    return this.mean.map((_, j) => {
      const v = this.n > 1 ? this.m2[j] / this.n : 0;
      return v > 1e-8 ? Math.sqrt(v) : 1;
    });
  }
}

export interface RolloutResult {
  episodeReturn: number;
  shapedReturn: number;
  steps: number;
}

/** One episode of a linear policy; `stats` (if given) sees every observation. */
export function rollout(
  env: Env,
  runner: PolicyRunner,
  opts: { horizon: number; noiseStd: number; rng?: Rng; stats?: RunningStats; shift: number },
): RolloutResult {
  const obs = env.reset();
  const act = new Float64Array(env.actionDim);
  let episodeReturn = 0;
  let shapedReturn = 0;
  let steps = 0;
  for (; steps < opts.horizon; ) {
    opts.stats?.push(obs);
    runner.act(obs, act, opts.noiseStd, opts.rng);
    env.stepInto(act, 0, obs, 0);
    steps++;
    episodeReturn += env.lastReward;
    shapedReturn += env.lastReward - opts.shift;
    if (env.lastTerminated || env.lastTruncated) break;
  }
  return { episodeReturn, shapedReturn, steps };
}

export interface ArsSnapshot extends LinearPolicy {
  wallSeconds: number;
}

export interface ArsRun {
  env: EnvName;
  config: ArsConfig;
  snapshots: ArsSnapshot[];
  iterations: number;
  envSteps: number;
  cpuSeconds: number;
  wallSeconds: number;
}

const f32 = (v: ArrayLike<number>): number[] => Array.from(v, (x) => Math.fround(x));

/** Trains one linear policy by ARS V2-t and returns the evaluated snapshots (values rounded to float32). */
export async function trainArs(
  envId: EnvName,
  partial: Partial<ArsConfig> = {},
  log: (line: string) => void = () => {},
): Promise<ArsRun> {
  const config: ArsConfig = { ...ARS_DEFAULTS[envId], ...partial };
  check(
    config.topDirections <= config.directions,
    () => `Error in trainArs: topDirections must be ≤ directions, got ${config.topDirections} > ${config.directions}.`,
  );
  const env = await makeEnv(envId, { seed: deriveSeed(config.seed, 'ars-train-env') });
  const evalEnv = await makeEnv(envId, { seed: deriveSeed(config.seed, 'ars-eval-env') });
  const rng = new Rng(deriveSeed(config.seed, 'ars-directions'));
  const evalRng = new Rng(deriveSeed(config.seed, 'ars-eval-noise'));
  const s = env.observationDim;
  const a = env.actionDim;
  const shift = env.task.healthyReward;
  const w = new Float64Array(a * s);
  const stats = new RunningStats(s);
  const cpu0 = process.cpuUsage();
  const wall0 = Date.now();
  const cpuSeconds = (): number => {
    const u = process.cpuUsage(cpu0);
    return (u.user + u.system) / 1e6;
  };
  let envSteps = 0;
  const snapshots: ArsSnapshot[] = [];
  const evaluate = (iteration: number): void => {
    const mean = Float64Array.from(stats.mean);
    const std = stats.std();
    const runner = new PolicyRunner(f32(w), f32(mean), f32(std), a);
    let noisy = 0;
    for (let e = 0; e < config.evalEpisodes; e++)
      noisy += rollout(evalEnv, runner, {
        horizon: 1000,
        noiseStd: config.actionNoise,
        rng: evalRng,
        shift: 0,
      }).episodeReturn;
    const det = rollout(evalEnv, runner, { horizon: 1000, noiseStd: 0, shift: 0 }).episodeReturn;
    snapshots.push({
      format: POLICY_FORMAT,
      env: envId,
      weights: f32(w),
      obsMean: f32(mean),
      obsStd: f32(std),
      iteration,
      envSteps,
      cpuSeconds: Math.round(cpuSeconds() * 10) / 10,
      wallSeconds: Math.round((Date.now() - wall0) / 100) / 10,
      noisyReturn: noisy / config.evalEpisodes,
      meanReturn: det,
    });
    log(
      `${envId} it ${iteration} steps ${envSteps} cpu ${cpuSeconds().toFixed(0)}s noisy ${(noisy / config.evalEpisodes).toFixed(0)} mean-action ${det.toFixed(0)}`,
    );
  };

  const deltas = Array.from({ length: config.directions }, () => new Float64Array(a * s));
  const plus = new Float64Array(config.directions);
  const minus = new Float64Array(config.directions);
  let iteration = 0;
  // DMM_ARS_STOP=<file>: training ends at the next iteration once the file exists (a shared machine's
  // deadline), keeping everything reached so far.
  const stopFile = process.env.DMM_ARS_STOP;
  const stopped = (): boolean => stopFile !== undefined && stopFile !== '' && fs.existsSync(stopFile);
  for (; iteration < config.maxIterations && cpuSeconds() < config.cpuBudgetSeconds && !stopped(); iteration++) {
    if (iteration % config.evalEvery === 0) evaluate(iteration);
    const mean = Float64Array.from(stats.mean);
    const std = stats.std();
    const fresh = new RunningStats(s);
    const trial = new Float64Array(a * s);
    for (let k = 0; k < config.directions; k++) {
      const d = deltas[k];
      for (let i = 0; i < d.length; i++) d[i] = rng.normal();
      for (const sign of [1, -1]) {
        for (let i = 0; i < trial.length; i++) trial[i] = w[i] + sign * config.deltaStd * d[i];
        const r = rollout(env, new PolicyRunner(trial, mean, std, a), {
          horizon: config.horizon,
          noiseStd: 0,
          stats: fresh,
          shift,
        });
        envSteps += r.steps;
        (sign > 0 ? plus : minus)[k] = r.shapedReturn;
      }
    }
    // Keep the b directions with the largest max(r+, r−); step along Σ (r+ − r−) δ / (b σ_R).
    const order = Array.from({ length: config.directions }, (_, k) => k).sort(
      (x, y) => Math.max(plus[y], minus[y]) - Math.max(plus[x], minus[x]) || x - y,
    );
    const top = order.slice(0, config.topDirections);
    const used = top.flatMap((k) => [plus[k], minus[k]]);
    const mu = used.reduce((p, q) => p + q, 0) / used.length;
    const sigmaR = Math.sqrt(used.reduce((p, q) => p + (q - mu) ** 2, 0) / used.length) || 1;
    for (const k of top) {
      const c = (config.stepSize / (config.topDirections * sigmaR)) * (plus[k] - minus[k]);
      const d = deltas[k];
      for (let i = 0; i < w.length; i++) w[i] += c * d[i];
    }
    stats.merge(fresh);
  }
  evaluate(iteration);
  env.close();
  evalEnv.close();
  return {
    env: envId,
    config,
    snapshots,
    iterations: iteration,
    envSteps,
    cpuSeconds: cpuSeconds(),
    wallSeconds: (Date.now() - wall0) / 1000,
  };
}
