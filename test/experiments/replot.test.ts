/**
 * Figures are pure functions of records: each training notebook's "what we see" text is computed again
 * from the committed records alone (the folder --reuse reads; nothing trains), and equals the committed notebook's, up to the
 * line that counts how many runs were read from the cache and how long that took.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import { normaliseRunSpec, recordPath, specHash, type RunSpec } from '../../src/config/run-spec';
import type { CellsReport } from '../../src/experiments/cells';
import { contextFigures } from '../../src/experiments/context-length';
import { dmambaFigures } from '../../src/experiments/decision-mamba';
import { dmmAblationFigures } from '../../src/experiments/dmm-ablations';
import { mainFigures } from '../../src/experiments/main-results';
import {
  contextCells,
  dmambaCells,
  dmmAblationCells,
  mainCells,
  protocolCells,
  sizeCells,
} from '../../src/experiments/plan';
import { allFinished, protocolFigures } from '../../src/experiments/protocols';
import { notebookSummary } from '../../src/notebooks/results-doc';
import { sizeFigures } from '../../src/experiments/size-vs-score';
import { readRecord } from '../../src/results/record';
import { committedRecordsDir } from '../../src/notebooks/records';

const root = path.resolve(__dirname, '../..');
// What `npm run reproduce -- --reuse` re-plots: the newest finished results/reproduce/notebook-*/, else results/.
const results = path.resolve(root, committedRecordsDir(root, 'notebook'));
const SCALE = 'notebook';

/** The report a notebook gets when every run is in the cache, built from the record files alone. */
function fromRecords(specs: readonly RunSpec[]): CellsReport {
  const outcomes = specs.map((spec) => {
    const n = normaliseRunSpec(spec);
    const file = recordPath(n, results);
    return { spec: n, hash: specHash(n), file, record: readRecord(file), cached: true };
  });
  return { outcomes, trained: 0, cached: new Set(outcomes.map((o) => o.hash)).size, failed: 0, seconds: 0 };
}

const withoutRunsLine = (finding: string) => finding.replace(/\s*\d+ run\(s\) behind this notebook:.*$/s, '');

test('the training notebooks re-plot from the committed records: same findings, nothing trained', () => {
  const cases: [string, () => string][] = [
    ['03-main-results', () => mainFigures(fromRecords(mainCells(SCALE)), SCALE).finding],
    ['04-size-vs-score', () => sizeFigures(fromRecords(sizeCells(SCALE)), SCALE).finding],
    ['07-context-length', () => contextFigures(fromRecords(contextCells(SCALE)), SCALE).finding],
    [
      '08-dmm-ablations',
      () => dmmAblationFigures(fromRecords(dmmAblationCells(SCALE).map((c) => c.cell)), SCALE).finding,
    ],
    ['09-decision-mamba', () => dmambaFigures(fromRecords(dmambaCells(SCALE).map((c) => c.cell)), SCALE).finding],
    [
      '11-protocols',
      () => {
        const before = process.env.DMM_RESULTS_DIR;
        process.env.DMM_RESULTS_DIR = results;
        try {
          return protocolFigures(allFinished(SCALE), fromRecords(protocolCells(SCALE)), SCALE).finding;
        } finally {
          if (before === undefined) delete process.env.DMM_RESULTS_DIR;
          else process.env.DMM_RESULTS_DIR = before;
        }
      },
    ],
  ];
  for (const [notebook, finding] of cases) {
    const committed = notebookSummary(path.join(root, 'notebooks', `${notebook}.ipynb`));
    assert.equal(committed.scale, SCALE, `${notebook} is committed at the notebook scale`);
    assert.equal(withoutRunsLine(finding()), withoutRunsLine(committed.finding), notebook);
  }
});
