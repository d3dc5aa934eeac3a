/**
 * Training cells for the notebooks: a local sweep over RunSpecs on a few worker processes (the sweep's own
 * child process, src/sweep/child.ts, running src/sweep/train-runner.ts), with the results cache in front:
 * a cell whose record `results/<experiment>/<specHash>.json` is finished is read, not trained. So a second
 * notebook run only re-plots, and a run defined by one notebook serves every other notebook that names the
 * same spec.
 */
import { fork } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { kitRoot } from '../figures/paths';
import { readRecord, type RunRecord } from '../results/record';
import { normaliseRunSpec, recordPath, specHash, specLabel, type RunSpec } from '../sweep/spec';
import type { ChildMessage, ChildRequest } from '../sweep/child';

export interface CellOutcome {
  spec: RunSpec;
  hash: string;
  file: string;
  /** Present when the cell finished (now or earlier). */
  record?: RunRecord;
  /** True when the finished record was already on disk. */
  cached: boolean;
  error?: string;
}

export interface CellsReport {
  outcomes: CellOutcome[];
  trained: number;
  cached: number;
  failed: number;
  seconds: number;
}

/**
 * Where records go: DMM_RESULTS_DIR when set; at smoke scale `.cache/results-smoke` (so CI never writes
 * the committed results/); else `<kit>/results`.
 */
export function resultsDir(scale: string): string {
  const env = process.env.DMM_RESULTS_DIR;
  if (env) return path.resolve(kitRoot(), env);
  return scale === 'smoke' ? path.join(kitRoot(), '.cache', 'results-smoke') : path.join(kitRoot(), 'results');
}

/** Checkpoints stay out of results/ (they are large and not committed); notebooks 05 and 06 read them. */
export function checkpointDir(spec: RunSpec, dir: string): string {
  const n = normaliseRunSpec(spec);
  const root =
    path.resolve(dir) === path.join(kitRoot(), 'results')
      ? path.join(kitRoot(), '.cache', 'checkpoints')
      : path.join(dir, '.checkpoints');
  return path.join(root, n.experiment, specHash(n));
}

function finishedRecord(file: string): RunRecord | undefined {
  if (!fs.existsSync(file)) return undefined;
  const r = readRecord(file);
  return r.status === 'finished' ? r : undefined;
}

/** Trains one cell in a child process; resolves with its record or an error message. */
function trainInChild(spec: RunSpec, hash: string, dir: string): Promise<{ record?: RunRecord; error?: string }> {
  const root = kitRoot();
  const child = fork(path.join(root, 'src', 'sweep', 'child.ts'), [], {
    cwd: root,
    execArgv: ['--require', require.resolve('tsx/cjs')],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => (stderr = (stderr + s).slice(-2000)));
  const req: ChildRequest = {
    type: 'run',
    runner: path.join(root, 'src', 'experiments', 'run-cell.ts'),
    spec,
    ctx: { jobId: hash, attempt: 1, resultsDir: dir, checkpointDir: checkpointDir(spec, dir) },
  };
  return new Promise((resolve) => {
    let settled = false;
    const done = (v: { record?: RunRecord; error?: string }) => {
      if (!settled) {
        settled = true;
        resolve(v);
      }
    };
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'done') done({ record: m.record as RunRecord });
      else if (m.type === 'error') done({ error: m.message.split('\n')[0] });
    });
    child.on('exit', (code, signal) =>
      done({
        error: `worker process exited with ${signal ?? code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`,
      }),
    );
    child.send(req);
  });
}

/**
 * Runs every spec not already finished (duplicates are run once), `workers` at a time, and returns all
 * outcomes in the given order. A failing cell is reported in its outcome, never thrown, so one bad cell
 * does not lose a notebook; callers show failures in their tables.
 */
export async function runCells(
  specs: readonly RunSpec[],
  opts: { workers?: number; scale: string; log?: (line: string) => void; resultsDir?: string },
): Promise<CellsReport> {
  const t0 = Date.now();
  const dir = opts.resultsDir ?? resultsDir(opts.scale);
  const log = opts.log ?? ((line: string) => console.log(line));
  const byHash = new Map<string, CellOutcome>();
  const order: string[] = [];
  for (const spec of specs) {
    const n = normaliseRunSpec(spec, 'runCells');
    const hash = specHash(n);
    order.push(hash);
    if (byHash.has(hash)) continue;
    const file = recordPath(n, dir);
    const record = finishedRecord(file);
    byHash.set(hash, { spec: n, hash, file, record, cached: record !== undefined });
  }
  const todo = [...byHash.values()].filter((o) => !o.cached);
  const cachedCount = byHash.size - todo.length;
  log(
    `${byHash.size} cells: ${cachedCount} cached, ${todo.length} to train on ${Math.min(opts.workers ?? 2, Math.max(1, todo.length))} worker process(es)`,
  );
  let next = 0;
  let finished = 0;
  const worker = async (): Promise<void> => {
    while (next < todo.length) {
      const o = todo[next++];
      const s0 = Date.now();
      const r = await trainInChild(o.spec, o.hash, dir);
      finished++;
      const secs = ((Date.now() - s0) / 1000).toFixed(0);
      if (r.record && r.record.status === 'finished') {
        o.record = r.record;
        const sc = r.record.scores;
        log(
          `  [${finished}/${todo.length}] ${specLabel(o.spec)} ${o.spec.experiment}: ${secs} s, best ${sc?.best_official.toFixed(1)}, final ${sc?.final.toFixed(1)}`,
        );
      } else {
        o.error = r.error ?? `record status ${r.record?.status}`;
        log(`  [${finished}/${todo.length}] ${specLabel(o.spec)} FAILED after ${secs} s: ${o.error}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.workers ?? 2, todo.length)) }, () => worker()));
  const outcomes = order.map((h) => byHash.get(h)!);
  const failed = [...byHash.values()].filter((o) => !o.record).length;
  return {
    outcomes,
    trained: todo.length - todo.filter((o) => !o.record).length,
    cached: cachedCount,
    failed,
    seconds: (Date.now() - t0) / 1000,
  };
}
