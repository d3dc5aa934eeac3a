/** The caption and error-bar helpers every notebook's figures share. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { markdownTable, seedErrorBars, stepsOf } from '../../src/experiments/report';
import type { RunRecord } from '../../src/results/record';

test('error bars only where a point has more than one seed; none at all with one seed everywhere', () => {
  const two = seedErrorBars([
    { std: 3, n: 2 },
    { std: 0, n: 1 },
  ]);
  assert.equal(two.visible, true);
  assert.equal(two.array[0], 3);
  // Survives JSON as a value Plotly skips (a NaN would become null, which Plotly draws as a 0-length bar).
  assert.ok(Number.isNaN(+JSON.parse(JSON.stringify(two.array))[1]));
  assert.equal(seedErrorBars([{ std: 0, n: 1 }]).visible, false);
});

test('steps per run come from the records; Markdown cells keep their pipes', () => {
  const rec = (iterations: number, stepsPerIteration: number) =>
    ({ config: { train: { iterations, stepsPerIteration } } }) as unknown as RunRecord;
  assert.deepEqual(stepsOf([rec(2, 250), rec(4, 500), rec(2, 250)]), [500, 2000]);
  assert.equal(markdownTable(['mean |a|'], [[1]]).split('\n')[0], '| mean \\|a\\| |');
});
