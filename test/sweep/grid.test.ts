import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { estimateEta, parseQueueUrl } from '../../src/sweep/queue';
import { normaliseRunSpec, recordPath, specHash, type RunSpec } from '../../src/config/run-spec';
import { expandGrid, loadGrid } from '../../src/sweep/grid';

const base = { experiment: 'e', scale: 'smoke' };

test('the product expands models × envs × datasets × seeds in order, with dataset ids <env>-<kind>', () => {
  const cells = expandGrid({
    ...base,
    models: ['dmm', 'dt'],
    envs: ['hopper', 'walker2d'],
    datasets: ['medium'],
    seeds: [1, 2, 3],
  });
  assert.equal(cells.length, 12);
  assert.deepEqual(cells[0].spec, {
    model: 'dmm',
    env: 'hopper',
    dataset: 'hopper-medium',
    seed: 1,
    scale: 'smoke',
    source: 'kit',
    experiment: 'e',
    evalPadding: 'official',
  });
  assert.equal(cells[3].spec.dataset, 'walker2d-medium');
  assert.equal(cells[6].spec.model, 'dt');
  assert.equal(new Set(cells.map((c) => c.hash)).size, 12);
  for (const c of cells) assert.match(c.hash, /^[0-9a-f]{64}$/);
});

test('the shipped grids expand: main-table is 4 × (9 + 2 AntMaze) × 5 = 220 runs, smoke-6 is 6', () => {
  const main = loadGrid('grids/main-table.json').cells;
  assert.equal(main.length, 220);
  assert.equal(main.filter((c) => c.spec.env === 'antmaze').length, 4 * 2 * 5);
  assert.ok(main.every((c) => c.spec.env !== 'antmaze' || /^antmaze-umaze(-diverse)?$/.test(c.spec.dataset)));
  assert.equal(loadGrid('grids/smoke-6.json').cells.length, 6);
});

test('a product gives each env its own dataset kinds, and refuses a kind or env left without a partner', () => {
  const grid = { experiment: 'e', scale: 'smoke', models: ['dmm'], seeds: [12] };
  const cells = expandGrid({ ...grid, envs: ['hopper', 'antmaze'], datasets: ['medium', 'umaze'] });
  assert.deepEqual(
    cells.map((c) => c.spec.dataset),
    ['hopper-medium', 'antmaze-umaze'],
  );
  assert.throws(
    () => expandGrid({ ...grid, envs: ['hopper'], datasets: ['medium', 'umaze'] }),
    /dataset kind 'umaze' belongs to none of the envs hopper\. Add its env \(antmaze for umaze kinds\)/,
  );
  assert.throws(
    () => expandGrid({ ...grid, envs: ['hopper', 'antmaze'], datasets: ['medium'] }),
    /env "antmaze" takes none of the listed datasets \(medium\)\. Add one of umaze, umaze-diverse/,
  );
});

test('specHash is deterministic, ignores key order and defaults, and sees every field', () => {
  const a: RunSpec = {
    model: 'dmm',
    env: 'hopper',
    dataset: 'hopper-medium',
    seed: 12,
    scale: 'quick',
    overrides: { hiddenSize: 64, dropout: 0.1 },
  };
  const b = {
    overrides: { dropout: 0.1, hiddenSize: 64 },
    scale: 'quick',
    seed: 12,
    dataset: 'hopper-medium',
    env: 'hopper',
    model: 'dmm',
    evalPadding: 'official',
    experiment: 'runs',
  } as RunSpec;
  assert.equal(specHash(a), specHash(b));
  assert.equal(specHash({ ...a, overrides: {} }), specHash({ ...a, overrides: undefined }));
  assert.equal(specHash({ ...a, dataset: 'medium' }), specHash(a));
  const variants: RunSpec[] = [
    { ...a, seed: 13 },
    { ...a, model: 'dt' },
    { ...a, scale: 'smoke' },
    { ...a, experiment: 'other' },
    { ...a, evalPadding: 'train-consistent' },
    { ...a, overrides: { hiddenSize: 64, dropout: 0.2 } },
  ];
  const hashes = new Set([specHash(a), ...variants.map(specHash)]);
  assert.equal(hashes.size, variants.length + 1);
  assert.equal(recordPath(a, 'res'), path.join('res', 'runs', `${specHash(a)}.json`));
});

test('cells inherit the grid fields and merge overrides, the cell winning', () => {
  const cells = expandGrid({
    ...base,
    overrides: { dropout: 0.1, nLayer: 3 },
    cells: [{ model: 'dc', env: 'hopper', dataset: 'hopper-medium-expert', seed: 5, overrides: { nLayer: 1 } }],
  });
  assert.deepEqual(cells[0].spec.overrides, { dropout: 0.1, nLayer: 1 });
  assert.equal(cells[0].spec.experiment, 'e');
});

function throwsOneLine(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: Error) => {
    assert.match(err.message, pattern);
    assert.ok(!err.message.includes('\n'), `one line: ${err.message}`);
    return true;
  });
}

test('bad grids give one-line errors naming the problem and the nearest valid key', () => {
  throwsOneLine(
    () => expandGrid({ ...base, model: ['dmm'] }),
    /unknown key 'model' in the grid\. Did you mean 'models'\?/,
  );
  throwsOneLine(
    () => expandGrid({ ...base, models: ['dmm'], envs: ['hopper'], datasets: ['medium'] }),
    /needs all of .* got only models, envs, datasets/,
  );
  throwsOneLine(
    () => expandGrid({ ...base, models: ['dmn'], envs: ['hopper'], datasets: ['medium'], seeds: [1] }),
    /model must be one of .* got "dmn"\. Did you mean 'dmm'\?/,
  );
  throwsOneLine(
    () => expandGrid({ ...base, models: ['dmm'], envs: ['hopper'], datasets: ['hopper-medium'], seeds: [1] }),
    /'datasets' lists dataset kinds .* Did you mean 'medium'\?/,
  );
  throwsOneLine(
    () => expandGrid({ ...base, models: ['dmm'], envs: ['hopper'], datasets: ['medium'], seeds: [1.5] }),
    /seed must be an integer/,
  );
  throwsOneLine(
    () => expandGrid({ ...base, scale: 'paperr', models: ['dmm'], envs: ['hopper'], datasets: ['medium'], seeds: [1] }),
    /scale must be one of .* Did you mean 'paper'\?/,
  );
  throwsOneLine(
    () => expandGrid({ ...base, models: ['dmm'], envs: ['hopper'], datasets: ['medium'], seeds: [1, 1] }),
    /repeats the product/,
  );
  throwsOneLine(
    () => expandGrid({ ...base, cells: [{ model: 'dmm', env: 'hopper', dataset: 'walker2d-medium', seed: 1 }] }),
    /dataset \(for env 'hopper'\) must be one of .*\(in cells\[0\]\)\./,
  );
  throwsOneLine(
    () => expandGrid({ ...base, cells: [{ model: 'dmm', env: 'hopper', dataset: 'hopper-medium', sed: 1 }] }),
    /unknown key 'sed' in cells\[0\]\. Did you mean 'seed'\?/,
  );
  throwsOneLine(() => expandGrid({ ...base }), /must give models, envs, datasets, seeds or 'cells'/);
  throwsOneLine(
    () =>
      normaliseRunSpec({
        model: 'dmm',
        env: 'hopper',
        dataset: 'hopper-medium',
        seed: 1,
        scale: 'smoke',
        overrides: { lr: NaN },
      }),
    /overrides\.lr must be a finite number/,
  );
});

test('loadGrid reports unreadable and malformed files in one line', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-grid-'));
  try {
    throwsOneLine(
      () => loadGrid(path.join(dir, 'missing.json')),
      /grid file must be readable, got '.*missing\.json' \(ENOENT\)/,
    );
    fs.writeFileSync(path.join(dir, 'bad.json'), '{ "experiment": "e",\n  oops }');
    throwsOneLine(() => loadGrid(path.join(dir, 'bad.json')), /bad\.json must be valid JSON/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('estimateEta: mean finished duration × work left / jobs running at once', () => {
  assert.equal(estimateEta([], 0, []), 0);
  assert.ok(Number.isNaN(estimateEta([], 3, [])));
  // 10 s per job; 4 waiting + half of one + all of another = 5.5 jobs on 2 slots.
  assert.equal(estimateEta([8, 12], 4, [0.5, 0]), (10 * 5.5) / 2);
  assert.equal(estimateEta([10], 2, []), 20);
});

test('parseQueueUrl accepts redis:// addresses and names the problem otherwise', () => {
  assert.deepEqual(parseQueueUrl('redis://h:7000/2'), { host: 'h', port: 7000, db: 2 });
  assert.deepEqual(parseQueueUrl('redis://:s3cret@h'), { host: 'h', port: 6379, db: 0, password: 's3cret' });
  throwsOneLine(() => parseQueueUrl('h:6379'), /must start with redis:\/\/ or rediss:\/\/, got 'h:6379'/);
  throwsOneLine(() => parseQueueUrl('redis://h:6379/x'), /database in the queue address must be a number/);
});
