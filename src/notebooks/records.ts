/**
 * Which records a `npm run reproduce` renders, and the sentence that says so at the top of every notebook.
 *
 *   fresh (the default)  every run of the scale trains into a new folder, results/reproduce/<scale>-<date>/,
 *                        so no committed record is touched. Its reproduce.json gets `finishedAt` once every
 *                        notebook has run on it (in one go or over several); until then the folder is unfinished, and the next plain
 *                        `npm run reproduce` at that scale resumes it (finished records kept, the others
 *                        continue from their last checkpoint) instead of starting another.
 *   --reuse              re-plots from the committed records: the newest finished reproduce folder of the
 *                        scale, else the scale's results folder (results/, results/paper/ at paper scale);
 *                        a cell without a record still trains, and its notebook counts it; at paper scale
 *                        it is listed as missing instead (DMM_PLOT_ONLY: one run takes hours on a CPU).
 *   smoke                `npm test`'s scratch folder .cache/results-smoke/, as before: never committed.
 * DMM_RESULTS_DIR, when set, names the folder in both modes.
 */
import * as fs from 'fs';
import * as path from 'path';
import { cellCounts } from '../config/budget';
import { resultsDir } from '../config/run-spec';
import type { Scale } from '../config/scales';
import { listRecordFiles, readRecord } from '../results/record';
import { writeJsonAtomic } from '../util/atomic';
import { kitCommit } from '../util/version';

export interface RecordsPlan {
  mode: 'fresh' | 'reuse' | 'smoke' | 'given';
  /** The results folder every notebook reads and writes (DMM_RESULTS_DIR of the kernels). */
  dir: string;
  /** True when a fresh run continues an interrupted one. */
  resumed: boolean;
  /** The fresh folder's reproduce.json. */
  marker?: string;
  /** One sentence for the top of each notebook and every caption (budget.ts deviation()). */
  note: string;
  /** Cells without a record are listed, not trained (DMM_PLOT_ONLY): --reuse at paper scale, where one run takes hours on a CPU. */
  plotOnly?: boolean;
}

interface Marker {
  scale: Scale;
  startedAt: string;
  gitCommit: string;
  /** Seconds each notebook took, for those that ran to the end on this folder. */
  notebooks?: Record<string, number>;
  finishedAt?: string;
}

/** results/reproduce/: one folder per fresh `npm run reproduce`. */
export function reproduceRoot(root: string): string {
  return path.join(root, 'results', 'reproduce');
}

function readMarker(file: string): Marker | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Marker;
  } catch {
    return undefined;
  }
}

/** The reproduce folders of a scale with their markers, newest start first. */
function reproduceFolders(root: string, scale: Scale): { dir: string; marker: Marker }[] {
  const base = reproduceRoot(root);
  if (!fs.existsSync(base)) return [];
  return fs
    .readdirSync(base)
    .filter((d) => d.startsWith(`${scale}-`))
    .map((d) => ({ dir: path.join(base, d), marker: readMarker(path.join(base, d, 'reproduce.json')) }))
    .filter((f): f is { dir: string; marker: Marker } => f.marker?.scale === scale)
    .sort((a, b) => b.marker.startedAt.localeCompare(a.marker.startedAt));
}

const rel = (root: string, dir: string) => (path.relative(root, dir) || '.') + '/';

/** What the finished records of `scale` in `dir` trained (`58 trained 2×250 = 500 steps at batch 32`), and whether that is the scale's today. */
export function recordsSummary(dir: string, scale: Scale): { text: string; count: number; current: boolean } {
  const counts = new Map<string, number>();
  for (const file of listRecordFiles(dir)) {
    let r;
    try {
      r = readRecord(file);
    } catch {
      continue; // a corrupt record fails in its notebook, with its own one-line error
    }
    if (r.spec.scale !== scale || r.status !== 'finished') continue;
    const t = r.config.train;
    const key = `${Number(t.iterations)}×${Number(t.stepsPerIteration)} = ${Number(t.iterations) * Number(t.stepsPerIteration)} steps at batch ${Number(t.batchSize)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const c = cellCounts(scale);
  const now = `${c.iterations}×${c.stepsPerIteration} = ${c.steps} steps at batch ${c.batchSize}`;
  const count = [...counts.values()].reduce((a, b) => a + b, 0);
  const parts = [...counts.entries()].map(([k, n]) => `${n} trained ${k}`);
  return {
    text: count ? parts.join(', ') : 'none',
    count,
    current: counts.size === 0 || (counts.size === 1 && counts.has(now)),
  };
}

/** The committed records of a scale, which --reuse re-plots: the newest finished reproduce folder, else resultsDir(scale). */
export function committedRecordsDir(root: string, scale: Scale): string {
  return reproduceFolders(root, scale).find((f) => f.marker.finishedAt)?.dir ?? resultsDir(scale);
}

/** Decides the records folder of this run and writes a fresh folder's marker. */
export function planRecords(
  root: string,
  scale: Scale,
  reuse: boolean,
  env: NodeJS.ProcessEnv,
  now = new Date(),
): RecordsPlan {
  if (env.DMM_RESULTS_DIR) {
    const dir = path.resolve(root, env.DMM_RESULTS_DIR);
    return {
      mode: 'given',
      dir,
      resumed: false,
      note: `records: ${rel(root, dir)} (DMM_RESULTS_DIR): its finished records are re-plotted, missing ones train`,
    };
  }
  if (scale === 'smoke') {
    const dir = resultsDir('smoke');
    return { mode: 'smoke', dir, resumed: false, note: '' };
  }
  if (reuse) {
    const dir = committedRecordsDir(root, scale);
    const s = recordsSummary(dir, scale);
    const c = cellCounts(scale);
    const plotOnly = scale === 'paper';
    return {
      mode: 'reuse',
      dir,
      resumed: false,
      note:
        `records: re-plotted from ${rel(root, dir)} (npm run reproduce -- --reuse), not retrained: ${s.text}` +
        (s.current
          ? ''
          : `; the ${scale} scale now trains ${c.iterations}×${c.stepsPerIteration} = ${c.steps} steps at batch ${c.batchSize}, so these records predate it (a plain npm run reproduce retrains them)`) +
        (plotOnly
          ? '; a cell without a record is listed as missing, not trained (a paper-scale run takes hours on a CPU: train it on a GPU with npx dmm sweep --grid grids/NN-*.json, README "Running at paper scale")'
          : '; a cell without a record trains now and its notebook counts it'),
      plotOnly,
    };
  }
  const open = reproduceFolders(root, scale).find((f) => !f.marker.finishedAt);
  if (open) {
    return {
      mode: 'fresh',
      dir: open.dir,
      resumed: true,
      marker: path.join(open.dir, 'reproduce.json'),
      note: `records: every run retrained into ${rel(root, open.dir)} by npm run reproduce (started ${open.marker.startedAt.slice(0, 16)}, continued: not every notebook had run on it yet); --reuse re-plots the committed records instead`,
    };
  }
  const date = now.toISOString().slice(0, 10);
  let dir = path.join(reproduceRoot(root), `${scale}-${date}`);
  for (let i = 2; fs.existsSync(dir); i++) dir = path.join(reproduceRoot(root), `${scale}-${date}-${i}`);
  const marker = path.join(dir, 'reproduce.json');
  writeJsonAtomic(marker, { scale, startedAt: now.toISOString(), gitCommit: kitCommit() } satisfies Marker);
  return {
    mode: 'fresh',
    dir,
    resumed: false,
    marker,
    note: `records: every run retrained into ${rel(root, dir)} by npm run reproduce; --reuse re-plots the committed records instead`,
  };
}

/**
 * Notes a notebook that ran to the end on a fresh folder; once every notebook of notebooks/ has, the folder is
 * complete (`finishedAt`): --reuse then reads it, and the next plain run starts a new one. So `--only`, `--from`
 * and resumed runs add up.
 */
export function markNotebookDone(plan: RecordsPlan, name: string, seconds: number, all: readonly string[]): void {
  if (!plan.marker) return;
  const m = readMarker(plan.marker);
  if (!m) return;
  const notebooks = { ...m.notebooks, [name]: Math.round(seconds) };
  const done = all.every((n) => n in notebooks);
  writeJsonAtomic(plan.marker, { ...m, notebooks, ...(done ? { finishedAt: new Date().toISOString() } : {}) });
}
