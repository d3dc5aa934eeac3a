/**
 * The notebooks' run plan: shared cells are the same specs (so the cache serves them once), notebook-scale
 * cells carry the labelled budget, and the committed paper grids equal what the plan generates.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { budgetFor, cellCounts, deviation } from '../../src/config/budget';
import { paperGrids } from '../../src/experiments/grids';
import {
  antmazeGradientCells,
  contextCells,
  dmambaCells,
  dmmAblationCells,
  mainCells,
  protocolCells,
  sizeCells,
} from '../../src/experiments/plan';
import { specHash } from '../../src/config/run-spec';
import { loadGrid } from '../../src/sweep/grid';
import type { RunSpec } from '../../src/config/run-spec';

const root = path.resolve(__dirname, '../..');

function allCells(scale: string): RunSpec[] {
  return [
    ...protocolCells(scale),
    ...sizeCells(scale),
    ...contextCells(scale),
    ...dmmAblationCells(scale).map((c) => c.cell),
    ...dmambaCells(scale).map((c) => c.cell),
  ];
}

test('cells shared between notebooks are identical specs (one training run each)', () => {
  for (const scale of ['smoke', 'notebook', 'quick', 'paper']) {
    const main = new Set(mainCells(scale).map(specHash));
    // The official-width point of Figure 1, the official-K points of Figure 5 and the default variants are main-table runs.
    const sharedSize = sizeCells(scale).filter((c) => main.has(specHash(c)));
    assert.ok(sharedSize.length >= 4 * budgetFor(scale).seeds.length, `${scale}: size figure reuses main runs`);
    assert.ok(
      contextCells(scale).some((c) => main.has(specHash(c))),
      `${scale}: context figure reuses main runs`,
    );
    assert.ok(main.has(specHash(dmmAblationCells(scale)[0].cell)), `${scale}: default DMM is the main run`);
    assert.ok(main.has(specHash(dmambaCells(scale)[0].cell)), `${scale}: default Decision Mamba is the main run`);
  }
});

test('notebook cells are notebook-scale specs, 43 runs in all, and the deviation label names the counts', () => {
  const b = budgetFor('notebook');
  for (const c of allCells('notebook')) {
    assert.equal(c.scale, 'notebook');
    // The counts are the scale's, not overrides: a cell overrides only what its figure sweeps.
    for (const k of Object.keys(c.overrides ?? {}))
      assert.ok(
        ['hiddenSize', 'contextLength', 'tokenMixer', 'windowSize', 'globalMixer', 'dsmMode', 'channelMlp'].includes(k),
        k,
      );
  }
  // 2,000 steps per run: the MuJoCo table on the three `medium` datasets, and the two AntMaze ones; notebook 06 adds
  // Decision Mamba at K=8 on antmaze-umaze. The plan fits about an hour (scales.ts).
  assert.equal(mainCells('notebook').length, 4 * (3 + 2) * b.seeds.length);
  assert.equal(mainCells('notebook').filter((c) => c.env === 'antmaze').length, 4 * 2 * b.seeds.length);
  const gradient = antmazeGradientCells('notebook');
  assert.deepEqual(
    gradient.map((c) => [c.model, c.dataset, c.experiment, c.overrides?.contextLength]),
    [
      ['dmm', 'antmaze-umaze', 'main-results', undefined],
      ['dmamba', 'antmaze-umaze', 'gradient-norms', 8],
    ],
  );
  assert.equal(new Set([...allCells('notebook'), ...gradient].map(specHash)).size, 43);
  const c = cellCounts('notebook');
  assert.deepEqual([c.steps, c.batchSize, c.episodesPerTarget, c.primaryOnly], [2000, 32, 5, true]);
  const label = deviation('notebook');
  assert.match(label, /^notebook scale, NOT the official protocol: 4×500 = 2000 training steps at batch 32/);
  assert.match(label, /primary RTG target only/);
  assert.match(deviation('paper'), /Official counts: 10×10000 steps, 100 episodes per target/);
});

test('committed grids/NN-*.json equal the plan and load as grids', () => {
  for (const { notebook, grid } of paperGrids()) {
    const file = path.join(root, 'grids', `${notebook}.json`);
    assert.ok(fs.existsSync(file), `${file} must exist (node --import tsx src/experiments/grids.ts)`);
    assert.deepEqual(
      JSON.parse(fs.readFileSync(file, 'utf8')),
      grid,
      `${file} is stale: rerun src/experiments/grids.ts`,
    );
    const { cells } = loadGrid(file);
    assert.equal(cells.length, (grid.cells as unknown[]).length);
    assert.ok(cells.every((x) => x.spec.scale === 'paper'));
  }
});
