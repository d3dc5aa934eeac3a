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
import {
  checkJobData,
  DEFAULT_QUEUE_NAME,
  describeQueue,
  parseQueueUrl,
  type QueueTarget,
  type SweepJobData,
  type SweepJobResult,
} from './queue';
import { resultsDir, specLabel } from '../config/run-spec';
import { kitCommit } from '../util/version';

export interface WorkerConfig extends QueueTarget {
  /** Jobs run at once on this machine. Default: one per core. */
  concurrency: number;
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
  const cfg: WorkerConfig = {
    ...WORKER_DEFAULTS,
    ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)),
  };
  check(
    Number.isInteger(cfg.concurrency) && cfg.concurrency >= 1,
    () => `Error in ${fn}: concurrency must be an integer ≥ 1, got ${cfg.concurrency}.`,
  );
  for (const k of ['lockDurationMs', 'stalledIntervalMs', 'reconnectDelayMs'] as const)
    check(Number.isFinite(cfg[k]) && cfg[k] > 0, () => `Error in ${fn}: ${k} must be > 0, got ${cfg[k]}.`);
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

  const processor = async (job: Job, token?: string): Promise<SweepJobResult> => {
    let data: SweepJobData;
    try {
      data = checkJobData(job.data, job.id);
    } catch (err) {
      // Fails at once, without retries: no attempt can make this job valid.
      cfg.log(`refused: ${(err as Error).message}`);
      throw new UnrecoverableError((err as Error).message);
    }
    const label = specLabel(data.spec);
    if (data.commit !== commit && !cfg.allowVersionMismatch) {
      refused =
        `Error in runWorker: job ${label} was submitted from commit ${data.commit.slice(0, 12)}, this worker runs ${commit.slice(0, 12)}. ` +
        `Check out the same commit here (git fetch && git checkout ${data.commit.slice(0, 12)}), re-enqueue from this commit, or pass --allow-version-mismatch.`;
      cfg.log(refused);
      // Back to the queue for a worker with the right code; this one stops.
      await job.moveToDelayed(Date.now() + 1000, token);
      setImmediate(() => void handle.close().then(() => resolveStopped(3)));
      throw new DelayedError();
    }
    const attempt = job.attemptsMade + 1;
    const started = Date.now();
    cfg.log(`start ${label} (job ${job.id?.slice(0, 12)}, attempt ${attempt})`);
    let lastProgress = 0;
    try {
      const record = await forkRun(
        {
          type: 'run',
          runner: cfg.runner,
          spec: data.spec,
          ctx: {
            jobId: data.hash,
            attempt,
            resultsDir: cfg.resultsDir ?? resultsDir(data.spec.scale),
            checkpointRoot: cfg.artifacts,
          },
        },
        {
          children,
          inheritOutput: true,
          onProgress: (fraction, info) => {
            // At most one progress write per second per job: Redis round trips are cheap, not free.
            const now = Date.now();
            if (now - lastProgress < 1000 && fraction < 1) return;
            lastProgress = now;
            job.updateProgress({ fraction, info, worker: host }).catch(() => undefined);
          },
        },
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

  const worker = new Worker(cfg.name ?? DEFAULT_QUEUE_NAME, processor, {
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
  void worker.run().catch((err: Error) => cfg.log(`worker stopped: ${err.message}`));
  return handle;
}
