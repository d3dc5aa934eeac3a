/**
 * Every notebook figure is written as HTML, PNG and SVG with its caption: `show()` checks this after each
 * save (so executing the notebooks at smoke scale in `npm test` checks all of them); here the check itself
 * is tested, on notebook 10's figures (no training needed) and on a figure whose files are missing.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { efficiency } from '../../src/experiments/efficiency';
import { checkSaved, show } from '../../src/experiments/report';
import { closeFigures } from '../../src/figures';
import { readMeta } from '../../src/figures/page';

test(
  'show() writes html, png and svg with the caption, and checkSaved fails on missing files',
  { timeout: 180_000 },
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-figs-'));
    const before = process.env.DMM_FIGURES_DIR;
    process.env.DMM_FIGURES_DIR = dir;
    try {
      const result = await efficiency('smoke');
      assert.ok(result.figures.length > 0, 'bench/results holds at least the train-step benchmark');
      await show({ ...result, tables: [] });
      for (const f of result.figures) {
        for (const ext of ['html', 'png', 'svg'])
          assert.ok(fs.statSync(path.join(dir, `${f.name}.${ext}`)).size > 0, `${f.name}.${ext}`);
        const meta = readMeta(fs.readFileSync(path.join(dir, `${f.name}.html`), 'utf8'));
        assert.ok(meta?.caption.startsWith(f.caption), `${f.name} caption`);
        assert.match(meta!.caption, /Scale: smoke/);
      }
      assert.throws(
        () =>
          checkSaved({
            html: path.join(dir, 'none.html'),
            png: path.join(dir, 'none.png'),
            svg: path.join(dir, 'none.svg'),
            caption: 'x',
          }),
        /must exist/,
      );
    } finally {
      await closeFigures();
      if (before === undefined) delete process.env.DMM_FIGURES_DIR;
      else process.env.DMM_FIGURES_DIR = before;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);
