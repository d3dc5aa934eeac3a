/**
 * The notebooks' run plan: shared cells are the same specs (so the cache serves them once), quick-scale
 * cells carry the labelled budget, and the committed paper grids equal what the plan generates.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { budgetFor, cellCounts, deviation } from '../../src/experiments/budget';
import { paperGrids } from '../../src/experiments/grids';
import {
  contextCells,
  dmambaCells,
  dmmAblationCells,
  mainCells,
  protocolCells,
  sizeCells,
} from '../../src/experiments/plan';
import { loadGrid, specHash } from '../../src/sweep/grid';
import type { RunSpec } from '../../src/sweep/spec';

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
  for (const scale of ['smoke', 'quick', 'paper']) {
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

test('quick cells carry the budget overrides and the deviation label names them', () => {
  const b = budgetFor('quick');
  for (const c of allCells('quick')) {
    for (const [k, v] of Object.entries(b.train)) assert.equal(c.overrides?.[k], v, `${k} in ${JSON.stringify(c)}`);
    assert.equal(c.scale, 'quick');
    assert.deepEqual(c.eval, { ...b.eval }, `the quick eval cut travels in the spec: ${JSON.stringify(c)}`);
  }
  // The main table covers all nine datasets at quick scale; the whole plan stays small enough for 60 minutes.
  assert.equal(mainCells('quick').length, 4 * 9 * b.seeds.length);
  const n = new Set(allCells('quick').map(specHash)).size;
  assert.ok(n >= 36 && n <= 64, `quick plan has ${n} distinct runs`);
  const full = { ...allCells('quick')[0] };
  delete full.eval;
  assert.notEqual(specHash(full), specHash(allCells('quick')[0]), 'a cut evaluation changes the hash');
  const c = cellCounts('quick');
  const label = deviation('quick');
  assert.match(label, new RegExp(`${c.steps} training steps at batch ${c.batchSize}`));
  assert.match(label, /NOT the official protocol/);
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
