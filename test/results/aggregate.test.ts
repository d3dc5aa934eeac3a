import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { test } from 'node:test';
import { filterRows, loadRows, summaryTable, toCSV, toMarkdown, writeReport } from '../../src/results/aggregate';
import { RECORD_FORMAT, readRecord, writeRecord, type RunRecord } from '../../src/results/record';
import { normaliseRunSpec, recordPath, specHash } from '../../src/config/run-spec';

/** A synthetic finished record whose scores follow from a given (iteration × target) score matrix. */
function record(
  model: 'dmm' | 'dt',
  seed: number,
  best: number,
  final: number,
  status: RunRecord['status'] = 'finished',
  overrides?: Record<string, unknown>,
): RunRecord {
  const spec = normaliseRunSpec({
    model,
    env: 'hopper',
    dataset: 'medium',
    seed,
    scale: 'quick',
    experiment: 'synthetic',
    ...(overrides ? { overrides } : {}),
  });
  return {
    format: RECORD_FORMAT,
    specHash: specHash(spec),
    spec,
    status,
    seed,
    backend: 'wasm',
    gitCommit: 'unknown',
    kitVersion: '0.1.0',
    config: { model: {}, train: {}, eval: { targets: [3600] } },
    dataset: { id: 'hopper-medium', source: 'kit', checksum: 'x', provenance: null },
    iterations: [],
    scores: status === 'finished' ? { best_official: best, final, bestPerTarget: {} } : undefined,
    startedAt: '2026-01-01T00:00:00Z',
  };
}

function fixture(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-agg-'));
  const recs = [
    record('dmm', 12, 60, 50),
    record('dmm', 23, 70, 40),
    record('dmm', 34, 80, 30),
    record('dt', 12, 55, 55),
    record('dt', 23, 0, 0, 'failed'),
    record('dmm', 12, 10, 5, 'finished', { hiddenSize: 16 }),
  ];
  for (const r of recs) writeRecord(recordPath(r.spec, dir), r);
  return dir;
}

test('summary: per model and dataset, mean ± population std over seeds for both protocols, failed runs left out', () => {
  const rows = loadRows(fixture());
  assert.equal(rows.length, 6);
  const t = summaryTable(rows).objects() as Record<string, unknown>[];
  const dmm = t.find((o) => o.model === 'dmm' && o.variant === '')!;
  assert.equal(dmm.seeds, 3);
  assert.equal(dmm.best_official_mean, 70);
  assert.ok(Math.abs((dmm.best_official_std as number) - Math.sqrt(200 / 3)) < 1e-9);
  assert.equal(dmm.final_mean, 40);
  assert.deepEqual(dmm.final_values, [50, 40, 30]);
  const dt = t.find((o) => o.model === 'dt')!;
  assert.equal(dt.seeds, 1);
  assert.equal(dt.final_std, 0);
  // A variant (here width 16) is its own row, never pooled with the default's seeds.
  const small = t.find((o) => o.model === 'dmm' && o.variant !== '')!;
  assert.equal(small.variant, 'hiddenSize=16');
  assert.equal(small.seeds, 1);
  const md = toMarkdown(summaryTable(rows));
  assert.match(
    md,
    /\| synthetic \| dmm \| hopper-medium \| kit \| quick \| official \| none \| 3 \| 70\.0 ± 8\.2 \| 40\.0 ± 8\.2 \|/,
  );
  // One seed: no spread to show, so no '± 0.0' that would read as a measured one.
  assert.match(md, /\| official \| hiddenSize=16 \| 1 \| 10\.0 \(n = 1\) \| 5\.0 \(n = 1\) \|/);
  assert.match(
    toCSV(summaryTable(rows)),
    /^experiment,model,dataset,source,scale,evalPadding,variant,seeds,best_official_mean/,
  );
});

test('filters by model, env, dataset (id or kind), scale', () => {
  const rows = loadRows(fixture());
  assert.equal(filterRows(rows, { model: 'dt' }).length, 2);
  assert.equal(filterRows(rows, { dataset: 'medium', status: 'finished' }).length, 5);
  assert.equal(filterRows(rows, { dataset: 'hopper-medium', scale: 'paper' }).length, 0);
  assert.throws(() => filterRows(rows, { modle: 'dt' } as never), /unknown option 'modle'. Did you mean 'model'/);
});

test('writeReport writes CSV and Markdown', () => {
  const dir = fixture();
  const out = writeReport(summaryTable(loadRows(dir)), path.join(dir, 'reports'));
  assert.ok(fs.readFileSync(out.md, 'utf8').includes('best_official (mean ± std)'));
  assert.ok(fs.readFileSync(out.csv, 'utf8').split('\n').length >= 3);
});

test('a corrupt record gives one line naming the file and the fix', () => {
  const dir = fixture();
  const file = path.join(dir, 'synthetic', 'broken.json');
  fs.writeFileSync(file, '{"format": "dmm-kit/run-record@1", "status": ');
  assert.throws(
    () => loadRows(dir),
    (err: Error) => {
      assert.match(
        err.message,
        /^Error in readRecord: .*broken\.json must be a dmm-kit\/run-record@1 JSON file, got invalid JSON .*Delete it to rerun the cell/,
      );
      assert.ok(!err.message.includes('\n'));
      return true;
    },
  );
  fs.writeFileSync(file, JSON.stringify({ format: 'something-else' }));
  assert.throws(() => readRecord(file), /got format 'something-else'/);
});

test('a finished record without numeric scores is refused, not averaged over fewer seeds', () => {
  const dir = fixture();
  const file = recordPath(record('dmm', 23, 70, 40).spec, dir);
  const good = readRecord(file);
  const cases: [unknown, RegExp][] = [
    [null, /got scores null/],
    [{ best_official: 'high', final: 40, bestPerTarget: {} }, /got scores\.best_official "high"/],
    [{ best_official: 70, final: null, bestPerTarget: {} }, /got scores\.final null/],
    [{ best_official: 70, final: 40, bestPerTarget: { 3600: 'x' } }, /got scores\.bestPerTarget\.3600 "x"/],
  ];
  for (const [scores, message] of cases) {
    fs.writeFileSync(file, JSON.stringify({ ...good, scores }));
    assert.throws(
      () => loadRows(dir),
      (err: Error) => {
        assert.match(err.message, /^Error in readRecord: .* must be a dmm-kit\/run-record@1 JSON file, got scores/);
        assert.match(err.message, message);
        assert.ok(!err.message.includes('\n'));
        return true;
      },
    );
  }
  const { scores: _gone, ...noScores } = good;
  fs.writeFileSync(file, JSON.stringify(noScores));
  assert.throws(() => readRecord(file), /a finished record without scores/);
});
