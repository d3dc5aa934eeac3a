import assert from 'node:assert/strict';
import { test } from 'node:test';
import { officialPreset } from '../../src/config/presets';
import { resolveEvalConfig } from '../../src/config/eval';
import { resolveRun } from '../../src/config/resolve';
import { resolveTrainConfig } from '../../src/config/train';

test('official learning rates follow docs/spec.md §5, §6 and §9', () => {
  assert.equal(officialPreset('dmm', 'walker2d', 'medium-replay').learningRate, 1e-4);
  assert.equal(officialPreset('dt', 'hopper', 'medium').learningRate, 1e-4);
  assert.equal(officialPreset('dmamba', 'hopper', 'medium').learningRate, 1e-4);
  assert.equal(officialPreset('dmamba', 'hopper', 'medium-expert').learningRate, 1e-3);
  assert.equal(officialPreset('dmamba', 'walker2d', 'medium').learningRate, 1e-4);
  assert.equal(officialPreset('dmamba', 'halfcheetah', 'medium').learningRate, 1e-3);
  assert.equal(officialPreset('dc', 'hopper', 'medium').learningRate, 1e-4);
  assert.equal(officialPreset('dc', 'hopper', 'medium-replay').learningRate, 1e-3);
  const p = officialPreset('dmm', 'hopper', 'medium');
  assert.deepEqual([p.batchSize, p.weightDecay, p.returnScale], [64, 1e-4, 1000]);
  assert.throws(() => officialPreset('dmn', 'hopper', 'medium'), /Did you mean 'dmm'/);
});

test('a spec resolves to preset → scale → overrides; trainer keys go to the trainer, the rest to the model', () => {
  const paper = resolveRun({ model: 'dmamba', env: 'hopper', dataset: 'medium', seed: 12, scale: 'paper' });
  assert.equal(paper.model.hiddenSize, 256);
  assert.equal(paper.train.stepsPerIteration * paper.train.iterations, 100000);
  assert.equal(paper.train.learningRate, 1e-4);
  assert.deepEqual(paper.eval.targets, [1800, 3600, 7200, 36000, 72000]);
  assert.equal(paper.eval.episodesPerTarget, 100);
  const quick = resolveRun({
    model: 'dmm',
    env: 'hopper',
    dataset: 'hopper-medium',
    seed: 12,
    scale: 'quick',
    overrides: { learningRate: 3e-4, hiddenSize: 32 },
  });
  assert.equal(quick.train.learningRate, 3e-4);
  assert.equal(quick.model.hiddenSize, 32);
  assert.equal(quick.model.learningRate, undefined);
  assert.equal(
    quick.train.warmupSteps * 10,
    quick.train.iterations * quick.train.stepsPerIteration,
    'warm-up is 10 % of the steps',
  );
  assert.throws(() => resolveTrainConfig({ learningRate: -1 }), /learningRate must be a positive number/);
  assert.throws(() => resolveTrainConfig({ lr: 1 } as never), /unknown option 'lr'/);
});

test('the notebook scale is its own scale: 4 × 500 steps at batch 32, D=32, 5 episodes of the primary target', () => {
  const nb = resolveRun({ model: 'dmamba', env: 'walker2d', dataset: 'medium', seed: 12, scale: 'notebook' });
  assert.deepEqual(
    [nb.train.iterations, nb.train.stepsPerIteration, nb.train.warmupSteps, nb.train.batchSize],
    [4, 500, 200, 32],
  );
  assert.equal(nb.model.hiddenSize, 32);
  assert.deepEqual(nb.eval.targets, [5000]);
  assert.equal(nb.eval.episodesPerTarget, 5);
  assert.equal(nb.dataScale, 'quick', 'the notebook runs train on the quick-size kit datasets');
  const swept = resolveRun({ ...nb.spec, overrides: { hiddenSize: 16 } });
  assert.equal(swept.model.hiddenSize, 16, "a spec's override wins over the scale's width");
  const quick = resolveRun({ ...nb.spec, scale: 'quick' });
  assert.deepEqual([quick.train.iterations * quick.train.stepsPerIteration, quick.model.hiddenSize], [2000, 128]);
  assert.equal(quick.eval.targets.length, 5, 'quick evaluates every target');
});

test('the evaluator config has defaults and one resolver', () => {
  const c = resolveEvalConfig({ targets: [3600] });
  assert.deepEqual(
    { ...c, targets: [...c.targets] },
    {
      targets: [3600],
      episodesPerTarget: 100,
      maxEpisodeSteps: 1000,
      maxEpLen: 1000,
      returnScale: 1000,
      evalPadding: 'official',
    },
  );
  assert.ok(Object.isFrozen(c));
  assert.throws(() => resolveEvalConfig({ targets: [] }), /targets must be a non-empty list/);
  assert.throws(
    () => resolveEvalConfig({ targets: [1], episodesPerTarget: 0 }),
    /episodesPerTarget must be a positive integer/,
  );
  assert.throws(
    () => resolveEvalConfig({ targets: [1], evalPadding: 'oficial' as never }),
    /evalPadding must be one of official, train-consistent, got "oficial"/,
  );
  assert.throws(() => resolveEvalConfig({ targets: [1], episodes: 3 } as never), /unknown option 'episodes'/);
});
