/**
 * The rollouts of ARS (src/data/ars.ts): one episode of a linear policy, the seeded directions and reset
 * seeds, and the rollouts of one iteration, run in this thread or spread over worker threads.
 * Each rollout is seeded by its place in the run (iteration, direction, sign), and each returns its own
 * observation statistics, which the trainer merges in rollout order: the result is the same for any
 * number of workers.
 */
import * as path from 'path';
import { Worker, isMainThread, parentPort, workerData } from 'worker_threads';
import { makeEnv } from '../envs';
import { DirectedAnt } from './ant-controller';
import { PolicyRunner, type PolicyTask } from './policy';
import { Rng, deriveSeed } from '../util/rng';

/** What ARS's rollouts use of an environment: a MujocoEnv, or the AntMaze controller's `DirectedAnt`. */
export interface ArsEnv {
  readonly observationDim: number;
  readonly actionDim: number;
  readonly task: { readonly healthyReward: number };
  readonly lastReward: number;
  readonly lastTerminated: boolean;
  readonly lastTruncated: boolean;
  reseed(seed: number): void;
  reset(): Float64Array;
  stepInto(actions: ArrayLike<number>, actionOffset: number, out: Float64Array, outOffset: number): void;
  close(): void;
}

/** The environment of an ARS task. */
export async function makeArsEnv(task: PolicyTask, seed: number): Promise<ArsEnv> {
  return task === 'antmaze-direction' ? DirectedAnt.create(seed) : makeEnv(task, { seed });
}

/** Running mean and variance (Welford); ARS V2 merges the statistics of each iteration's rollouts. */
export class RunningStats {
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
  merge(o: { n: number; mean: ArrayLike<number>; m2: ArrayLike<number> }): void {
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
  env: ArsEnv,
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

/** δ_{t,k}: the k-th direction of iteration t, a standard normal vector of `size` numbers. */
export function direction(seed: number, iteration: number, k: number, size: number): Float64Array {
  const rng = new Rng(deriveSeed(seed, 'ars-delta', iteration, k));
  const d = new Float64Array(size);
  for (let i = 0; i < size; i++) d[i] = rng.normal();
  return d;
}

/** The reset-noise seed of rollout (t, k, ±). */
export function rolloutSeed(seed: number, iteration: number, k: number, sign: 1 | -1): number {
  return deriveSeed(seed, 'ars-rollout', iteration, k, sign > 0 ? '+' : '-');
}

/** The perturbed weights w + sign·ν·δ of one rollout, into `out`. */
export function trialWeights(
  w: ArrayLike<number>,
  d: ArrayLike<number>,
  sign: 1 | -1,
  deltaStd: number,
  out: Float64Array,
): Float64Array {
  for (let i = 0; i < out.length; i++) out[i] = w[i] + sign * deltaStd * d[i];
  return out;
}

/** What every rollout of an iteration shares. */
export interface RolloutJob {
  seed: number;
  iteration: number;
  weights: number[];
  obsMean: number[];
  obsStd: number[];
  deltaStd: number;
  horizon: number;
  /** Subtracted from every reward of the training signal (the alive bonus). */
  shift: number;
  directions: number;
}

export interface RolloutOutcome {
  shapedReturn: number;
  steps: number;
  stats: { n: number; mean: Float64Array; m2: Float64Array };
}

/** Rollouts (k, +) and (k, −) for each direction k of `ks`, in that order. */
export function runDirections(env: ArsEnv, job: RolloutJob, ks: number[]): RolloutOutcome[] {
  const out: RolloutOutcome[] = [];
  const trial = new Float64Array(job.weights.length);
  const a = env.actionDim;
  for (const k of ks) {
    const d = direction(job.seed, job.iteration, k, trial.length);
    for (const sign of [1, -1] as const) {
      const stats = new RunningStats(env.observationDim);
      env.reseed(rolloutSeed(job.seed, job.iteration, k, sign));
      const runner = new PolicyRunner(
        trialWeights(job.weights, d, sign, job.deltaStd, trial),
        job.obsMean,
        job.obsStd,
        a,
      );
      const r = rollout(env, runner, { horizon: job.horizon, noiseStd: 0, stats, shift: job.shift });
      out.push({ shapedReturn: r.shapedReturn, steps: r.steps, stats: { n: stats.n, mean: stats.mean, m2: stats.m2 } });
    }
  }
  return out;
}

const ROLE = 'dmm-ars-rollouts';

/**
 * A new worker: the bundle itself once bundled (tools/gpu/bundle.sh makes one .cjs file, whose entry calls
 * `startArsWorker` first); else this file, through tsx's CommonJS hook (a worker does not inherit the
 * `--import tsx` of its parent).
 */
function spawnWorker(envId: PolicyTask): Worker {
  const workerData = { role: ROLE, env: envId };
  if (__filename.endsWith('.cjs')) return new Worker(__filename, { workerData });
  const file = path.join(__dirname, 'ars-workers.ts');
  const code = `require('tsx/cjs'); require(${JSON.stringify(file)});`;
  return new Worker(code, { eval: true, workerData });
}

/** A worker's loop: one env, jobs in, outcomes out. Returns false when this thread is not an ARS worker. */
let started = false;

export function startArsWorker(): boolean {
  if (isMainThread || (workerData as { role?: string })?.role !== ROLE) return false;
  if (started) return true;
  started = true;
  const envId = (workerData as { env: PolicyTask }).env;
  const ready = makeArsEnv(envId, 0);
  parentPort!.on('message', (msg: { job: RolloutJob; ks: number[] } | 'close') => {
    if (msg === 'close') {
      void ready.then((env) => env.close()).then(() => process.exit(0));
      return;
    }
    void ready.then((env) => parentPort!.postMessage(runDirections(env, msg.job, msg.ks)));
  });
  return true;
}

startArsWorker();

export class RolloutPool {
  private readonly workers: Worker[] = [];
  private env?: Promise<ArsEnv>;

  constructor(
    readonly envId: PolicyTask,
    count: number,
  ) {
    for (let i = 0; i < count; i++) this.workers.push(spawnWorker(envId));
  }

  /** All 2N rollouts of `job`, in run order. */
  async run(job: RolloutJob): Promise<RolloutOutcome[]> {
    const all = Array.from({ length: job.directions }, (_, k) => k);
    if (this.workers.length === 0) {
      this.env ??= makeArsEnv(this.envId, 0);
      return runDirections(await this.env, job, all);
    }
    // Direction k goes to worker k mod W; the outcomes are put back in direction order.
    const W = this.workers.length;
    const parts = await Promise.all(
      this.workers.map(
        (wk, i) =>
          new Promise<RolloutOutcome[]>((resolve, reject) => {
            // Each listener removes the other: an 'error' listener left per iteration piled up (and warned).
            const onMessage = (part: RolloutOutcome[]) => {
              wk.off('error', onError);
              resolve(part);
            };
            const onError = (err: Error) => {
              wk.off('message', onMessage);
              reject(err);
            };
            wk.once('message', onMessage);
            wk.once('error', onError);
            wk.postMessage({ job, ks: all.filter((k) => k % W === i) });
          }),
      ),
    );
    const out: RolloutOutcome[] = [];
    for (let k = 0; k < job.directions; k++) {
      const part = parts[k % W];
      const j = Math.floor(k / W);
      out.push(part[2 * j], part[2 * j + 1]);
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.env) (await this.env).close();
    await Promise.all(
      this.workers.map(
        (wk) =>
          new Promise<void>((resolve) => {
            wk.once('exit', () => resolve());
            wk.postMessage('close');
          }),
      ),
    );
  }
}
