/** Notebook 06's two panels from measured norms: hopper-medium (four models) and antmaze-umaze (DMM, Decision Mamba). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CellsReport } from '../../src/experiments/cells';
import { gradientFigures, type TokenNorms } from '../../src/experiments/gradient-norms';
import type { RunRecord } from '../../src/results/record';

const rec = (dataset: string) =>
  ({
    seed: 12,
    backend: 'wasm',
    dataset: { id: dataset, source: 'kit', checksum: '0'.repeat(64) },
    config: { train: { iterations: 2, stepsPerIteration: 250 } },
  }) as unknown as RunRecord;
/** 24 token norms, all 1 but the newest step's three, which are `newest`. */
const norms = (newest: number) => Array.from({ length: 24 }, (_, j) => (j >= 21 ? newest : 1));
const none: CellsReport = { outcomes: [], cached: 0, trained: 0, failed: 0, seconds: 0 };

test('an AntMaze panel of DMM against Decision Mamba, beside the hopper panel', () => {
  const measured: TokenNorms = {
    norms: [
      { model: 'dmm', dataset: 'hopper-medium', mean: norms(1), record: rec('hopper-medium') },
      { model: 'dmamba', dataset: 'hopper-medium', mean: norms(3), record: rec('hopper-medium') },
      { model: 'dmm', dataset: 'antmaze-umaze', mean: norms(5), record: rec('antmaze-umaze') },
      { model: 'dmamba', dataset: 'antmaze-umaze', mean: norms(1), record: rec('antmaze-umaze') },
    ],
    notes: [],
  };
  const r = gradientFigures(measured, none, 'notebook');
  assert.deepEqual(
    r.figures.map((f) => [f.name, f.data.length]),
    [
      ['06-gradient-norms', 2],
      ['06-gradient-norms-antmaze', 2],
    ],
  );
  assert.match(r.figures[1].caption, /AntMaze panel: DMM .* against Decision Mamba, both at K=8/);
  assert.match(r.tables[0], /\| antmaze-umaze \| DMM \| .* \| 0\.417 \|/, 'newest-step share 15/36');
  assert.match(r.finding, /On hopper-medium DMM spreads its gradient over more of the window than Decision Mamba/);
  assert.match(r.finding, /On antmaze-umaze DMM concentrates its gradient on the newest step/);
  const hopperOnly = gradientFigures({ norms: measured.norms.slice(0, 2), notes: [] }, none, 'notebook');
  assert.equal(hopperOnly.figures.length, 1);
  assert.match(hopperOnly.finding, /The paper's AntMaze panel is missing/);
});
