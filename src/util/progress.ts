/**
 * Progress bars for loops that can run longer than a few seconds (training, rollouts, data
 * generation). In a terminal the bar redraws in place; elsewhere (a notebook, CI logs) it prints at
 * most `maxLines` lines, so executed notebooks do not fill up with bar updates. When the notebook
 * runner sets DMM_PROGRESS_FILE, the current line is also kept in that file (at most once a second),
 * so `npm run reproduce` can show a notebook's progress in the terminal while the notebook runs.
 */
import * as fs from 'fs';

export interface Progress {
  /** Advance by `n` (default 1); `info` is shown after the bar (a loss, a score). */
  tick(n?: number, info?: string): void;
  /** Finish the bar and print the elapsed time. */
  done(info?: string): void;
}

export interface ProgressOptions {
  /** Lines printed when not on a terminal. Default 5. */
  maxLines?: number;
  /** Where to write; default process.stderr on a terminal, else process.stdout. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Silence entirely (tests). Also DMM_QUIET=1. */
  silent?: boolean;
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function progress(label: string, total: number, options: ProgressOptions = {}): Progress {
  const silent = options.silent ?? Boolean(process.env.DMM_QUIET);
  const tty = Boolean(process.stderr.isTTY) && !options.stream;
  const stream = options.stream ?? (tty ? process.stderr : process.stdout);
  const maxLines = options.maxLines ?? 5;
  const start = Date.now();
  let count = 0;
  let lastDraw = 0;
  let linesPrinted = 0;
  const sideFile = process.env.DMM_PROGRESS_FILE;
  let lastSide = 0;
  const writeSide = (text: string): void => {
    try {
      fs.writeFileSync(sideFile!, text);
    } catch {
      // Progress must never break a run.
    }
  };

  const line = (info?: string): string => {
    const elapsed = (Date.now() - start) / 1000;
    const frac = total > 0 ? Math.min(1, count / total) : 1;
    const width = 24;
    const filled = Math.round(frac * width);
    const eta = count > 0 ? (elapsed / count) * (total - count) : NaN;
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    return `${label} [${bar}] ${count}/${total} ${(frac * 100).toFixed(0)}% ${formatSeconds(elapsed)} elapsed, ETA ${formatSeconds(eta)}${info ? ` | ${info}` : ''}`;
  };

  return {
    tick(n = 1, info) {
      count += n;
      const now = Date.now();
      if (sideFile && (now - lastSide > 1000 || count >= total)) {
        writeSide(line(info));
        lastSide = now;
      }
      if (silent) return;
      if (tty) {
        if (now - lastDraw > 100 || count >= total) {
          stream.write(`\r${line(info)}\x1b[K`);
          lastDraw = now;
        }
      } else {
        const due = Math.floor((count / Math.max(total, 1)) * maxLines);
        if (due > linesPrinted && linesPrinted < maxLines - 1) {
          linesPrinted = due;
          stream.write(line(info) + '\n');
        }
      }
    },
    done(info) {
      const text = `${label}: ${count}/${total} done in ${formatSeconds((Date.now() - start) / 1000)}${info ? ` | ${info}` : ''}`;
      if (sideFile) writeSide(text);
      if (silent) return;
      stream.write(tty ? `\r${text}\x1b[K\n` : text + '\n');
    },
  };
}
