/**
 * Augmented Random Search, V2-t (Mania, Guy and Recht 2018): linear policies on running-normalised
 * observations, trained by finite differences along random directions, keeping the top b of N.
 * Chosen over SAC because it is plain JS with no tfjs, learns Hopper in tens of seconds on one core
 * (docs/data.md, "Behaviour policies") and gives a training curve whose snapshots are the medium and
 * expert behaviour policies D4RL took from SAC runs, and whose rollouts are the learner's own experience
 * (medium-replay, docs/spec.md §15.4).
 *
 * Every random draw is seeded by its place in the run: direction δ_{t,k} by (seed, t, k), the reset noise
 * of rollout (t, k, ±) by (seed, t, k, ±), each evaluation episode by (seed, t, e). So
 * - the rollouts of one iteration can run in any order, on any number of worker threads, with the same
 *   result (observation statistics are merged in rollout order);
 * - one rollout can be replayed on its own from the iteration's record (`ArsIteration`), which is how
 *   medium-replay is generated without storing transitions (src/data/generate.ts);
 * - a run resumes exactly from a checkpoint.
 *
 * The alive bonus is removed from the training signal only (as ARS does for Hopper and Walker2d), so
 * the search does not settle on standing still; evaluation returns include it.
 */
import * as fs from 'fs';
import { stableStringify, writeJsonAtomic } from '../util/atomic';
import { check } from '../util/check';
import { Rng, deriveSeed } from '../util/rng';
import { POLICY_FORMAT, PolicyRunner, type LinearPolicy, type PolicyTask } from './policy';
import {
  RolloutPool,
  RunningStats,
  direction,
  makeArsEnv,
  rollout,
  type ArsEnv,
  type RolloutJob,
  type RolloutOutcome,
} from './ars-workers';

export {
  RunningStats,
  direction,
  makeArsEnv,
  rollout,
  rolloutSeed,
  trialWeights,
  type ArsEnv,
  type RolloutResult,
} from './ars-workers';

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
  /** Stop after this much CPU time of the main thread and its workers (seconds) or this many iterations. */
  cpuBudgetSeconds: number;
  maxIterations: number;
  seed: number;
}

/**
 * Per-task settings: N/b/α/ν are the ARS paper's V2-t values for HalfCheetah (its Table 9); Hopper's
 * N = 32, b = 8, because with N = 8 ARS reaches D4RL's medium score within about 0.1 M steps, less
 * experience than medium-replay's 402,000 transitions; Walker2d's, see there.
 */
export const ARS_DEFAULTS: Readonly<Record<PolicyTask, Readonly<ArsConfig>>> = Object.freeze({
  hopper: Object.freeze({
    directions: 32,
    topDirections: 8,
    stepSize: 0.02,
    deltaStd: 0.03,
    horizon: 1000,
    evalEvery: 1,
    evalEpisodes: 3,
    actionNoise: 0.1,
    cpuBudgetSeconds: 600,
    maxIterations: 2000,
    seed: 2,
  }),
  halfcheetah: Object.freeze({
    directions: 32,
    topDirections: 4,
    stepSize: 0.02,
    deltaStd: 0.03,
    horizon: 1000,
    evalEvery: 5,
    evalEpisodes: 3,
    // Linear cheetahs fall under σ = 0.1 too: the 16-core run's snapshots of return 7,000 score 10-40
    // normalized with it, 55-60 with σ = 0.03 (its best under σ = 0.1 was 47).
    actionNoise: 0.03,
    cpuBudgetSeconds: 3600,
    maxIterations: 5000,
    seed: 1,
  }),
  walker2d: Object.freeze({
    // The paper's 40 / 30 / 0.03 / 0.025 reached only 578 in 4.3 M steps here (977 CPU s, seed 1);
    // 8 / 4 / 0.02 / 0.03 reached about 2,000 in 2.5 M steps (the kit's first policies).
    directions: 8,
    topDirections: 4,
    stepSize: 0.02,
    deltaStd: 0.03,
    horizon: 1000,
    evalEvery: 5,
    evalEpisodes: 3,
    // Linear walkers fall under σ = 0.1 (noisy return 400-1700 vs 2000-2400 without noise): smaller noise.
    actionNoise: 0.03,
    cpuBudgetSeconds: 3600,
    maxIterations: 5000,
    seed: 1,
  }),
  'antmaze-direction': Object.freeze({
    // The ARS paper's Ant-v1 V2-t values (N 60, b 20, α 0.015, ν 0.025) at about half the directions; rollouts
    // of 300 steps see three directions (./ant-controller.ts). Evaluation uses D4RL's data noise, σ 0.2.
    directions: 32,
    topDirections: 16,
    stepSize: 0.015,
    deltaStd: 0.025,
    horizon: 300,
    evalEvery: 5,
    evalEpisodes: 3,
    actionNoise: 0.2,
    cpuBudgetSeconds: 3600,
    maxIterations: 2000,
    seed: 1,
  }),
});

/**
 * One training iteration as recorded for replay: enough to rebuild its weights (from the kept directions
 * and their coefficients) and to rerun any of its rollouts.
 */
export interface ArsIteration {
  /** Steps of each rollout in run order: direction 0 +, 0 −, 1 +, 1 −, … */
  steps: number[];
  /** The b kept directions and their coefficients c_k of the update w ← w + Σ c_k δ_k. */
  top: number[];
  coef: number[];
  /** Observation statistics every rollout of the iteration used (float32 values). */
  obsMean: number[];
  obsStd: number[];
}

/** Applies iteration `it`'s update to `w` in place (training and replay share it, so they agree exactly). */
export function applyUpdate(w: Float64Array, it: ArsIteration, seed: number, iteration: number): void {
  it.top.forEach((k, j) => {
    const d = direction(seed, iteration, k, w.length);
    const c = it.coef[j];
    for (let i = 0; i < w.length; i++) w[i] += c * d[i];
  });
}

export interface ArsSnapshot extends LinearPolicy {
  wallSeconds: number;
}

export interface ArsRun {
  env: PolicyTask;
  config: ArsConfig;
  snapshots: ArsSnapshot[];
  /** Every iteration run, in order. */
  records: ArsIteration[];
  iterations: number;
  envSteps: number;
  cpuSeconds: number;
  wallSeconds: number;
}

/** What a checkpoint holds: the whole state of a run between two iterations. */
interface ArsCheckpoint {
  format: 'dmm-kit ars checkpoint v1';
  env: PolicyTask;
  config: ArsConfig;
  iteration: number;
  w: number[];
  stats: { n: number; mean: number[]; m2: number[] };
  envSteps: number;
  cpuSeconds: number;
  wallSeconds: number;
  snapshots: ArsSnapshot[];
  records: ArsIteration[];
}

export interface ArsOptions {
  /** Worker threads for the rollouts (0: in this thread). The result does not depend on it. */
  workers?: number;
  /** Resume from and save to this file (every `checkpointSeconds` of wall time and at the end). */
  checkpointFile?: string;
  checkpointSeconds?: number;
  log?: (line: string) => void;
}

const f32 = (v: ArrayLike<number>): number[] => Array.from(v, (x) => Math.fround(x));

function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** The mean return of iteration `iteration`'s evaluation episodes with the data's action noise. */
function noisyReturn(evalEnv: ArsEnv, runner: PolicyRunner, config: ArsConfig, iteration: number): number {
  let sum = 0;
  for (let e = 0; e < config.evalEpisodes; e++) {
    evalEnv.reseed(deriveSeed(config.seed, 'ars-eval', iteration, e));
    const rng = new Rng(deriveSeed(config.seed, 'ars-eval-noise', iteration, e));
    sum += rollout(evalEnv, runner, { horizon: 1000, noiseStd: config.actionNoise, rng, shift: 0 }).episodeReturn;
  }
  return sum / config.evalEpisodes;
}

/** Trains one linear policy by ARS V2-t and returns the evaluated snapshots and the iteration records. */
export async function trainArs(
  envId: PolicyTask,
  partial: Partial<ArsConfig> = {},
  options: ArsOptions = {},
): Promise<ArsRun> {
  const config: ArsConfig = { ...ARS_DEFAULTS[envId], ...partial };
  const log = options.log ?? (() => {});
  check(
    config.topDirections <= config.directions,
    () => `Error in trainArs: topDirections must be ≤ directions, got ${config.topDirections} > ${config.directions}.`,
  );
  const evalEnv = await makeArsEnv(envId, 0);
  const s = evalEnv.observationDim;
  const a = evalEnv.actionDim;
  const shift = evalEnv.task.healthyReward;
  const w = new Float64Array(a * s);
  const stats = new RunningStats(s);
  let iteration = 0;
  let envSteps = 0;
  let cpuBefore = 0;
  let wallBefore = 0;
  let snapshots: ArsSnapshot[] = [];
  let records: ArsIteration[] = [];

  const ckFile = options.checkpointFile;
  if (ckFile && fs.existsSync(ckFile)) {
    const ck = JSON.parse(fs.readFileSync(ckFile, 'utf8')) as ArsCheckpoint;
    // Budgets and the evaluation settings may change between segments of a run; nothing else may.
    const settings = (c: ArsConfig): string =>
      stableStringify({ ...c, cpuBudgetSeconds: 0, maxIterations: 0, actionNoise: 0, evalEpisodes: 0 });
    check(
      ck.env === envId && settings(ck.config) === settings(config),
      () =>
        `Error in trainArs: checkpoint ${ckFile} must be of the same env and settings, got ${ck.env} ${JSON.stringify(ck.config)}. Delete it to start afresh.`,
    );
    iteration = ck.records.length; // not ck.iteration: the count of records is what was done
    w.set(ck.w);
    stats.n = ck.stats.n;
    stats.mean.set(ck.stats.mean);
    stats.m2.set(ck.stats.m2);
    envSteps = ck.envSteps;
    cpuBefore = ck.cpuSeconds;
    wallBefore = ck.wallSeconds;
    snapshots = ck.snapshots;
    records = ck.records;
    log(`${envId}: resumed at iteration ${iteration} (${envSteps} steps) from ${ckFile}`);
    // Evaluation never feeds back into training, so new evaluation settings only need the snapshots'
    // noisy returns redone, with the episodes a run under the new settings would have drawn.
    if (ck.config.actionNoise !== config.actionNoise || ck.config.evalEpisodes !== config.evalEpisodes) {
      for (const snap of snapshots)
        snap.noisyReturn = noisyReturn(evalEnv, PolicyRunner.of(snap), config, snap.iteration);
      log(
        `${envId}: re-evaluated ${snapshots.length} snapshots with action noise ${config.actionNoise}, ${config.evalEpisodes} episodes`,
      );
    }
  }
  const pool = new RolloutPool(envId, options.workers ?? 0);
  const cpu0 = cpuNow();
  const wall0 = Date.now();
  // process.cpuUsage counts every thread of the process, the workers' included.
  const cpuSeconds = (): number => cpuBefore + (cpuNow() - cpu0);
  const wallSeconds = (): number => wallBefore + (Date.now() - wall0) / 1000;
  const save = (): void => {
    if (!ckFile) return;
    const ck: ArsCheckpoint = {
      format: 'dmm-kit ars checkpoint v1',
      env: envId,
      config,
      // The iterations done (a save inside the loop comes after the record, before the counter moves on).
      iteration: records.length,
      w: Array.from(w),
      stats: { n: stats.n, mean: Array.from(stats.mean), m2: Array.from(stats.m2) },
      envSteps,
      cpuSeconds: cpuSeconds(),
      wallSeconds: wallSeconds(),
      snapshots,
      records,
    };
    writeJsonAtomic(ckFile, ck);
  };

  const evaluate = (): void => {
    const runner = new PolicyRunner(f32(w), f32(stats.mean), f32(stats.std()), a);
    const noisy = noisyReturn(evalEnv, runner, config, iteration);
    evalEnv.reseed(deriveSeed(config.seed, 'ars-eval', iteration, 'mean'));
    const det = rollout(evalEnv, runner, { horizon: 1000, noiseStd: 0, shift: 0 }).episodeReturn;
    snapshots.push({
      format: POLICY_FORMAT,
      env: envId,
      weights: f32(w),
      obsMean: f32(stats.mean),
      obsStd: f32(stats.std()),
      iteration,
      envSteps,
      cpuSeconds: Math.round(cpuSeconds() * 10) / 10,
      wallSeconds: Math.round(wallSeconds() * 10) / 10,
      noisyReturn: noisy,
      meanReturn: det,
    });
    log(
      `${envId} it ${iteration} steps ${envSteps} cpu ${cpuSeconds().toFixed(0)}s noisy ${noisy.toFixed(0)} mean-action ${det.toFixed(0)}`,
    );
  };

  // DMM_ARS_STOP=<file>: training ends at the next iteration once the file exists (a shared machine's
  // deadline), keeping everything reached so far.
  const stopFile = process.env.DMM_ARS_STOP;
  const stopped = (): boolean => stopFile !== undefined && stopFile !== '' && fs.existsSync(stopFile);
  let lastSave = Date.now();
  try {
    for (; iteration < config.maxIterations && cpuSeconds() < config.cpuBudgetSeconds && !stopped(); iteration++) {
      if (iteration % config.evalEvery === 0 && snapshots[snapshots.length - 1]?.iteration !== iteration) evaluate();
      const job: RolloutJob = {
        seed: config.seed,
        iteration,
        weights: Array.from(w),
        obsMean: f32(stats.mean),
        obsStd: f32(stats.std()),
        deltaStd: config.deltaStd,
        horizon: config.horizon,
        shift,
        directions: config.directions,
      };
      const out: RolloutOutcome[] = await pool.run(job);
      const plus = out.filter((_, i) => i % 2 === 0).map((r) => r.shapedReturn);
      const minus = out.filter((_, i) => i % 2 === 1).map((r) => r.shapedReturn);
      // Keep the b directions with the largest max(r+, r−); step along Σ (r+ − r−) δ / (b σ_R).
      const order = Array.from({ length: config.directions }, (_, k) => k).sort(
        (x, y) => Math.max(plus[y], minus[y]) - Math.max(plus[x], minus[x]) || x - y,
      );
      const top = order.slice(0, config.topDirections);
      const used = top.flatMap((k) => [plus[k], minus[k]]);
      const mu = used.reduce((p, q) => p + q, 0) / used.length;
      const sigmaR = Math.sqrt(used.reduce((p, q) => p + (q - mu) ** 2, 0) / used.length) || 1;
      const record: ArsIteration = {
        steps: out.map((r) => r.steps),
        top,
        coef: top.map((k) => (config.stepSize / (config.topDirections * sigmaR)) * (plus[k] - minus[k])),
        obsMean: job.obsMean,
        obsStd: job.obsStd,
      };
      applyUpdate(w, record, config.seed, iteration);
      for (const r of out) stats.merge(r.stats);
      envSteps += record.steps.reduce((p, q) => p + q, 0);
      records.push(record);
      if (Date.now() - lastSave > (options.checkpointSeconds ?? 30) * 1000) {
        save();
        lastSave = Date.now();
      }
    }
    evaluate();
    save();
  } finally {
    await pool.close();
    evalEnv.close();
  }
  return {
    env: envId,
    config,
    snapshots,
    records,
    iterations: iteration,
    envSteps,
    cpuSeconds: cpuSeconds(),
    wallSeconds: wallSeconds(),
  };
}
