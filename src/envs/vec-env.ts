/**
 * N environments stepped with one batched call, optionally spread over worker threads (one per core).
 *
 * Environment i is seeded with deriveSeed(seed, 'env', i) and only ever sees its own actions, so the trajectories
 * are identical whatever the number of workers. Actions and results travel through SharedArrayBuffers; a step is
 * one message per worker. With autoReset, an env that terminated or was truncated is reset inside the same step:
 * its observation is the new episode's first one, `resets[i]` = 1 and `finalObservations` holds the last one.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { check, checkKnownKeys, KitError, nearest } from '../util/check';
import { loadMujoco } from './mujoco';
import { ENV_IDS, type EnvId } from '../config/names';
import { MAX_EPISODE_STEPS, TASKS } from './tasks';
import { Shard, type ShardSpec, type VecBuffers } from './vec-shard';

export interface VecEnvOptions {
  seed: number;
  /** 0 = step in this thread; k ≥ 1 = k worker threads; 'auto' = one per core (at most n). */
  workers: number | 'auto';
  /** Reset an env inside the step that ended its episode (evaluation loops usually want false). */
  autoReset: boolean;
  maxEpisodeSteps: number;
}

export const VEC_ENV_DEFAULTS: Readonly<VecEnvOptions> = Object.freeze({
  seed: 0,
  workers: 0,
  autoReset: false,
  maxEpisodeSteps: MAX_EPISODE_STEPS,
});

export function resolveVecEnvOptions(n: number, partial: Partial<VecEnvOptions> = {}): Readonly<VecEnvOptions> {
  checkKnownKeys('VecEnv.create', partial, Object.keys(VEC_ENV_DEFAULTS));
  const opts = { ...VEC_ENV_DEFAULTS, ...partial };
  check(Number.isInteger(opts.seed), () => `Error in VecEnv.create: seed must be an integer, got ${opts.seed}.`);
  check(
    opts.workers === 'auto' || (Number.isInteger(opts.workers) && opts.workers >= 0),
    () => `Error in VecEnv.create: workers must be a non-negative integer or 'auto', got ${opts.workers}.`,
  );
  check(
    typeof opts.autoReset === 'boolean',
    () => `Error in VecEnv.create: autoReset must be a boolean, got ${opts.autoReset}.`,
  );
  check(
    Number.isInteger(opts.maxEpisodeSteps) && opts.maxEpisodeSteps >= 1,
    () => `Error in VecEnv.create: maxEpisodeSteps must be a positive integer, got ${opts.maxEpisodeSteps}.`,
  );
  if (opts.workers === 'auto') opts.workers = Math.min(n, os.availableParallelism?.() ?? os.cpus().length);
  opts.workers = Math.min(opts.workers as number, n);
  return Object.freeze(opts);
}

export interface VecStepResult {
  observations: Float64Array; // [n * observationDim]
  rewards: Float64Array; // [n]
  terminated: Uint8Array; // [n]
  truncated: Uint8Array; // [n]
  /** 1 where observations[i] starts a new episode (autoReset). */
  resets: Uint8Array; // [n]
  /** The observation that ended the episode where resets[i] = 1 (autoReset); other rows are stale. */
  finalObservations: Float64Array; // [n * observationDim]
}

/** Runs one Shard in a worker thread; each request is answered by one 'ok' or 'error' message. */
class WorkerShard {
  private readonly worker: Worker;
  private pending: { resolve: () => void; reject: (e: Error) => void } | undefined;

  constructor() {
    // Workers start without the parent's TypeScript loader (tslab, plain node): register tsx, then require the
    // TypeScript worker. Paths are resolved here so the worker's working directory does not matter.
    // In a bundle (tools/gpu/bundle.sh) there is no TypeScript beside this file: the worker is its prebuilt
    // vec-worker.cjs.
    const source = path.join(__dirname, 'vec-worker.ts');
    if (fs.existsSync(source)) {
      const bootstrap = `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(source)});`;
      this.worker = new Worker(bootstrap, { eval: true });
    } else this.worker = new Worker(path.join(__dirname, 'vec-worker.cjs'));
    this.worker.unref();
    this.worker.on('message', (msg: { type: 'ok' } | { type: 'error'; message: string }) => {
      const p = this.pending;
      this.pending = undefined;
      this.worker.unref();
      if (!p) return;
      if (msg.type === 'ok') p.resolve();
      else p.reject(new KitError(msg.message));
    });
    this.worker.on('error', (err) => {
      const p = this.pending;
      this.pending = undefined;
      p?.reject(new KitError(`Error in VecEnv worker: ${err.message}`));
    });
  }

  request(
    message: { type: 'init'; spec: ShardSpec } | { type: 'reset' } | { type: 'step' } | { type: 'close' },
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      // Keep the process alive only while a request is in flight, so a forgotten close() never hangs Node.
      this.worker.ref();
      this.worker.postMessage(message);
    });
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}

/**
 * What the evaluator needs of a batched environment: VecEnv satisfies it, and tests pass toy
 * environments with the same shape.
 */
export interface VecEnvLike {
  n: number;
  observationDim: number;
  actionDim: number;
  reset(): Promise<Float64Array>;
  step(
    actions: Float32Array,
  ): Promise<{ observations: Float64Array; rewards: Float64Array; terminated: Uint8Array; truncated: Uint8Array }>;
  close(): void | Promise<void>;
}

export class VecEnv {
  readonly id: EnvId;
  readonly n: number;
  readonly observationDim: number;
  readonly actionDim: number;
  readonly options: Readonly<VecEnvOptions>;

  private readonly buffers: VecBuffers;
  private readonly actions: Float64Array;
  private readonly observations: Float64Array;
  private readonly finalObservations: Float64Array;
  private readonly rewards: Float64Array;
  private readonly terminated: Uint8Array;
  private readonly truncated: Uint8Array;
  private readonly resets: Uint8Array;
  private readonly finished: Uint8Array;
  private local: Shard | undefined;
  private workers: WorkerShard[] = [];
  private started = false;
  private closed = false;

  private constructor(id: EnvId, n: number, options: Readonly<VecEnvOptions>) {
    this.id = id;
    this.n = n;
    this.options = options;
    this.observationDim = TASKS[id].observationDim;
    this.actionDim = TASKS[id].actionDim;
    const f64 = (len: number) => new SharedArrayBuffer(8 * len);
    this.buffers = {
      actions: f64(n * this.actionDim),
      observations: f64(n * this.observationDim),
      finalObservations: f64(n * this.observationDim),
      rewards: f64(n),
      terminated: new SharedArrayBuffer(n),
      truncated: new SharedArrayBuffer(n),
      resets: new SharedArrayBuffer(n),
      finished: new SharedArrayBuffer(n),
    };
    this.actions = new Float64Array(this.buffers.actions);
    this.observations = new Float64Array(this.buffers.observations);
    this.finalObservations = new Float64Array(this.buffers.finalObservations);
    this.rewards = new Float64Array(this.buffers.rewards);
    this.terminated = new Uint8Array(this.buffers.terminated);
    this.truncated = new Uint8Array(this.buffers.truncated);
    this.resets = new Uint8Array(this.buffers.resets);
    this.finished = new Uint8Array(this.buffers.finished);
  }

  /** Builds n environments of one task; with workers ≥ 1 they are split into contiguous ranges, one per worker. */
  static async create(id: EnvId, n: number, options: Partial<VecEnvOptions> = {}): Promise<VecEnv> {
    check(
      (ENV_IDS as readonly string[]).includes(id),
      () =>
        `Error in VecEnv.create: id must be one of ${ENV_IDS.join(', ')}, got '${id}'. Did you mean '${nearest(String(id), ENV_IDS)}'?`,
    );
    check(Number.isInteger(n) && n >= 1, () => `Error in VecEnv.create: n must be a positive integer, got ${n}.`);
    const opts = resolveVecEnvOptions(n, { maxEpisodeSteps: TASKS[id].maxEpisodeSteps, ...options });
    const vec = new VecEnv(id, n, opts);
    const spec = (start: number, end: number): ShardSpec => ({
      id,
      n,
      start,
      end,
      seed: opts.seed,
      autoReset: opts.autoReset,
      maxEpisodeSteps: opts.maxEpisodeSteps,
      buffers: vec.buffers,
    });
    const w = opts.workers as number;
    if (w === 0) {
      vec.local = new Shard(await loadMujoco(), spec(0, n));
    } else {
      vec.workers = Array.from({ length: w }, () => new WorkerShard());
      try {
        await Promise.all(
          vec.workers.map((worker, k) =>
            worker.request({ type: 'init', spec: spec(Math.floor((k * n) / w), Math.floor(((k + 1) * n) / w)) }),
          ),
        );
      } catch (err) {
        await vec.close();
        throw err;
      }
    }
    return vec;
  }

  private async run(type: 'reset' | 'step'): Promise<void> {
    check(!this.closed, () => `Error in VecEnv.${type}: the VecEnv must be open, got a closed one. Create a new one.`);
    if (this.local) this.local[type]();
    else await Promise.all(this.workers.map((w) => w.request({ type })));
  }

  /** Resets every environment; returns the observations [n * observationDim]. */
  async reset(): Promise<Float64Array> {
    await this.run('reset');
    this.started = true;
    return this.observations.slice();
  }

  /**
   * Steps every environment with its row of `actions` [n * actionDim] (clipped to [-1, 1] by each env). Without
   * autoReset, an env whose episode ended stands still (reward 0, flags kept) until reset().
   */
  async step(actions: ArrayLike<number>): Promise<VecStepResult> {
    check(
      this.started,
      () =>
        `Error in VecEnv.step: the VecEnv must be reset before stepping, got a step before reset(). Call reset() first.`,
    );
    const len = this.n * this.actionDim;
    check(
      actions && actions.length === len,
      () =>
        `Error in VecEnv.step: actions must have length n * actionDim = ${this.n} * ${this.actionDim} = ${len}, got ${actions?.length}.`,
    );
    for (let i = 0; i < len; i++) {
      const a = actions[i];
      if (!Number.isFinite(a)) {
        throw new KitError(
          `Error in VecEnv.step: actions[${i}] (env ${Math.floor(i / this.actionDim)}) must be a finite number, got ${a}. Check the policy output for NaN.`,
        );
      }
      this.actions[i] = a;
    }
    await this.run('step');
    return {
      observations: this.observations.slice(),
      rewards: this.rewards.slice(),
      terminated: this.terminated.slice(),
      truncated: this.truncated.slice(),
      resets: this.resets.slice(),
      finalObservations: this.finalObservations.slice(),
    };
  }

  /** 1 where an env's episode ended and it waits for reset() (autoReset off). */
  finishedMask(): Uint8Array {
    return this.finished.slice();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.local?.close();
    this.local = undefined;
    await Promise.all(
      this.workers.map(async (w) => {
        await w.request({ type: 'close' }).catch(() => undefined);
        await w.terminate();
      }),
    );
    this.workers = [];
  }
}
