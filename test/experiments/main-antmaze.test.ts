/**
 * Notebook 03's AntMaze section is a pure function of records: success rates with scale and seeds labelled,
 * "not run" where no record finished, and none of it in the MuJoCo average.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normaliseRunSpec, specHash } from '../../src/config/run-spec';
import type { CellsReport } from '../../src/experiments/cells';
import { antmazeDatasetsOf, antmazeSection, mainFigures } from '../../src/experiments/main-results';
import type { RunRecord } from '../../src/results/record';

function record(model: string, env: string, dataset: string, best: number, final: number): RunRecord {
  const spec = normaliseRunSpec({ model, env, dataset, seed: 12, scale: 'notebook', experiment: 'main-results' });
  return {
    spec,
    seed: 12,
    status: 'finished',
    backend: 'wasm',
    dataset: { id: spec.dataset, source: 'kit', checksum: 'c0ffee00'.repeat(8) },
    config: { train: { iterations: 2, stepsPerIteration: 250 }, model: {}, eval: { episodesPerTarget: 5 } },
    scores: { best_official: best, final, bestPerTarget: {} },
  } as unknown as RunRecord;
}

const records = [
  record('dmm', 'hopper', 'hopper-medium', 50, 40),
  record('dt', 'hopper', 'hopper-medium', 10, 10),
  record('dmm', 'antmaze', 'antmaze-umaze', 60, 40),
  record('dt', 'antmaze', 'antmaze-umaze', 0, 0),
];
const cells: CellsReport = {
  outcomes: records.map((r) => ({ spec: r.spec, hash: specHash(r.spec), file: 'f', record: r, cached: true })),
  cached: records.length,
  trained: 0,
  failed: 0,
  seconds: 0,
};

test('the AntMaze table: success % with n, scale and seeds labelled, "not run" for missing cells', () => {
  assert.deepEqual(antmazeDatasetsOf('notebook'), ['antmaze-umaze', 'antmaze-umaze-diverse']);
  const { table, figure, line } = antmazeSection(records, 'notebook');
  const rows = table.split('\n');
  assert.match(rows[0], /AntMaze dataset \(success %\) \| scale, seeds \| DT best \| DT final/);
  const umaze = rows.find((r) => r.startsWith('| antmaze-umaze |'))!;
  assert.match(umaze, /\| notebook scale, seeds 12 \| 0\.0 \(n = 1\) \| 0\.0 \(n = 1\) \| not run \| not run \|/);
  assert.match(umaze, /\| 60\.0 \(n = 1\) \| 40\.0 \(n = 1\) \|$/, 'DMM best and final');
  const diverse = rows.find((r) => r.startsWith('| antmaze-umaze-diverse |'))!;
  assert.equal((diverse.match(/not run/g) ?? []).length, 8, 'no record of the diverse dataset: every cell says so');
  assert.match(
    line,
    /AntMaze success rate \(best_official, %; notebook scale, seeds 12; 5 episodes per evaluation; kept out of the MuJoCo average\)/,
  );
  assert.match(line, /antmaze-umaze: DT 0\.0, DC not run, Decision Mamba not run, DMM 60\.0/);
  assert.match(figure.caption, /success rate/);
  assert.deepEqual(figure.seeds, [12]);
});

test('AntMaze scores stay out of the MuJoCo average and ranking', () => {
  const r = mainFigures(cells, 'notebook');
  assert.match(r.finding, /Averaged over 1 dataset\(s\) \(best_official\), the order is DMM 50\.0 > DT 10\.0\./);
  assert.deepEqual(r.numbers?.means, { dmm: 50, dt: 10 });
  assert.equal(r.tables.length, 2);
  assert.deepEqual(
    r.figures.map((f) => f.name),
    ['03-main-results', '03-main-results-final', '03-main-results-antmaze'],
  );
  assert.ok(!r.tables[0].includes('antmaze'), 'the MuJoCo table has no AntMaze row');
});
