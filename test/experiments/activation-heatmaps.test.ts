/**
 * Notebook 05's table and its written finding come from the same numbers: on synthetic activations whose
 * token types have known magnitudes, the table's `a / mean(R, s)` column and the finding's ratios agree,
 * and both equal mean |a| / ((mean |R| + mean |s|) / 2), not mean |a| / min(mean |R|, mean |s|).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { heatmapFigures, type TapSet } from '../../src/experiments/activation-heatmaps';
import type { CellsReport } from '../../src/experiments/cells';
import type { RunRecord } from '../../src/results/record';

const K = 4;

/** Every channel of an R, s or a token holds ±magnitude[type][layer] (signs alternate, |value| is exact). */
function constantSet(model: string, magnitude: Record<'R' | 's' | 'a', number[]>, taps: string[]): TapSet {
  const layers = magnitude.R.length;
  const types = ['R', 's', 'a'] as const;
  const window = () =>
    Array.from({ length: layers }, (_, l) =>
      Array.from({ length: 3 * K }, (_, j) =>
        Array.from({ length: 6 }, (_, ch) => (ch % 2 ? -1 : 1) * magnitude[types[j % 3]][l]),
      ),
    );
  return {
    model,
    K,
    layers,
    steps: [3, 9],
    episode: { length: 10, ret: 12 },
    taps: Object.fromEntries(taps.map((t) => [t, [window(), window()]])),
  };
}

const record = (model: string) =>
  ({
    seed: 12,
    backend: 'cpu',
    spec: { model },
    config: { model: {}, train: { iterations: 2, stepsPerIteration: 3 }, eval: {} },
    dataset: { id: 'hopper-medium', source: 'kit', checksum: 'abcdef0123456789', provenance: null },
  }) as unknown as RunRecord;

const noCells: CellsReport = { outcomes: [], trained: 0, cached: 0, failed: 0, seconds: 0 };

test("notebook 05's table column a / mean(R, s) and its finding are the same numbers", () => {
  // Layer 1: R 1, s 3, a 4 → a / mean 2.00 (a / min would be 4.00). Layer 2: R 2, s 6, a 2 → 0.50 (min: 1.00).
  const dmamba = constantSet('dmamba', { R: [1, 2], s: [3, 6], a: [4, 2] }, ['scanInput', 'scanOutput']);
  // DMM: R 4, s 1, a 5 → 2.00 (min: 5.00); also a DSM output, which the finding does not read.
  const dmm = constantSet('dmm', { R: [4], s: [1], a: [5] }, ['localMixerOutput', 'scanOutput']);
  const result = heatmapFigures(
    { sets: [dmamba, dmm], records: [record('dmamba'), record('dmm')], notes: [], maxSteps: 20 },
    noCells,
    'smoke',
  );

  const [table] = result.tables;
  const cellsOf = (line: string) => line.split(/(?<!\\)\|/).map((c) => c.trim());
  const head = cellsOf(table.split('\n')[0]);
  const col = head.indexOf('a / mean(R, s)');
  assert.ok(col > 0, 'the table has the a / mean(R, s) column');
  const scanRows = table
    .split('\n')
    .slice(2)
    .map(cellsOf)
    .filter((cells) => cells[2] === 'scanOutput');
  const tableRatios = (title: string) => scanRows.filter((c) => c[1] === title).map((c) => c[col]);
  assert.deepEqual(tableRatios('Decision Mamba'), ['2.00', '0.50']);
  assert.deepEqual(tableRatios('Decision MetaMamba'), ['2.00']);

  const said = (title: string) => new RegExp(`${title} ([0-9., ]+?)[;.] `).exec(result.finding)?.[1].split(', ') ?? [];
  assert.deepEqual(said('Decision Mamba'), tableRatios('Decision Mamba'));
  assert.deepEqual(said('Decision MetaMamba'), tableRatios('Decision MetaMamba'));
  assert.deepEqual(result.numbers, { ratioDmamba: [2, 0.5], ratioDmm: [2] });
});
