/**
 * A sweep worker: takes jobs from the queue and runs each in a child process (./child.ts), so a crash
 * or a kill loses only that run (issue 9). BullMQ does the rest:
 * - a failed run is retried `attempts` times with exponential backoff, then marked failed with its error;
 * - a worker killed with -9 stops renewing its job locks; after `lockDuration` another worker's stalled
 *   check puts the job back, and it restarts (or resumes from `--artifacts`) elsewhere;
 * - a Redis that goes away: ioredis reconnects forever (maxRetriesPerRequest null), the worker logs and waits.
 * A job from another git commit is refused: it goes back to the queue and this worker stops with a
 * message, unless `allowVersionMismatch`. A job is untrusted input: one whose data is not what
 * enqueueGrid writes fails at once (`checkJobData`), and the child gets the normalised spec.
 */
import type { ChildProcess } from 'child_process';
import * as os from 'os';
import * as path from 'path';
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import { check, checkKnownKeys } from '../util/check';
import { forkRun, TRAIN_RUNNER } from './local';
import { loadRunner, type ChildRequest } from './child';
import type { PackOutcome } from './runner';
import {
  checkJobData,
  DEFAULT_QUEUE_NAME,
  describeQueue,
  parseQueueUrl,
  type QueueTarget,
  type SweepJobData,
  type SweepJobResult,
} from './queue';
import { resultsDir, specHash, specLabel, type RunSpec } from '../config/run-spec';
import { kitCommit } from '../util/version';

export interface WorkerConfig extends QueueTarget {
  /** Jobs (packs, with `pack`) run at once on this machine. Default: one per core; one pack with `pack`. */
  concurrency: number;
  /**
   * Up to this many compatible jobs (the runner's packKey) are taken at once and trained together by the
   * runner's runPackJob: one packed engine program on a GPU machine. Default 1: each job alone.
   */
  pack: number;
  /** Shared folder for checkpoints (`<artifacts>/<experiment>/checkpoints/<specHash>/`); a retried job resumes from it. */
  artifacts?: string;
  /** Run jobs submitted from another commit. Default false. */
  allowVersionMismatch: boolean;
  /** Module exporting `runJob(spec, ctx)`. Default: ./train-runner (runTraining). */
  runner: string;
  /** This machine's results folder (the runner writes its own copy of each record there). Default: resultsDir(scale) of each job. */
  resultsDir?: string;
  /** How long a job's lock lives without renewal: a killed worker's job is taken back after about this long. */
  lockDurationMs: number;
  /** How often this worker looks for stalled jobs of dead workers. */
  stalledIntervalMs: number;
  /** Stalls (worker deaths) a job survives before it is marked failed. */
  maxStalledCount: number;
  /** Pause before the worker's loop retries after losing Redis. */
  reconnectDelayMs: number;
  /** Commit this worker runs. Default: this checkout's. */
  commit?: string;
  /** Where log lines go. Default: stdout with a timestamp. */
  log: (line: string) => void;
}

export const WORKER_DEFAULTS: Readonly<Omit<WorkerConfig, 'queue' | 'name' | 'artifacts' | 'commit' | 'resultsDir'>> =
  Object.freeze({
    concurrency: Math.max(1, os.cpus().length),
    pack: 1,
    allowVersionMismatch: false,
    runner: TRAIN_RUNNER,
    // 30 s lock: renewal runs in this process, never blocked by training (that runs in the child).
    lockDurationMs: 30_000,
    stalledIntervalMs: 15_000,
    // Several stalls before failing: a worker stopped with Ctrl-C also leaves its jobs stalled.
    maxStalledCount: 3,
    reconnectDelayMs: 2_000,
    log: (line: string) => console.log(`${new Date().toISOString()} ${line}`),
  });

const KEYS = [
  'queue',
  'name',
  'concurrency',
  'pack',
  'artifacts',
  'allowVersionMismatch',
  'runner',
  'resultsDir',
  'lockDurationMs',
  'stalledIntervalMs',
  'maxStalledCount',
  'reconnectDelayMs',
  'commit',
  'log',
];

export function resolveWorkerConfig(partial: Partial<WorkerConfig>): WorkerConfig {
  const fn = 'runWorker';
  checkKnownKeys(fn, partial, KEYS);
  const given = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  // A pack fills a GPU by itself: one at a time unless asked.
  const cfg: WorkerConfig = {
    ...WORKER_DEFAULTS,
    ...(((partial.pack ?? 1) as number) > 1 ? { concurrency: 1 } : {}),
    ...given,
  };
  check(
    Number.isInteger(cfg.concurrency) && cfg.concurrency >= 1,
    () => `Error in ${fn}: concurrency must be an integer ≥ 1, got ${cfg.concurrency}.`,
  );
  for (const k of ['lockDurationMs', 'stalledIntervalMs', 'reconnectDelayMs'] as const)
    check(Number.isFinite(cfg[k]) && cfg[k] > 0, () => `Error in ${fn}: ${k} must be > 0, got ${cfg[k]}.`);
  check(
    Number.isInteger(cfg.pack) && cfg.pack >= 1,
    () => `Error in ${fn}: pack must be an integer ≥ 1, got ${cfg.pack}.`,
  );
  check(
    Number.isInteger(cfg.maxStalledCount) && cfg.maxStalledCount >= 0,
    () => `Error in ${fn}: maxStalledCount must be an integer ≥ 0, got ${cfg.maxStalledCount}.`,
  );
  cfg.runner = path.resolve(cfg.runner);
  if (cfg.artifacts !== undefined) cfg.artifacts = path.resolve(cfg.artifacts);
  parseQueueUrl(cfg.queue, fn);
  return cfg;
}

export interface WorkerHandle {
  /** Resolves with the exit code when the worker has stopped (0 after close(), 3 after refusing a job). */
  stopped: Promise<number>;
  /** Stops taking jobs, kills running children (their jobs go back to the queue as stalled) and disconnects. */
  close(): Promise<void>;
}

/** Starts a worker; returns at once with a handle. */
export async function runWorker(partial: Partial<WorkerConfig>): Promise<WorkerHandle> {
  const cfg = resolveWorkerConfig(partial);
  const connection = {
    ...parseQueueUrl(cfg.queue, 'runWorker'),
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => Math.min(200 * times, 2000),
  };
  const commit = cfg.commit ?? kitCommit();
  const host = os.hostname();
  const children = new Set<ChildProcess>();
  let closing = false;
  let refused: string | undefined;
  let resolveStopped!: (code: number) => void;
  const stopped = new Promise<number>((r) => (resolveStopped = r));

  /** A job from another commit goes back to the queue for a worker with the right code; this one stops. */
  const refuseVersion = async (job: Job, token: string | undefined, data: SweepJobData): Promise<void> => {
    refused =
      `Error in runWorker: job ${specLabel(data.spec)} was submitted from commit ${data.commit.slice(0, 12)}, this worker runs ${commit.slice(0, 12)}. ` +
      `Check out the same commit here (git fetch && git checkout ${data.commit.slice(0, 12)}), re-enqueue from this commit, or pass --allow-version-mismatch.`;
    cfg.log(refused);
    await job.moveToDelayed(Date.now() + 1000, token);
    setImmediate(() => void handle.close().then(() => resolveStopped(3)));
  };
  /** The job's data checked (checkJobData); a job no attempt can make valid fails at once, without retries. */
  const jobData = (job: Job): SweepJobData => {
    try {
      return checkJobData(job.data, job.id);
    } catch (err) {
      cfg.log(`refused: ${(err as Error).message}`);
      throw new UnrecoverableError((err as Error).message);
    }
  };
  const accept = async (job: Job, token: string | undefined, data: SweepJobData): Promise<boolean> => {
    if (data.commit === commit || cfg.allowVersionMismatch) return true;
    await refuseVersion(job, token, data);
    return false;
  };
  const ctxFor = (spec: RunSpec, attempt: number) => ({
    jobId: specHash(spec),
    attempt,
    resultsDir: cfg.resultsDir ?? resultsDir(spec.scale),
    checkpointRoot: cfg.artifacts,
  });

  /** Progress to the jobs' records in Redis, at most once per second: round trips are cheap, not free. */
  const progressTo = (jobs: Job[]) => {
    let last = 0;
    return (fraction: number, info?: string) => {
      const now = Date.now();
      if (now - last < 1000 && fraction < 1) return;
      last = now;
      for (const job of jobs) job.updateProgress({ fraction, info, worker: host }).catch(() => undefined);
    };
  };

  const processor = async (job: Job, token?: string): Promise<SweepJobResult> => {
    const data = jobData(job);
    const label = specLabel(data.spec);
    if (!(await accept(job, token, data))) throw new DelayedError();
    const attempt = job.attemptsMade + 1;
    const started = Date.now();
    cfg.log(`start ${label} (job ${job.id?.slice(0, 12)}, attempt ${attempt})`);
    try {
      const record = await forkRun(
        {
          type: 'run',
          runner: cfg.runner,
          spec: data.spec,
          ctx: ctxFor(data.spec, attempt),
        },
        { children, inheritOutput: true, onProgress: progressTo([job]) },
      );
      const seconds = (Date.now() - started) / 1000;
      cfg.log(`done ${label} in ${seconds.toFixed(1)}s`);
      return { record, worker: host, attempt, seconds };
    } catch (err) {
      if (closing) return new Promise<never>(() => undefined); // shutting down: leave the job to the stalled check
      cfg.log(`failed ${label} (attempt ${attempt} of ${job.opts.attempts ?? 1}): ${(err as Error).message}`);
      throw err;
    }
  };

  // --pack: jobs are taken by hand (BullMQ's manual processing), so that compatible ones train together.
  const worker = new Worker(cfg.name ?? DEFAULT_QUEUE_NAME, cfg.pack > 1 ? null : processor, {
    connection,
    concurrency: cfg.concurrency,
    lockDuration: cfg.lockDurationMs,
    stalledInterval: cfg.stalledIntervalMs,
    maxStalledCount: cfg.maxStalledCount,
    runRetryDelay: cfg.reconnectDelayMs,
    autorun: false,
  });
  // Without a listener an 'error' event would crash the process; a lost Redis is logged once per outage.
  let lastError = '';
  worker.on('error', (err) => {
    const msg = err.message;
    // A lock renewal racing a job's completion is harmless; a real loss of the lock shows as a stall.
    if (/could not renew lock/.test(msg)) return cfg.log(`note: ${msg}`);
    if (msg !== lastError) cfg.log(`queue error (will retry): ${msg}`);
    lastError = msg;
  });
  worker.on('ready', () => {
    if (lastError) cfg.log(`connected to ${describeQueue(connection)} again`);
    lastError = '';
  });
  worker.on('stalled', (jobId) =>
    cfg.log(`job ${jobId.slice(0, 12)} stalled (its worker died); it goes back to the queue`),
  );

  const handle: WorkerHandle = {
    stopped,
    async close() {
      if (closing) return;
      closing = true;
      if (children.size > 0)
        cfg.log(`stopping: ${children.size} running job(s) go back to the queue once their locks expire`);
      const done = worker.close(true);
      for (const child of children) child.kill('SIGTERM');
      await done;
      if (!refused) resolveStopped(0);
    },
  };
  cfg.log(
    `worker on ${host}: queue ${describeQueue(connection)} '${cfg.name ?? DEFAULT_QUEUE_NAME}', concurrency ${cfg.concurrency}, commit ${commit.slice(0, 12)}` +
      (cfg.artifacts ? `, artifacts ${cfg.artifacts}` : ''),
  );
  if (cfg.pack > 1) {
    void worker.startStalledCheckTimer();
    const loops = Array.from({ length: cfg.concurrency }, () =>
      packLoop({ worker, cfg, host, children, closing: () => closing, jobData, accept, progressTo, ctxFor }),
    );
    void Promise.all(loops).catch((err: Error) => cfg.log(`worker stopped: ${err.message}`));
  } else void worker.run().catch((err: Error) => cfg.log(`worker stopped: ${err.message}`));
  return handle;
}

/** A job this worker holds in manual processing, with the lock token it took it under. */
interface Held {
  job: Job;
  token: string;
  data: SweepJobData;
}

interface PackLoopContext {
  worker: Worker;
  cfg: WorkerConfig;
  host: string;
  children: Set<ChildProcess>;
  closing: () => boolean;
  jobData: (job: Job) => SweepJobData;
  /** False (and the job put back, the worker stopping) when the job comes from another commit. */
  accept: (job: Job, token: string, data: SweepJobData) => Promise<boolean>;
  progressTo: (jobs: Job[]) => (fraction: number, info?: string) => void;
  ctxFor: (spec: RunSpec, attempt: number) => ChildRequest['ctx'];
}

let tokens = 0;

/**
 * `--pack`: takes the next job, then up to `pack − 1` more with the same pack key (the runner's packKey, and
 * the same scale), putting the others back in the queue (behind the waiting jobs), and trains the held jobs as
 * one child process's runPackJob. Each job's lock is extended while its pack trains; each completes or fails
 * (and is retried as BullMQ's attempts say) by its own outcome. A worker killed mid-pack leaves every job of
 * the pack stalled, and another worker takes them back, resuming from the shared checkpoints.
 */
async function packLoop(c: PackLoopContext): Promise<void> {
  const { worker, cfg } = c;
  const runner = loadRunner(cfg.runner);
  const keyOf = (spec: RunSpec): string | null => {
    try {
      const key = runner.packKey?.(spec);
      return key === null || key === undefined ? null : `${spec.scale} ${key}`;
    } catch {
      return null; // the spec's own run reports what is wrong with it
    }
  };
  /** The next valid job of this commit, or undefined when the queue has none (after blocking, if `block`). */
  const take = async (block: boolean): Promise<Held | undefined> => {
    for (;;) {
      if (c.closing()) return undefined;
      const token = `${c.host}:${process.pid}:pack:${++tokens}`;
      const job = (await worker.getNextJob(token, { block })) as Job | undefined;
      if (!job) return undefined;
      let data: SweepJobData;
      try {
        data = c.jobData(job);
      } catch (err) {
        await job.moveToFailed(err as Error, token, false);
        continue;
      }
      if (!(await c.accept(job, token, data))) return undefined;
      return { job, token, data };
    }
  };
  while (!c.closing()) {
    let held: Held[] = [];
    try {
      const first = await take(true);
      if (!first) continue;
      held = [first];
      const key = keyOf(first.data.spec);
      const others: Held[] = [];
      while (key !== null && held.length < cfg.pack && others.length < cfg.pack) {
        const next = await take(false);
        if (!next) break;
        (keyOf(next.data.spec) === key ? held : others).push(next);
      }
      for (const o of others) await o.job.moveToDelayed(Date.now(), o.token);
    } catch (err) {
      cfg.log(`queue error (will retry): ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, cfg.reconnectDelayMs));
      if (held.length === 0) continue;
    }
    await trainHeld(c, held);
  }
}

async function trainHeld(c: PackLoopContext, held: Held[]): Promise<void> {
  const { cfg } = c;
  const labels = held.map((h) => specLabel(h.data.spec));
  const attempt = Math.max(...held.map((h) => h.job.attemptsMade + 1));
  const started = Date.now();
  cfg.log(`start pack of ${held.length}: ${labels.join(', ')}`);
  const renew = setInterval(() => {
    for (const h of held) h.job.extendLock(h.token, cfg.lockDurationMs).catch(() => undefined);
  }, cfg.lockDurationMs / 3);
  try {
    const outcomes = (await forkRun(
      {
        type: 'pack',
        runner: cfg.runner,
        specs: held.map((h) => h.data.spec),
        ctx: c.ctxFor(held[0].data.spec, attempt),
      },
      { children: c.children, inheritOutput: true, onProgress: c.progressTo(held.map((h) => h.job)) },
    )) as PackOutcome[];
    check(
      Array.isArray(outcomes) && outcomes.length === held.length,
      () =>
        `Error in runWorker: runPackJob must return one outcome per spec (${held.length}), got ${JSON.stringify(outcomes).slice(0, 80)}.`,
    );
    const seconds = (Date.now() - started) / 1000;
    for (const [i, h] of held.entries()) {
      const o = outcomes[i];
      const a = h.job.attemptsMade + 1;
      if (o.record !== undefined && o.record !== null && o.error === undefined) {
        await h.job.moveToCompleted({ record: o.record, worker: c.host, attempt: a, seconds }, h.token, false);
        cfg.log(`done ${labels[i]} in ${seconds.toFixed(1)}s (pack of ${held.length})`);
      } else {
        cfg.log(`failed ${labels[i]} (attempt ${a} of ${h.job.opts.attempts ?? 1}): ${o.error ?? 'no record'}`);
        await h.job.moveToFailed(new Error(o.error ?? 'the pack returned no record for this run'), h.token, false);
      }
    }
  } catch (err) {
    if (c.closing()) return; // shutting down: the jobs stall and go back to the queue
    cfg.log(`failed pack of ${held.length} (attempt ${attempt}): ${(err as Error).message}`);
    for (const h of held) await h.job.moveToFailed(err as Error, h.token, false).catch(() => undefined);
  } finally {
    clearInterval(renew);
  }
}
