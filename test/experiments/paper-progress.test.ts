/** The paper-scale note counts the cells with a finished record, per model and dataset, and names the rest missing. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { mainCells } from '../../src/experiments/plan';
import { paperProgress } from '../../src/experiments/report';
import type { RunRecord } from '../../src/results/record';

test('paperProgress counts finished paper cells per model and dataset; unfinished ones count as missing', () => {
  const cells = mainCells('paper');
  const dmm = cells.filter((c) => c.model === 'dmm' && c.dataset === 'hopper-medium');
  assert.equal(dmm.length, 5);
  const rec = (spec: (typeof cells)[number], status: string) => ({ spec, status }) as unknown as RunRecord;
  const measured = [...dmm.slice(0, 4).map((c) => rec(c, 'finished')), rec(dmm[4], 'running')];
  const line = paperProgress(cells, measured);
  assert.match(line, new RegExp(`^Finished: 4 of ${cells.length} \\(`));
  assert.match(line, /dmm 4\/55: hopper-medium ×4/);
  assert.match(line, /dt 0\/55/);
  assert.equal(paperProgress(cells, []), '');
});
