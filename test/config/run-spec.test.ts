/** A run's identity: the dataset source is part of the spec, so a kit run and a D4RL run never share a record. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkpointDir, normaliseRunSpec, recordPath, specHash, type RunSpec } from '../../src/config/run-spec';
import { expandGrid } from '../../src/sweep/grid';

const base: RunSpec = { model: 'dmm', env: 'hopper', dataset: 'medium', seed: 1, scale: 'quick' };

test('source defaults to kit, is in the hash, and is checked', () => {
  assert.equal(normaliseRunSpec(base).source, 'kit');
  assert.equal(specHash({ ...base, source: 'kit' }), specHash(base), 'kit is the default');
  const d4rl: RunSpec = { ...base, source: 'd4rl' };
  assert.notEqual(specHash(d4rl), specHash(base));
  assert.notEqual(recordPath(d4rl), recordPath(base), 'a kit and a D4RL run have different records');
  assert.notEqual(checkpointDir(d4rl), checkpointDir(base));
  assert.throws(
    () => normaliseRunSpec({ ...base, source: 'd4lr' }),
    /source must be one of kit, d4rl, got "d4lr"\. Did you mean 'd4rl'\?/,
  );
  const [cell] = expandGrid({
    experiment: 'e',
    scale: 'smoke',
    source: 'd4rl',
    cells: [{ model: 'dt', env: 'hopper', dataset: 'medium', seed: 1 }],
  });
  assert.equal(cell.spec.source, 'd4rl', 'a grid-level source reaches every cell');
});

test('one checkpoint folder rule: <root>/<experiment>/checkpoints/<specHash>', () => {
  assert.equal(checkpointDir(base), `results/runs/checkpoints/${specHash(base)}`);
  const x: RunSpec = { ...base, experiment: 'x' };
  assert.equal(checkpointDir(x, '/shared'), `/shared/x/checkpoints/${specHash(x)}`);
});
