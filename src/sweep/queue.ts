/**
 * A sweep on many machines: the grid's cells become BullMQ jobs in Redis (issue 9). BullMQ gives
 * retries with backoff, stalled-job recovery, concurrency and progress; this module only maps cells to
 * jobs and records back to files:
 *   enqueueGrid   cells without a finished local record → jobs, jobId = specHash (adding twice adds nothing)
 *   sweepStatus   done / running / failed / waiting, with an ETA
 *   sweepCollect  finished records stored as job return values → results/<experiment>/<specHash>.json
 * Workers are in ./worker.ts.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Queue, type Job, type JobsOptions, type RedisOptions } from 'bullmq';
import IORedis from 'ioredis';
import { writeJsonAtomic } from '../util/atomic';
import { DATA_SOURCES, type DataSource } from '../config/names';
import { check, checkOneOf, KitError } from '../util/check';
import { loadGrid } from './grid';
import { normaliseRunSpec, recordPath, resultsDir, specHash, specLabel, type RunSpec } from '../config/run-spec';
import { kitCommit, kitVersion } from '../util/version';

/** The queue's name in Redis; one Redis can hold several sweeps under other names. */
export const DEFAULT_QUEUE_NAME = 'dmm-sweep';

/** What a job carries: the cell, and who submitted it from which code. */
export interface SweepJobData {
  spec: RunSpec;
  hash: string;
  kitVersion: string;
  commit: string;
  submittedAt: string;
  submittedBy: string;
}

const JOB_KEYS = ['spec', 'hash', 'kitVersion', 'commit', 'submittedAt', 'submittedBy'] as const;

/**
 * A job's data checked as untrusted input (anyone who can write to the Redis can add a job): exactly
 * the keys enqueueGrid writes, a valid spec, and as hash (and job id) the spec's own hash. Returns the
 * data with the normalised spec; every path a worker builds comes from that spec, never from the job.
 */
export function checkJobData(raw: unknown, jobId: string | undefined, fn = 'runWorker'): SweepJobData {
  const refuse = (what: string): never => {
    throw new KitError(
      `Error in ${fn}: job ${jobId ?? '(no id)'} must be what enqueueGrid writes: ${what}. Remove it from the queue and enqueue the grid again.`,
    );
  };
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return refuse(`an object, got ${JSON.stringify(raw)}`);
  const data = raw as Record<string, unknown>;
  for (const key of Object.keys(data))
    if (!(JOB_KEYS as readonly string[]).includes(key)) refuse(`unknown key '${key}' (valid: ${JOB_KEYS.join(', ')})`);
  for (const key of JOB_KEYS.slice(1))
    if (typeof data[key] !== 'string') refuse(`${key} must be a string, got ${JSON.stringify(data[key])}`);
  let spec: ReturnType<typeof normaliseRunSpec>;
  try {
    spec = normaliseRunSpec(data.spec, 'the job spec');
  } catch (err) {
    return refuse((err as Error).message.replace(/^Error in the job spec: /, 'spec: ').replace(/\.$/, ''));
  }
  const hash = specHash(spec);
  if (data.hash !== hash)
    refuse(`hash must be the sha256 of its spec (${hash.slice(0, 12)}…), got ${JSON.stringify(data.hash)}`);
  if (jobId !== hash) refuse(`job id must be its spec's hash (${hash.slice(0, 12)}…), got ${JSON.stringify(jobId)}`);
  return { ...(data as unknown as SweepJobData), spec, hash };
}

/** A finished job's return value: the run record, and where it ran. */
export interface SweepJobResult {
  record: unknown;
  worker: string;
  attempt: number;
  seconds: number;
}

export interface QueueTarget {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS). Default: `DMM_QUEUE`. */
  queue?: string;
  /** Queue name inside Redis. Default 'dmm-sweep'. */
  name?: string;
}

/** Parses a queue address into ioredis options; one-line errors for anything else. */
export function parseQueueUrl(url: string | undefined, fn = 'parseQueueUrl'): RedisOptions {
  const value = url ?? process.env.DMM_QUEUE;
  check(
    value !== undefined && value !== '',
    () => `Error in ${fn}: a queue address is needed, got none. Pass --queue redis://host:6379 or set DMM_QUEUE.`,
  );
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    check(false, () => `Error in ${fn}: the queue must be an address like redis://host:6379, got '${value}'.`);
  }
  check(
    u.protocol === 'redis:' || u.protocol === 'rediss:',
    () => `Error in ${fn}: the queue address must start with redis:// or rediss://, got '${value}'.`,
  );
  check(u.hostname !== '', () => `Error in ${fn}: the queue address must name a host, got '${value}'.`);
  const port = u.port === '' ? 6379 : Number(u.port);
  const dbText = u.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  check(
    Number.isInteger(db) && db >= 0,
    () => `Error in ${fn}: the database in the queue address must be a number (redis://host:6379/0), got '${dbText}'.`,
  );
  const opts: RedisOptions = { host: u.hostname, port, db };
  if (u.username) opts.username = decodeURIComponent(u.username);
  if (u.password) opts.password = decodeURIComponent(u.password);
  if (u.protocol === 'rediss:') opts.tls = {};
  return opts;
}

/** The address without a password, for messages. */
export function describeQueue(opts: RedisOptions): string {
  return `redis://${opts.host}:${opts.port}/${opts.db ?? 0}`;
}

/** Whether this machine has a redis-server binary (on PATH, or at DMM_REDIS_SERVER). */
export function redisServerInstalled(): boolean {
  const name = process.env.DMM_REDIS_SERVER ?? 'redis-server';
  if (name.includes('/')) return fs.existsSync(name);
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .some((dir) => dir !== '' && fs.existsSync(path.join(dir, name)));
}

/**
 * Fails fast, in one line, when nobody answers at the queue address. The submitting commands use it;
 * workers instead wait and reconnect (./worker.ts).
 */
export async function checkReachable(opts: RedisOptions, fn: string, timeoutMs = 3000): Promise<void> {
  const client = new IORedis({
    ...opts,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  let cause: Error | undefined; // the socket error (ECONNREFUSED, ENOTFOUND) says more than 'Connection is closed'
  client.on('error', (err: Error) => (cause ??= err));
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    const got = `got no answer at ${describeQueue(opts)} (${(cause ?? (err as Error)).message.replace(/\.$/, '')})`;
    // A queue on this machine cannot be running without redis-server: then the fix is to install it.
    const local = ['localhost', '127.0.0.1', '::1', '[::1]'].includes(String(opts.host ?? 'localhost'));
    const fix =
      local && !redisServerInstalled()
        ? 'redis-server is not installed here. Install it with: sudo apt-get install redis-server, start it (redis-server --daemonize yes), or fix --queue.'
        : 'Start redis-server there or fix --queue.';
    throw new KitError(`Error in ${fn}: the queue must be a reachable Redis, ${got}. ${fix}`);
  } finally {
    client.disconnect();
  }
}

/** Opens the BullMQ queue after checking that Redis answers. Close it when done. */
export async function openQueue(target: QueueTarget, fn: string): Promise<Queue> {
  const connection = parseQueueUrl(target.queue, fn);
  await checkReachable(connection, fn);
  const queue = new Queue(target.name ?? DEFAULT_QUEUE_NAME, { connection });
  queue.on('error', () => undefined); // a later outage surfaces as a rejected call, with its message
  return queue;
}

/** A record counts as finished when it parses and does not say otherwise. */
export function hasFinishedRecord(file: string): boolean {
  if (!fs.existsSync(file)) return false;
  try {
    const rec = JSON.parse(fs.readFileSync(file, 'utf8')) as { status?: unknown };
    return rec.status === undefined || rec.status === 'done' || rec.status === 'finished' || rec.status === 'complete';
  } catch {
    return false;
  }
}

export interface EnqueueOptions extends QueueTarget {
  /** The submitting machine's results folder. Default: resultsDir(scale) of each cell (src/config/run-spec.ts). */
  resultsDir?: string;
  /** Tries per run before it is marked failed. Default 3. */
  attempts?: number;
  /** First retry delay; doubles each retry. Default 60 s. */
  backoffMs?: number;
  /** Put failed jobs back in the queue (they keep their id). Default false: they are reported. */
  retryFailed?: boolean;
  /** Commit stamped on the jobs. Default: this checkout's (kitCommit). */
  commit?: string;
  /** Dataset source for every run, put into each cell's spec (so it is in the hash); default: the grid's. */
  source?: DataSource;
}

export interface EnqueueReport {
  cells: number;
  /** Cells with a finished record in resultsDir: not enqueued. */
  local: number;
  added: number;
  /** Jobs already in the queue, by state. */
  present: Record<string, number>;
  /** Waiting jobs re-stamped with this commit. */
  restamped: number;
  /** Failed jobs put back (retryFailed). */
  retried: number;
}

/**
 * Enqueues every cell of a grid that has no finished record in `resultsDir`. The job id is the cell's
 * specHash, so a second call adds nothing; jobs still waiting from another commit are re-stamped with
 * this one (the submitter wants its current code run).
 */
export async function enqueueGrid(gridFile: string, options: EnqueueOptions = {}): Promise<EnqueueReport> {
  const fn = 'enqueueGrid';
  const grid = loadGrid(gridFile).cells;
  const attempts = options.attempts ?? 3;
  const backoffMs = options.backoffMs ?? 60_000;
  check(
    Number.isInteger(attempts) && attempts >= 1,
    () => `Error in ${fn}: attempts must be an integer ≥ 1, got ${attempts}.`,
  );
  check(Number.isFinite(backoffMs) && backoffMs >= 0, () => `Error in ${fn}: backoffMs must be ≥ 0, got ${backoffMs}.`);
  if (options.source !== undefined) checkOneOf(fn, 'source', options.source, DATA_SOURCES);
  const cells = grid.map((c) => {
    if (options.source === undefined) return c;
    const spec = normaliseRunSpec({ ...c.spec, source: options.source }, fn);
    return { spec, hash: specHash(spec) };
  });
  const commit = options.commit ?? kitCommit();
  const version = kitVersion();
  const queue = await openQueue(options, fn);
  const report: EnqueueReport = { cells: cells.length, local: 0, added: 0, present: {}, restamped: 0, retried: 0 };
  try {
    const toAdd: { name: string; data: SweepJobData; opts: JobsOptions }[] = [];
    for (const { spec, hash } of cells) {
      if (hasFinishedRecord(recordPath(spec, options.resultsDir ?? resultsDir(spec.scale)))) {
        report.local++;
        continue;
      }
      const existing = await queue.getJob(hash);
      if (existing) {
        const state = await existing.getState();
        report.present[state] = (report.present[state] ?? 0) + 1;
        const data = existing.data as SweepJobData;
        if ((state === 'waiting' || state === 'delayed' || state === 'prioritized') && data.commit !== commit) {
          await existing.updateData({ ...data, commit, kitVersion: version });
          report.restamped++;
        }
        if (state === 'failed' && options.retryFailed) {
          if (data.commit !== commit) await existing.updateData({ ...data, commit, kitVersion: version });
          await existing.retry('failed');
          report.retried++;
        }
        continue;
      }
      toAdd.push({
        name: specLabel(spec),
        data: {
          spec,
          hash,
          kitVersion: version,
          commit,
          submittedAt: new Date().toISOString(),
          submittedBy: os.hostname(),
        },
        // Finished and failed jobs stay in Redis: their return values are what --collect reads.
        opts: {
          jobId: hash,
          attempts,
          backoff: { type: 'exponential', delay: backoffMs },
          removeOnComplete: false,
          removeOnFail: false,
        },
      });
    }
    for (let i = 0; i < toAdd.length; i += 500) await queue.addBulk(toAdd.slice(i, i + 500));
    report.added = toAdd.length;
  } finally {
    await queue.close();
  }
  return report;
}

export interface StatusRow {
  id: string;
  label: string;
  state: string;
  progress?: number;
  info?: string;
  attemptsMade: number;
  error?: string;
}

export interface SweepStatus {
  done: number;
  running: number;
  failed: number;
  waiting: number;
  /** Estimated seconds to finish the waiting and running jobs, from finished jobs' durations; NaN when unknown. */
  etaSeconds: number;
  /** Workers connected now (BullMQ's client list). */
  workers: number;
  runningJobs: StatusRow[];
  failedJobs: StatusRow[];
}

function progressOf(job: Job): { fraction?: number; info?: string } {
  const p = job.progress as unknown;
  if (typeof p === 'number') return { fraction: p };
  if (p && typeof p === 'object') {
    const o = p as { fraction?: unknown; info?: unknown };
    return {
      fraction: typeof o.fraction === 'number' ? o.fraction : undefined,
      info: typeof o.info === 'string' ? o.info : undefined,
    };
  }
  return {};
}

function row(job: Job, state: string): StatusRow {
  const { fraction, info } = progressOf(job);
  const data = job.data as SweepJobData;
  return {
    id: job.id ?? '',
    label: data.spec ? specLabel(data.spec) : job.name,
    state,
    progress: fraction,
    info,
    attemptsMade: job.attemptsMade,
    error: job.failedReason,
  };
}

/**
 * Seconds until the queue is empty: mean duration of finished jobs × (waiting jobs + the unfinished
 * share of running ones) / jobs running at once. 0 when nothing is left, NaN before any job finished.
 */
export function estimateEta(finishedSeconds: number[], waiting: number, runningProgress: number[]): number {
  if (waiting + runningProgress.length === 0) return 0;
  if (finishedSeconds.length === 0) return NaN;
  const mean = finishedSeconds.reduce((a, b) => a + b, 0) / finishedSeconds.length;
  const left = runningProgress.reduce((a, p) => a + 1 - Math.min(1, Math.max(0, p)), 0) + waiting;
  return (mean * left) / Math.max(1, runningProgress.length);
}

/** Counts by state, the jobs running and failed, and an ETA (estimateEta). */
export async function sweepStatus(target: QueueTarget = {}): Promise<SweepStatus> {
  const queue = await openQueue(target, 'sweepStatus');
  try {
    const counts = await queue.getJobCounts(
      'completed',
      'active',
      'failed',
      'waiting',
      'delayed',
      'prioritized',
      'paused',
    );
    const active = await queue.getJobs(['active']);
    const failed = await queue.getJobs(['failed']);
    const recent = await queue.getJobs(['completed'], 0, 199);
    const durations = recent
      .filter((j) => j.finishedOn && j.processedOn)
      .map((j) => (j.finishedOn! - j.processedOn!) / 1000);
    const waiting = counts.waiting + counts.delayed + counts.prioritized + counts.paused;
    const runningRows = active.map((j) => row(j, 'running'));
    const etaSeconds = estimateEta(
      durations,
      waiting,
      runningRows.map((r) => r.progress ?? 0),
    );
    const workers = (await queue.getWorkers()).length;
    return {
      done: counts.completed,
      running: counts.active,
      failed: counts.failed,
      waiting,
      etaSeconds,
      workers,
      runningJobs: runningRows,
      failedJobs: failed.map((j) => row(j, 'failed')),
    };
  } finally {
    await queue.close();
  }
}

export interface CollectReport {
  /** Records written now. */
  written: string[];
  /** Finished jobs whose record was already local. */
  alreadyLocal: number;
  /** Why jobs were left alone whose data is not what enqueueGrid writes (one line each). */
  refused: string[];
}

/**
 * Writes every finished job's record that is not yet in `resultsDir` (default: resultsDir(scale) of each
 * run), atomically. Idempotent: a record is written at its one path (<results>/<experiment>/<specHash>.json)
 * or left alone.
 */
export async function sweepCollect(options: QueueTarget & { resultsDir?: string } = {}): Promise<CollectReport> {
  const queue = await openQueue(options, 'sweepCollect');
  const report: CollectReport = { written: [], alreadyLocal: 0, refused: [] };
  try {
    const total = (await queue.getJobCounts('completed')).completed;
    for (let start = 0; start < total; start += 200) {
      for (const job of await queue.getJobs(['completed'], start, start + 199, true)) {
        let data: SweepJobData;
        try {
          data = checkJobData(job.data, job.id, 'sweepCollect');
        } catch (err) {
          report.refused.push((err as Error).message);
          continue;
        }
        const file = recordPath(data.spec, options.resultsDir ?? resultsDir(data.spec.scale));
        if (hasFinishedRecord(file)) {
          report.alreadyLocal++;
          continue;
        }
        const result = job.returnvalue as SweepJobResult | null;
        if (!result || result.record === undefined || result.record === null) continue;
        writeJsonAtomic(file, result.record);
        report.written.push(file);
      }
    }
  } finally {
    await queue.close();
  }
  return report;
}

/** Human-readable seconds for status lines. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'unknown';
  if (seconds < 60) return `${Math.round(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.round((seconds % 3600) / 60)).padStart(2, '0')}m`;
}
