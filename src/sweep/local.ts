/**
 * The kit's one local process pool: run specs on worker processes of this machine, each run in its own
 * child process (./child.ts, the same one the queue worker forks), so a crash loses only that run.
 * Used by `dmm train`, `dmm sweep` and the notebooks (src/experiments/cells.ts).
 *   - cache: a spec whose record `<resultsDir>/<experiment>/<specHash>.json` is finished is read, not run;
 *   - duplicates are run once; outcomes come back in the order of the specs;
 *   - a failing run is reported in its outcome, never thrown; a child that dies before it could write a
 *     record (a signal, out of memory) leaves a failed record naming how it died (beside a finished
 *     record, never over it).
 */
import { fork, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { normaliseRunSpec, recordPath, specHash, specLabel, type RunSpec } from '../config/run-spec';
import {
  emptyRecord,
  finishedRecord,
  readRecord,
  rerunRecordPath,
  writeRecord,
  type RunRecord,
} from '../results/record';
import { progress } from '../util/progress';
import type { ChildMessage, ChildRequest } from './child';

/** The default runner: one training run through runTraining (./train-runner.ts). */
export const TRAIN_RUNNER = path.join(__dirname, 'train-runner.ts');

export interface RunSpecsOptions {
  /** Root of the records; default 'results'. */
  resultsDir?: string;
  /** Processes at once; default one per core. */
  jobs?: number;
  /** Module exporting `runJob(spec, ctx)` (./runner.ts contract); default TRAIN_RUNNER. */
  runner?: string;
  /** Read finished records instead of running their specs (default true). */
  cache?: boolean;
  /** Let runs resume from their latest checkpoint (default true). */
  resume?: boolean;
  /** One line per finished or failed run; default console.log. */
  log?: (line: string) => void;
  /** Draw a progress bar over all runs (from the children's progress messages); default false. */
  progress?: boolean;
  /** Run the specs without a finished record (default true); false only reads, and they stay missing. */
  train?: boolean;
}

export interface RunOutcome {
  spec: RunSpec;
  hash: string;
  /** The record file. */
  file: string;
  /** Present when the run finished (now or earlier). */
  record?: RunRecord;
  /** True when the finished record was already on disk. */
  cached: boolean;
  error?: string;
}

export interface RunSpecsReport {
  outcomes: RunOutcome[];
  trained: number;
  cached: number;
  failed: number;
  seconds: number;
}

/** A run's process ended (a signal, out of memory, an exit) before it could report how the run went. */
export class RunProcessDied extends Error {}

/**
 * Runs one request in a fresh child process. Resolves with the runner's return value, or rejects with the
 * run's error or how the child died (with the tail of its stderr when piped).
 */
export function forkRun(
  req: ChildRequest,
  opts: {
    onProgress?: (fraction: number, info?: string) => void;
    /** Children are added while they run, so their owner can kill them. */
    children?: Set<ChildProcess>;
    /** Keep the child's output (default: discard stdout, keep stderr's tail for the error message). */
    inheritOutput?: boolean;
    env?: NodeJS.ProcessEnv;
  } = {},
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    // From source: child.ts through tsx. From a bundle (the GPU host's, tools/gpu): the bundle itself, whose
    // entry serves the request when DMM_SWEEP_CHILD is set.
    // (A bundle has no child.ts beside it; tslab's compiled copies and tsx both run from src/sweep/.)
    const childTs = path.join(__dirname, 'child.ts');
    const bundled = !fs.existsSync(childTs);
    const child = fork(bundled ? process.argv[1] : childTs, [], {
      execArgv: bundled ? [] : ['--require', require.resolve('tsx/cjs')],
      stdio: opts.inheritOutput ? ['ignore', 'inherit', 'inherit', 'ipc'] : ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...(opts.env ?? process.env), ...(bundled ? { DMM_SWEEP_CHILD: '1' } : {}) },
    });
    opts.children?.add(child);
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (s: string) => (stderr = (stderr + s).slice(-4000)));
    let settled = false;
    let errorMessage: string | undefined;
    child.on('message', (raw) => {
      const msg = raw as ChildMessage;
      if (msg.type === 'progress') opts.onProgress?.(msg.fraction, msg.info);
      else if (msg.type === 'done') {
        settled = true;
        resolve(msg.record);
      } else errorMessage = msg.message.split('\n')[0];
    });
    child.on('exit', (code, signal) => {
      opts.children?.delete(child);
      if (settled) return;
      settled = true;
      const tail = stderr.trim().split('\n').filter(Boolean).slice(-3).join(' | ');
      reject(
        errorMessage !== undefined
          ? new Error(errorMessage)
          : new RunProcessDied(
              `run process exited ${signal ? `on signal ${signal}` : `with code ${code}`} before finishing${tail ? `: ${tail}` : ''}`,
            ),
      );
    });
    child.on('error', (err) => {
      if (settled) return;
      settled = true;
      reject(err);
    });
    child.send(req);
  });
}

/** Runs every spec without a finished record, `jobs` at a time; see the module comment. */
export async function runSpecs(specs: readonly RunSpec[], opts: RunSpecsOptions = {}): Promise<RunSpecsReport> {
  const t0 = Date.now();
  const resultsDir = opts.resultsDir ?? 'results';
  const runner = path.resolve(opts.runner ?? TRAIN_RUNNER);
  const log = opts.log ?? ((line: string) => console.log(line));
  const byHash = new Map<string, RunOutcome>();
  const order: string[] = [];
  for (const spec of specs) {
    const n = normaliseRunSpec(spec, 'runSpecs');
    const hash = specHash(n);
    order.push(hash);
    if (byHash.has(hash)) continue;
    const file = recordPath(n, resultsDir);
    const record = opts.cache === false ? undefined : finishedRecord(file);
    byHash.set(hash, { spec: n, hash, file, record, cached: record !== undefined });
  }
  const missing = [...byHash.values()].filter((o) => !o.cached);
  const cached = byHash.size - missing.length;
  if (opts.train === false) {
    log(`${byHash.size} run(s): ${cached} finished before, ${missing.length} missing (read only: not trained)`);
    const outcomes = order.map((h) => byHash.get(h)!);
    return { outcomes, trained: 0, cached, failed: 0, seconds: (Date.now() - t0) / 1000 };
  }
  const todo = missing;
  const jobs = Math.max(1, Math.min(opts.jobs ?? os.cpus().length, todo.length));
  log(`${byHash.size} run(s): ${cached} finished before, ${todo.length} to run on ${jobs} process(es)`);
  // The bar counts thousandths of runs, from the children's progress messages, so its ETA moves during a run.
  const UNITS = 1000;
  const bar = progress('runs', todo.length * UNITS, { silent: !opts.progress });
  let next = 0;
  let done = 0;
  const runOne = async (o: RunOutcome): Promise<void> => {
    const label = specLabel(o.spec);
    let shown = 0;
    const advance = (fraction: number, info?: string) => {
      const units = Math.max(shown, Math.min(UNITS, Math.round(fraction * UNITS)));
      if (units > shown) bar.tick(units - shown, `${label}${info ? `: ${info}` : ''}`);
      shown = units;
    };
    const s0 = Date.now();
    try {
      const req: ChildRequest = {
        type: 'run',
        runner,
        spec: o.spec,
        ctx: { jobId: o.hash, attempt: 1, resultsDir, resume: opts.resume },
      };
      await forkRun(req, { onProgress: advance, env: { ...process.env, DMM_QUIET: '1' } });
      const record = finishedRecord(o.file);
      if (record) o.record = record;
      else o.error = `the run ended without a finished record in ${o.file}`;
    } catch (err) {
      o.error = (err as Error).message;
      // A run that failed by itself wrote its failure (or, refused by another process's lock, has none to
      // write). A child that died without a word left its record 'running' (or none): say how it ended,
      // beside a finished record (a restart), never over it.
      const kept = finishedRecord(o.file) !== undefined;
      if (err instanceof RunProcessDied) {
        const target = kept ? rerunRecordPath(o.file) : o.file;
        let prior: RunRecord;
        try {
          prior = readRecord(target);
        } catch {
          prior = emptyRecord(normaliseRunSpec(o.spec));
        }
        if (prior.status !== 'failed')
          writeRecord(target, { ...prior, status: 'failed', error: o.error, finishedAt: new Date().toISOString() });
      }
      if (kept) o.error += ` (the finished record ${o.file} is kept)`;
    }
    advance(1, o.record ? 'finished' : 'FAILED');
    const secs = ((Date.now() - s0) / 1000).toFixed(0);
    const sc = o.record?.scores;
    log(
      o.record
        ? `  [${++done}/${todo.length}] ${label} ${o.spec.experiment}: ${secs} s, best_official ${sc?.best_official.toFixed(1)}, final ${sc?.final.toFixed(1)} → ${o.file}`
        : `  [${++done}/${todo.length}] ${label} FAILED after ${secs} s: ${o.error}`,
    );
  };
  await Promise.all(
    Array.from({ length: jobs }, async () => {
      while (next < todo.length) await runOne(todo[next++]);
    }),
  );
  const failed = todo.filter((o) => !o.record).length;
  bar.done(`${todo.length - failed} finished, ${failed} failed, ${cached} cached`);
  return {
    outcomes: order.map((h) => byHash.get(h)!),
    trained: todo.length - failed,
    cached,
    failed,
    seconds: (Date.now() - t0) / 1000,
  };
}
