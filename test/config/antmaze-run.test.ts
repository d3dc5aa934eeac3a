/**
 * AntMaze as a run target (docs/spec.md §3.5, §8.9, §10): env 'antmaze' with its two datasets, the maze it is
 * evaluated in, the official width and DSM mode, RTG scale 1 and the five targets, for all four models.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveRun } from '../../src/config/resolve';
import { evalEnvOf, normaliseRunSpec, specHash, type RunSpec } from '../../src/config/run-spec';
import { MODEL_NAMES } from '../../src/config/names';
import { ENV_DIMS } from '../../src/data/d4rl-ids';
import { TASKS } from '../../src/envs/tasks';
import { expandGrid } from '../../src/sweep/grid';

const base: RunSpec = { model: 'dmm', env: 'antmaze', dataset: 'antmaze-umaze', seed: 12, scale: 'paper' };

test('antmaze specs: both datasets, bare kinds normalise, the wrong family is refused in one line', () => {
  assert.equal(normaliseRunSpec({ ...base, dataset: 'umaze' }).dataset, 'antmaze-umaze');
  assert.equal(normaliseRunSpec({ ...base, dataset: 'umaze-diverse' }).dataset, 'antmaze-umaze-diverse');
  assert.equal(specHash({ ...base, dataset: 'umaze' }), specHash(base), 'a bare kind hashes as the full id');
  assert.throws(
    () => normaliseRunSpec({ ...base, dataset: 'medium' }),
    /dataset \(for env 'antmaze'\) must be one of antmaze-umaze, antmaze-umaze-diverse, got "medium"/,
  );
  assert.throws(
    () => normaliseRunSpec({ ...base, env: 'hopper', dataset: 'antmaze-umaze' }),
    /dataset \(for env 'hopper'\) must be one of hopper-random/,
  );
  assert.throws(() => normaliseRunSpec({ ...base, env: 'antmaze-umaze' }), /env must be one of .*antmaze/);
  const cells = expandGrid({
    experiment: 'e',
    scale: 'smoke',
    models: ['dmm'],
    envs: ['antmaze'],
    datasets: ['umaze', 'umaze-diverse'],
    seeds: [12],
  });
  assert.deepEqual(
    cells.map((c) => c.spec.dataset),
    ['antmaze-umaze', 'antmaze-umaze-diverse'],
  );
});

test('both datasets evaluate in antmaze-umaze: 29/8 dims, a 700-step limit under the 1000-step max_ep_len', () => {
  assert.equal(evalEnvOf(base), 'antmaze-umaze');
  assert.equal(evalEnvOf({ ...base, dataset: 'umaze-diverse' }), 'antmaze-umaze');
  assert.equal(evalEnvOf({ ...base, env: 'walker2d', dataset: 'medium' }), 'walker2d');
  assert.deepEqual(ENV_DIMS.antmaze, ENV_DIMS['antmaze-umaze']);
  assert.deepEqual([ENV_DIMS.antmaze.observationDim, ENV_DIMS.antmaze.actionDim], [29, 8]);
  const run = resolveRun(base);
  assert.equal(run.evalEnv, 'antmaze-umaze');
  assert.equal(TASKS[run.evalEnv].maxEpisodeSteps, 700);
  assert.equal(run.eval.maxEpisodeSteps, 1000, 'max_ep_len stays 1000; the env ends the episode at 700');
});

test('official settings on antmaze: DMM shared-frozen at D 128, scale 1 and the five targets for every model', () => {
  for (const model of MODEL_NAMES) {
    const run = resolveRun({ ...base, model });
    assert.equal(run.train.returnScale, 1, model);
    assert.equal(run.eval.returnScale, 1, model);
    assert.deepEqual(run.eval.targets, [1, 10, 100, 1000, 100000], model);
    assert.equal(run.model.hiddenSize, 128, model);
  }
  assert.equal(resolveRun(base).model.dsmMode, 'shared-frozen');
  assert.equal(resolveRun({ ...base, dataset: 'umaze-diverse' }).model.dsmMode, 'shared-frozen');
  assert.equal(resolveRun({ ...base, env: 'hopper', dataset: 'medium' }).model.dsmMode, 'per-layer');
  assert.deepEqual(
    MODEL_NAMES.map((model) => resolveRun({ ...base, model }).train.learningRate),
    [1e-4, 1e-3, 1e-3, 1e-4],
    'dt 1e-4, dc 1e-3 (its CLI default), dmamba 1e-3 (its table outside hopper), dmm 1e-4',
  );
  // The notebook scale evaluates the primary target only: 1 on antmaze (docs/spec.md §10).
  assert.deepEqual(resolveRun({ ...base, scale: 'notebook' }).eval.targets, [1]);
});
