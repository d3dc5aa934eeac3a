/**
 * The notebook runner behind `npm run reproduce` and `npm test`: executes notebooks/NN-*.ipynb in order
 * with `jupyter nbconvert --execute` and the kit's tslab kernel, at the scale given by --scale (passed
 * to every notebook as DMM_SCALE). It stops at the first failing cell, printing notebook, cell number
 * and error text, and prints a timing table at the end.
 *
 * Where outputs go: at every scale but smoke the executed copy replaces the notebook in notebooks/ and
 * figures go to figures/ (the committed outputs); at smoke scale executed copies go to
 * .cache/notebooks-smoke/ and figures to .cache/figures-smoke/, so `npm test` never changes committed files.
 * Which records the notebooks train into or re-plot from (a fresh folder, or --reuse): ./records.ts.
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../util/atomic';
import { check, KitError, nearest } from '../util/check';
import { checkChromium } from '../figures/render';
import { kitRoot } from '../figures/paths';
import { committedRecordsDir, markNotebookDone, planRecords, type RecordsPlan } from './records';
import { resultsMarkdown } from './results-doc';
import {
  listNotebooks,
  parseRunnerArgs,
  RUNNER_USAGE,
  selectNotebooks,
  type NotebookEntry,
  type RunnerOptions,
} from './plan';

// Kept in step with BACKENDS in src/backend.ts (a test checks), so the runner need not load tfjs.
export const BACKEND_NAMES = ['webgpu', 'tensorflow', 'wasm', 'cpu'];
/** Executed notebooks above this size get a warning: outputs should be PNGs and text, not embedded libraries. */
const NOTEBOOK_SIZE_WARNING = 1024 * 1024;

export interface NotebookResult {
  name: string;
  seconds: number;
  ok: boolean;
  output?: string;
  bytes?: number;
  /** 1-based cell number of the failing cell. */
  failedCell?: number;
  error?: string;
}

/**
 * The jupyter command: DMM_JUPYTER if set, else Debian's (which has nbconvert) before any other on PATH,
 * such as a pyenv shim without Jupyter.
 */
export function jupyterCommand(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DMM_JUPYTER) return env.DMM_JUPYTER;
  return fs.existsSync('/usr/bin/jupyter') ? '/usr/bin/jupyter' : 'jupyter';
}

/** Checks everything the run needs before the first notebook starts; throws a one-line KitError. */
export function preflight(root: string, env: NodeJS.ProcessEnv = process.env): void {
  const fn = 'run-notebooks';
  const backend = env.DMM_BACKEND;
  check(
    !backend || BACKEND_NAMES.includes(backend),
    () =>
      `Error in ${fn}: DMM_BACKEND must be one of ${BACKEND_NAMES.join(', ')}, got '${backend}'. Did you mean '${nearest(backend!, BACKEND_NAMES)}'? Or unset it to choose automatically.`,
  );
  const probe = spawnSync(jupyterCommand(env), ['nbconvert', '--version'], { encoding: 'utf8', env });
  check(
    probe.status === 0,
    () =>
      `Error in ${fn}: Jupyter nbconvert must be installed, got ${probe.error ? 'no jupyter command' : 'a failing `jupyter nbconvert --version`'}. Fix: bash environment/setup.sh (installs jupyter-nbconvert python3-nbclient jupyter-client python3-ipykernel).`,
  );
  const kernel = path.join(root, '.jupyter/share/jupyter/kernels/tslab/kernel.json');
  check(
    fs.existsSync(kernel),
    () =>
      `Error in ${fn}: the tslab kernel must be registered in ${path.join(root, '.jupyter')}, got none. Fix: bash environment/setup.sh.`,
  );
  checkChromium(fn, env);
}

function trimError(text: string): string {
  // tslab's own frames (vm, executor, zeromq) say nothing about the notebook.
  const lines = text.split('\n').filter((l) => !/node:vm|node_modules\/tslab|sigintHandlersWrap|node:internal/.test(l));
  const kept = lines.slice(0, 25);
  if (lines.length > kept.length) kept.push(`... (${lines.length - kept.length} more lines)`);
  return kept.join('\n').trim();
}

function formatSeconds(s: number): string {
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

interface Cell {
  cell_type: string;
}

/** Executes one notebook; resolves with its result (never rejects for a failing cell). */
export function runNotebook(
  entry: NotebookEntry,
  options: RunnerOptions,
  root: string,
  env: NodeJS.ProcessEnv,
): Promise<NotebookResult> {
  const smoke = options.scale === 'smoke';
  const workDir = path.join(root, '.cache', smoke ? 'notebooks-smoke' : 'notebooks-run');
  const failedCopy = path.join(root, '.cache', 'notebooks-failed', `${entry.name}.ipynb`);
  fs.mkdirSync(workDir, { recursive: true });
  fs.rmSync(failedCopy, { force: true });
  const cells = (JSON.parse(fs.readFileSync(entry.file, 'utf8')) as { cells: Cell[] }).cells;
  const codeCells = cells.filter((c) => c.cell_type === 'code').length;
  const args = [
    'nbconvert',
    '--config',
    path.join(__dirname, 'nbconvert_config.py'),
    '--to',
    'notebook',
    '--execute',
    '--ExecutePreprocessor.kernel_name=tslab',
    `--ExecutePreprocessor.timeout=${options.cellTimeout ?? -1}`,
    // The kernel starts slowly on a loaded 2-core machine; the default 60 s is too tight.
    '--ExecutePreprocessor.startup_timeout=300',
    // Per-cell timestamps would make every re-run a diff of the committed notebooks.
    '--ExecutePreprocessor.record_timing=False',
    `--output-dir=${workDir}`,
    `--output=${entry.name}`,
    entry.file,
  ];
  const start = Date.now();
  const tty = Boolean(process.stdout.isTTY);
  // The notebook's progress bars keep their current line here (src/util/progress.ts).
  const progressFile = path.join(root, '.cache', 'progress', `${entry.name}.txt`);
  fs.mkdirSync(path.dirname(progressFile), { recursive: true });
  fs.rmSync(progressFile, { force: true });
  let codeSeen = 0;
  let cellNumber = 0;
  let failure: { index: number; text: string } | undefined;
  let stderrTail = '';
  const status = (): string => {
    let bar = '';
    try {
      bar = fs.readFileSync(progressFile, 'utf8').trim().split('\n')[0];
    } catch {
      // no progress bar yet
    }
    const t = ((Date.now() - start) / 1000).toFixed(0);
    return `  ${entry.name}: cell ${cellNumber} (code cell ${codeSeen}/${codeCells}), ${t} s${bar ? ` | ${bar}` : ''}`;
  };
  // Live status: redrawn every second in a terminal; a heartbeat line a minute in logs.
  const ticker = setInterval(
    () => {
      if (codeSeen === 0) return;
      if (tty) {
        const width = process.stdout.columns || 120;
        process.stdout.write(`\r${status().slice(0, width - 1)}\x1b[K`);
      } else {
        console.log(status());
      }
    },
    tty ? 1000 : 60_000,
  );
  return new Promise((resolve) => {
    const child = spawn(jupyterCommand(env), args, {
      cwd: path.dirname(entry.file),
      env: {
        ...env,
        DMM_FAILED_NOTEBOOK: failedCopy,
        DMM_NOTEBOOK: entry.name,
        DMM_PROGRESS_FILE: progressFile,
        // The kernel compiles a fixed tree: no file watching (environment/tslab-preload.js).
        DMM_TSLAB_STATIC: '1',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let buffered = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.startsWith('@@dmm ')) {
          const event = JSON.parse(line.slice(6)) as { event: string; index: number; text?: string };
          if (event.event === 'cell') {
            codeSeen++;
            cellNumber = event.index + 1;
            fs.rmSync(progressFile, { force: true }); // a new cell starts without the last cell's bar
          } else if (event.event === 'error' && !failure) {
            failure = { index: event.index, text: event.text ?? '' };
          }
        } else {
          stderrTail = (stderrTail + line + '\n').slice(-4000);
        }
      }
    });
    child.on('close', (code, signal) => {
      clearInterval(ticker);
      if (tty) process.stdout.write('\r\x1b[K');
      const seconds = (Date.now() - start) / 1000;
      if (code !== 0) {
        const text = failure
          ? trimError(failure.text) || '(the cell failed without an error message)'
          : `nbconvert exited with ${signal ?? code}: ${trimError(stderrTail.split('\n').slice(-12).join('\n'))}`;
        resolve({
          name: entry.name,
          seconds,
          ok: false,
          failedCell: failure ? failure.index + 1 : undefined,
          error: text,
        });
        return;
      }
      const produced = path.join(workDir, `${entry.name}.ipynb`);
      let output = produced;
      if (!smoke) {
        // Replace the committed notebook only after a complete, successful run.
        output = entry.file;
        writeFileAtomic(output, fs.readFileSync(produced));
        fs.rmSync(produced, { force: true });
      }
      resolve({ name: entry.name, seconds, ok: true, output, bytes: fs.statSync(output).size });
    });
  });
}

function printTable(results: NotebookResult[], scale: string, root: string): void {
  const rows = results.map((r) => [
    r.name,
    r.ok ? 'ok' : `FAILED at cell ${r.failedCell ?? '?'}`,
    formatSeconds(r.seconds),
    r.bytes !== undefined
      ? `${(r.bytes / 1024).toFixed(0)} KiB${r.bytes > NOTEBOOK_SIZE_WARNING ? ' (over 1 MiB!)' : ''}`
      : '',
    r.output ? path.relative(root, r.output) : '',
  ]);
  const total = results.reduce((s, r) => s + r.seconds, 0);
  rows.push(['total', '', formatSeconds(total), '', '']);
  const head = ['notebook', `status (scale ${scale})`, 'time', 'size', 'executed copy'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]): string =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  console.log('\n' + fmt(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(fmt(r));
}

/** Runs the selected notebooks in order; returns the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let options: RunnerOptions;
  let selected: NotebookEntry[];
  let records: RecordsPlan;
  const root = kitRoot();
  const env: NodeJS.ProcessEnv = { ...process.env };
  try {
    options = parseRunnerArgs(argv);
    if (options.help) {
      console.log(RUNNER_USAGE);
      return 0;
    }
    selected = selectNotebooks(listNotebooks(path.join(root, 'notebooks')), options);
    const kernels = path.join(root, '.jupyter/share/jupyter');
    env.JUPYTER_PATH = env.JUPYTER_PATH?.split(':').includes(kernels)
      ? env.JUPYTER_PATH
      : [kernels, env.JUPYTER_PATH].filter(Boolean).join(':');
    env.DMM_SCALE = options.scale;
    if (options.scale === 'smoke') env.DMM_FIGURES_DIR = path.join(root, '.cache', 'figures-smoke');
    else
      env.DMM_FIGURES_DIR = env.DMM_FIGURES_DIR ? path.resolve(root, env.DMM_FIGURES_DIR) : path.join(root, 'figures');
    preflight(root, env);
    records = planRecords(root, options.scale, options.reuse, env);
    env.DMM_RESULTS_DIR = records.dir;
    if (records.note) env.DMM_RECORDS_NOTE = records.note;
    if (records.plotOnly) env.DMM_PLOT_ONLY = '1';
  } catch (err) {
    if (err instanceof KitError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
  console.log(
    `Running ${selected.length} notebook${selected.length === 1 ? '' : 's'} at scale ${options.scale}; figures go to ${path.relative(root, env.DMM_FIGURES_DIR!) || '.'}/`,
  );
  if (records.note) console.log(records.note.replace(/^records: /, 'Records: '));
  const results: NotebookResult[] = [];
  const all = listNotebooks(path.join(root, 'notebooks')).map((e) => e.name);
  for (const entry of selected) {
    console.log(`- ${entry.name} ...`);
    const result = await runNotebook(entry, options, root, env);
    results.push(result);
    if (!result.ok) {
      const cell =
        result.failedCell !== undefined
          ? `cell ${result.failedCell}`
          : 'before any cell failed (kernel or nbconvert error)';
      console.error(`\nError in ${entry.name}.ipynb, ${cell}:\n${result.error}`);
      const partial = path.join(root, '.cache', 'notebooks-failed', `${entry.name}.ipynb`);
      if (fs.existsSync(partial)) console.error(`(partially executed copy: ${path.relative(root, partial)})`);
      printTable(results, options.scale, root);
      return 1;
    }
    console.log(`  done in ${formatSeconds(result.seconds)}`);
    markNotebookDone(records, entry.name, result.seconds, all);
  }
  printTable(results, options.scale, root);
  // The committed notebooks changed: docs/results.md (the README's Results section) is copied from them.
  if (options.scale !== 'smoke') {
    const doc = path.join(root, 'docs', 'results.md');
    writeFileAtomic(
      doc,
      resultsMarkdown(root, options.scale === 'notebook' ? records.dir : committedRecordsDir(root, 'notebook')),
    );
    console.log(`\nwrote ${path.relative(root, doc)} from the executed notebooks`);
  }
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exit(1);
    },
  );
}
