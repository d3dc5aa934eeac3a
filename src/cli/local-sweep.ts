/**
 * Local sweeps: run specs on worker processes of this machine, one per core by default. Cells with a
 * finished record are skipped (so a rerun resumes); a failed cell is recorded as failed with its error
 * and the others go on. Each run is one child process (./run-child.ts), so a crash loses only that run.
 */
import { fork } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { RECORD_FORMAT, readRecord, writeRecord, type RunRecord } from '../results/record';
import { normaliseRunSpec, recordPath, specHash, specLabel, type RunSpec } from '../sweep/spec';
import { progress } from '../util/progress';

export interface LocalSweepOptions {
  resultsDir?: string;
  /** Processes at once; default one per core. */
  jobs?: number;
  /** Module exporting `runJob(spec, ctx)` (src/sweep/runner.ts contract); default: runTraining. */
  runner?: string;
  /** Extra options for runTraining in the default runner (e.g. source). */
  runOptions?: Record<string, unknown>;
  silent?: boolean;
  /** Print one line per finished cell (default true). */
  log?: (line: string) => void;
}

export interface LocalSweepResult {
  skipped: string[];
  finished: string[];
  failed: { label: string; error: string }[];
}

export function isFinished(file: string): boolean {
  try {
    return readRecord(file).status === 'finished';
  } catch {
    return false;
  }
}

/** A failed record for a run whose process died before it could write one (signal, out of memory). */
function writeCrashRecord(spec: RunSpec, file: string, error: string): void {
  const s = normaliseRunSpec(spec);
  let prior: RunRecord | undefined;
  try {
    prior = readRecord(file);
  } catch {
    prior = undefined;
  }
  const rec: RunRecord = prior ?? {
    format: RECORD_FORMAT,
    specHash: specHash(s),
    spec: s,
    status: 'failed',
    seed: s.seed,
    backend: 'unknown',
    gitCommit: 'unknown',
    kitVersion: 'unknown',
    config: { model: {}, train: {}, eval: {} },
    dataset: { id: s.dataset, source: 'unknown', checksum: '', provenance: null },
    iterations: [],
    startedAt: new Date().toISOString(),
  };
  writeRecord(file, { ...rec, status: 'failed', error, finishedAt: new Date().toISOString() });
}

export async function runLocalSweep(specs: RunSpec[], opts: LocalSweepOptions = {}): Promise<LocalSweepResult> {
  const resultsDir = opts.resultsDir ?? 'results';
  const jobs = Math.max(1, opts.jobs ?? os.cpus().length);
  const log = opts.log ?? ((line: string) => console.log(line));
  const result: LocalSweepResult = { skipped: [], finished: [], failed: [] };
  const todo: RunSpec[] = [];
  for (const spec of specs) {
    if (isFinished(recordPath(spec, resultsDir))) result.skipped.push(specLabel(spec));
    else todo.push(spec);
  }
  if (result.skipped.length)
    log(
      `skipping ${result.skipped.length} finished run(s); ${todo.length} to run on ${Math.min(jobs, todo.length)} process(es)`,
    );
  // The bar counts thousandths of runs, from the children's progress messages, so its ETA moves during a run.
  const UNITS = 1000;
  const bar = progress('sweep', todo.length * UNITS, { silent: opts.silent });
  const child = path.join(__dirname, 'run-child.ts');
  const runOne = (spec: RunSpec): Promise<void> =>
    new Promise((resolve) => {
      const file = recordPath(spec, resultsDir);
      const label = specLabel(spec);
      let reported: { type: 'done' } | { type: 'error'; message: string } | undefined;
      let shown = 0; // units of this run already on the bar
      const advance = (fraction: number, info?: string) => {
        const units = Math.max(shown, Math.min(UNITS, Math.round(fraction * UNITS)));
        if (units > shown) bar.tick(units - shown, `${label}${info ? `: ${info}` : ''}`);
        shown = units;
      };
      const p = fork(child, [], {
        execArgv: ['--require', require.resolve('tsx/cjs')],
        env: { ...process.env, DMM_QUIET: '1' },
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      let stderr = '';
      p.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
      p.on(
        'message',
        (
          m:
            | { type: 'done' }
            | { type: 'error'; message: string }
            | { type: 'progress'; fraction: number; info?: string },
        ) => {
          if (m.type === 'progress') advance(m.fraction, m.info);
          else reported = m;
        },
      );
      p.on('exit', (code, signal) => {
        if (reported?.type === 'done' && code === 0) {
          result.finished.push(label);
          advance(1, 'finished');
          log(`finished ${label} → ${file}`);
        } else {
          const error =
            reported?.type === 'error'
              ? reported.message
              : `run process exited with ${signal ?? `code ${code}`}: ${stderr.trim().split('\n').filter(Boolean).pop() ?? 'no message'}`;
          if (reported?.type !== 'error' || !fs.existsSync(file) || readRecordStatus(file) !== 'failed')
            writeCrashRecord(spec, file, error);
          result.failed.push({ label, error });
          advance(1, 'FAILED');
          log(`FAILED ${label}: ${error}`);
        }
        resolve();
      });
      p.send({ spec, resultsDir, runner: opts.runner, runOptions: opts.runOptions ?? {} });
    });
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(jobs, todo.length) }, async () => {
      while (next < todo.length) await runOne(todo[next++]);
    }),
  );
  bar.done(`${result.finished.length} finished, ${result.failed.length} failed, ${result.skipped.length} skipped`);
  return result;
}

function readRecordStatus(file: string): string | undefined {
  try {
    return readRecord(file).status;
  } catch {
    return undefined;
  }
}
