/**
 * The claims table (src/results/claims.ts) is computed from records: with no paper-scale records every verdict
 * waits for them, paper-scale records decide the ranking claims either way, D4RL values are never judged on
 * kit-generated data, and one seed shows "n = 1", never "± 0".
 */
import assert from 'node:assert/strict';
import * as path from 'path';
import { test } from 'node:test';
import { CLAIMS, claimRows } from '../../src/results/claims';
import { listRecordFiles, readRecord, type RunRecord } from '../../src/results/record';

const committed = listRecordFiles(path.resolve(__dirname, '../../results')).map(readRecord);
const template = committed.find((r) => r.status === 'finished')!;
const DATASETS = ['hopper', 'halfcheetah', 'walker2d'].flatMap((e) =>
  ['medium', 'medium-replay', 'medium-expert'].map((k) => `${e}-${k}`),
);

/** A finished paper-scale main-table record with the given best_official (final 10 lower). */
function paperRecord(model: string, dataset: string, seed: number, best: number): RunRecord {
  const r = structuredClone(template);
  r.spec = {
    ...r.spec,
    model: model as RunRecord['spec']['model'],
    env: dataset.split('-')[0],
    dataset,
    seed,
    scale: 'paper',
  };
  delete r.spec.overrides;
  r.spec.evalPadding = 'official';
  r.seed = seed;
  r.dataset = { ...r.dataset, id: dataset, source: 'kit' };
  r.scores = { best_official: best, final: best - 10, bestPerTarget: {} };
  return r;
}

const row = (rows: ReturnType<typeof claimRows>, start: string) => rows.find((r) => r.claim.startsWith(start))!;

test('without paper-scale records no claim gets a verdict, and the notebook column reads the records', () => {
  const rows = claimRows([], committed);
  assert.equal(rows.length, CLAIMS.length);
  for (const r of rows) {
    assert.ok(!/^(reproduced|not reproduced)/.test(r.verdict), `${r.claim}: ${r.verdict}`);
    assert.ok(!/± 0\.0/.test(r.atNotebook), `a spread of zero: ${r.atNotebook}`);
  }
  assert.equal(row(rows, 'DMM matches').atPaper, 'not run yet');
  assert.match(row(rows, 'DMM matches').verdict, /^not testable yet: no paper-scale records/);
  assert.match(row(rows, 'Decision Mamba on hopper-medium, best').atNotebook, /\(n = \d+\), kit-generated data$/);
});

test('complete paper-scale records decide the ranking claims; D4RL values are not judged on kit data', () => {
  const scores: Record<string, number> = { dmm: 70, dmamba: 60, dt: 50, dc: 55 };
  const recs = Object.entries(scores).flatMap(([m, v]) =>
    DATASETS.flatMap((d) => [12, 23].map((seed) => paperRecord(m, d, seed, v + (seed === 23 ? 2 : 0)))),
  );
  const rows = claimRows(recs, []);
  assert.match(row(rows, 'DMM matches').verdict, /^reproduced/);
  assert.match(
    row(rows, 'DMM matches').atPaper,
    /DMM 71\.0, Decision Mamba 61\.0, DT 51\.0, DC 56\.0 \(n = 2 seeds per cell/,
  );
  assert.match(row(rows, 'Decision Mamba beats').verdict, /^reproduced/);
  assert.match(row(rows, 'Decision Mamba on hopper-medium, best').atPaper, /^best_official 61\.0 ± 1\.0 \(n = 2\)/);
  assert.match(row(rows, 'Decision Mamba on hopper-medium, best').verdict, /^not testable here: kit-generated data/);
  assert.match(row(rows, 'The protocol alone').verdict, /^not reproduced/, 'a gap of 10 is under half of 27.6');

  // DMM below Decision Mamba: not reproduced. One dataset missing: no verdict yet.
  const worse = recs.map((r) => (r.spec.model === 'dmm' ? { ...r, scores: { ...r.scores!, best_official: 40 } } : r));
  assert.match(row(claimRows(worse, []), 'DMM matches').verdict, /^not reproduced/);
  const partial = recs.filter((r) => r.dataset.id !== 'walker2d-medium');
  assert.match(row(claimRows(partial, []), 'DMM matches').verdict, /^not testable yet: paper-scale records incomplete/);

  // One seed: "n = 1", never a spread of zero.
  const one = claimRows(
    recs.filter((r) => r.seed === 12),
    [],
  );
  assert.match(row(one, 'Decision Mamba on hopper-medium, best').atPaper, /^best_official 60\.0 \(n = 1\)/);
  assert.ok(one.every((r) => !/± 0\.0/.test(r.atPaper)));
});
