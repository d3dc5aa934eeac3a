/**
 * Which records `npm run reproduce` renders (src/notebooks/records.ts): a fresh folder per run that an
 * interrupted run resumes, complete once every notebook ran on it; --reuse re-plots the newest complete one,
 * else the scale's committed folder; and the sentence each notebook prints at its top says which.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { deviation } from '../../src/config/budget';
import { resultsDir } from '../../src/config/run-spec';
import { committedRecordsDir, markNotebookDone, planRecords, recordsSummary } from '../../src/notebooks/records';

const env = {}; // no DMM_RESULTS_DIR
const all = ['00-environment', '03-main-results'];

test('a fresh run trains into a new folder, an interrupted one is resumed, a complete one is re-plotted by --reuse', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-reproduce-'));
  assert.equal(
    planRecords(root, 'notebook', true, env).dir,
    resultsDir('notebook'),
    'nothing reproduced yet: results/',
  );
  const first = planRecords(root, 'notebook', false, env, new Date('2026-12-03T10:00:00Z'));
  assert.equal(first.dir, path.join(root, 'results', 'reproduce', 'notebook-2026-12-03'));
  assert.ok(!first.resumed && fs.existsSync(first.marker!));
  assert.match(first.note, /^records: every run retrained into results\/reproduce\/notebook-2026-12-03\//);

  // Interrupted after notebook 00: the next plain run continues the same folder.
  markNotebookDone(first, '00-environment', 12, all);
  const again = planRecords(root, 'notebook', false, env, new Date('2026-12-04T10:00:00Z'));
  assert.equal(again.dir, first.dir);
  assert.ok(again.resumed);
  assert.match(again.note, /continued: not every notebook had run on it yet/);
  assert.equal(committedRecordsDir(root, 'notebook'), resultsDir('notebook'), 'an unfinished folder is not re-plotted');

  // Every notebook ran on it: complete; --reuse reads it, and the next fresh run starts a new folder.
  markNotebookDone(again, '03-main-results', 30, all);
  const marker = JSON.parse(fs.readFileSync(first.marker!, 'utf8'));
  assert.deepEqual(marker.notebooks, { '00-environment': 12, '03-main-results': 30 });
  assert.ok(marker.finishedAt);
  assert.equal(committedRecordsDir(root, 'notebook'), first.dir);
  const reuse = planRecords(root, 'notebook', true, env);
  assert.equal(reuse.dir, first.dir);
  assert.match(
    reuse.note,
    /^records: re-plotted from results\/reproduce\/notebook-2026-12-03\/ \(npm run reproduce -- --reuse\), not retrained: none/,
  );
  const next = planRecords(root, 'notebook', false, env, new Date('2026-12-03T18:00:00Z'));
  assert.equal(
    next.dir,
    path.join(root, 'results', 'reproduce', 'notebook-2026-12-03-2'),
    'a finished folder is never reused',
  );
  // Other scales keep their own folders.
  assert.equal(planRecords(root, 'quick', true, env).dir, resultsDir('quick'));
  assert.equal(resultsDir('paper'), path.join(path.dirname(resultsDir('notebook')), 'results', 'paper'));
});

test('DMM_RESULTS_DIR names the folder, smoke keeps its scratch cache', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-reproduce-'));
  const given = planRecords(root, 'notebook', false, { DMM_RESULTS_DIR: 'elsewhere' });
  assert.deepEqual([given.mode, given.dir], ['given', path.join(root, 'elsewhere')]);
  const smoke = planRecords(root, 'smoke', false, env);
  assert.deepEqual([smoke.mode, smoke.dir, smoke.note], ['smoke', resultsDir('smoke'), '']);
  assert.ok(!fs.existsSync(path.join(root, 'results')), 'neither writes a reproduce folder');
});

test('--reuse of records older than the scale says so; the note ends the top line of every notebook', () => {
  // The committed notebook-scale records (results/) were trained before the scale's counts changed, or at them.
  const s = recordsSummary(resultsDir('notebook'), 'notebook');
  assert.ok(s.count > 0);
  assert.match(s.text, /^\d+ trained \d+×\d+ = \d+ steps at batch \d+/);
  const before = process.env.DMM_RECORDS_NOTE;
  process.env.DMM_RECORDS_NOTE = 'records: re-plotted from results/';
  try {
    assert.match(
      deviation('notebook'),
      /^notebook scale, NOT the official protocol: .*; records: re-plotted from results\/$/,
    );
    assert.match(deviation('paper'), /^Official counts: .* per target; records: re-plotted/);
  } finally {
    if (before === undefined) delete process.env.DMM_RECORDS_NOTE;
    else process.env.DMM_RECORDS_NOTE = before;
  }
});

test('--reuse at paper scale only re-plots: a missing cell is listed, not trained on the CPU', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-reproduce-'));
  const paper = planRecords(root, 'paper', true, env);
  assert.equal(paper.plotOnly, true);
  assert.match(paper.note, /a cell without a record is listed as missing, not trained/);
  const notebook = planRecords(root, 'notebook', true, env);
  assert.ok(!notebook.plotOnly);
  assert.match(notebook.note, /a cell without a record trains now/);
});
