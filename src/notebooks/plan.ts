/**
 * What the notebook runner will do: its command-line options, and which notebooks of notebooks/ run.
 * Notebooks are found by name (`NN-kebab-name.ipynb`), so ones added later are picked up in order.
 */
import * as fs from 'fs';
import * as path from 'path';
import { check, nearest } from '../util/check';
import { SCALES, type Scale } from '../config/scales';

export interface RunnerOptions {
  scale: Scale;
  /** Run only this notebook number ('03'). */
  only?: string;
  /** Run this notebook number and every later one. */
  from?: string;
  /** Seconds a single cell may run before it fails; undefined = no limit. */
  cellTimeout?: number;
  /** Re-plot from the committed records instead of retraining every run into a fresh folder (records.ts). */
  reuse: boolean;
  help: boolean;
}

export const RUNNER_USAGE = `Usage: npm run reproduce -- [--scale smoke|notebook|quick|paper] [--reuse] [--only NN | --from NN] [--cell-timeout SECONDS]
  --scale         smoke (seconds, CI), notebook (default; a few minutes per run, the committed outputs),
                  quick (minutes per run), paper (the official counts)
  --reuse         re-plot from the committed records (results/, results/paper/ at paper scale, or the newest
                  finished results/reproduce/<scale>-*/); without it every run retrains into a new folder
                  results/reproduce/<scale>-<date>/, and an interrupted one is resumed by the next run
  --only NN       run notebook NN only (e.g. --only 03)
  --from NN       run notebook NN and every later one
  --cell-timeout  fail a cell that runs longer than this many seconds (default: no limit; 1200 at smoke scale)`;

const OPTIONS = ['--scale', '--only', '--from', '--cell-timeout', '--reuse', '--help'] as const;

/** Parses the runner's arguments; bad input throws a one-line KitError naming the fix. */
export function parseRunnerArgs(argv: readonly string[]): RunnerOptions {
  const fn = 'run-notebooks';
  const values: Record<string, string> = {};
  let help = false;
  let reuse = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (arg === '--reuse') {
      reuse = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const key = eq >= 0 ? arg.slice(0, eq) : arg;
    check(
      key !== '--reuse',
      () => `Error in ${fn}: --reuse is a switch and takes no value, got '${arg}'. Write --reuse.`,
    );
    check(
      (OPTIONS as readonly string[]).includes(key),
      () => `Error in ${fn}: unknown option '${arg}'. Did you mean '${nearest(key, OPTIONS)}'? See --help.`,
    );
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    check(
      value !== undefined && value !== '' && !value.startsWith('--'),
      () => `Error in ${fn}: option ${key} must be followed by a value, got none.`,
    );
    check(!(key in values), () => `Error in ${fn}: option ${key} must be given once, got it twice.`);
    values[key] = value;
  }
  const scale = values['--scale'] ?? 'notebook';
  check(
    (SCALES as readonly string[]).includes(scale),
    () =>
      `Error in ${fn}: --scale must be one of ${SCALES.join(', ')}, got '${scale}'. Did you mean '${nearest(scale, SCALES)}'?`,
  );
  check(
    !(values['--only'] && values['--from']),
    () => `Error in ${fn}: --only and --from must not be combined, got both. Use one of them.`,
  );
  const number = (key: string): string | undefined => {
    const v = values[key];
    if (v === undefined) return undefined;
    check(/^\d{1,2}$/.test(v), () => `Error in ${fn}: ${key} must be a notebook number like 03, got '${v}'.`);
    return v.padStart(2, '0');
  };
  check(
    !(reuse && scale === 'smoke'),
    () =>
      `Error in ${fn}: --reuse must come with a committed scale (notebook, quick, paper), got smoke, whose records are a scratch cache (.cache/results-smoke/). Drop --reuse.`,
  );
  let cellTimeout: number | undefined = scale === 'smoke' ? 1200 : undefined;
  if (values['--cell-timeout'] !== undefined) {
    const t = Number(values['--cell-timeout']);
    check(
      Number.isInteger(t) && t > 0,
      () =>
        `Error in ${fn}: --cell-timeout must be a positive whole number of seconds, got '${values['--cell-timeout']}'.`,
    );
    cellTimeout = t;
  }
  return { scale: scale as Scale, only: number('--only'), from: number('--from'), cellTimeout, reuse, help };
}

export interface NotebookEntry {
  /** Two-digit number, '03'. */
  number: string;
  /** File name without extension, '03-main-results'. */
  name: string;
  file: string;
}

/** Every `NN-name.ipynb` in `dir`, in number order. */
export function listNotebooks(dir: string): NotebookEntry[] {
  if (!fs.existsSync(dir)) return [];
  const entries: NotebookEntry[] = [];
  for (const file of fs.readdirSync(dir)) {
    const m = /^(\d\d)-([a-z0-9][a-z0-9-]*)\.ipynb$/.exec(file);
    if (m) entries.push({ number: m[1], name: file.slice(0, -'.ipynb'.length), file: path.join(dir, file) });
  }
  entries.sort((a, b) => a.name.localeCompare(b.name));
  const seen = new Set<string>();
  for (const e of entries) {
    check(
      !seen.has(e.number),
      () =>
        `Error in run-notebooks: notebook numbers must be unique, got two notebooks numbered ${e.number}. Renumber one.`,
    );
    seen.add(e.number);
  }
  return entries;
}

/** The notebooks selected by --only / --from (all of them otherwise). */
export function selectNotebooks(
  all: readonly NotebookEntry[],
  options: Pick<RunnerOptions, 'only' | 'from'>,
): NotebookEntry[] {
  const fn = 'run-notebooks';
  check(
    all.length > 0,
    () => `Error in ${fn}: notebooks/ must hold NN-name.ipynb files, got none. Run from a full clone of the kit.`,
  );
  const numbers = all.map((e) => e.number);
  for (const key of ['only', 'from'] as const) {
    const n = options[key];
    check(
      n === undefined || numbers.includes(n),
      () => `Error in ${fn}: --${key} must name a notebook in notebooks/ (${numbers.join(', ')}), got '${n}'.`,
    );
  }
  if (options.only) return all.filter((e) => e.number === options.only);
  if (options.from) return all.filter((e) => e.number >= options.from!);
  return [...all];
}
