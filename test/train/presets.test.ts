import assert from 'node:assert/strict';
import { test } from 'node:test';
import { officialPreset } from '../../src/train/presets';
import { resolveRunConfigs } from '../../src/train/run';
import { resolveTrainConfig } from '../../src/train/trainer';

test('official learning rates follow §5, §6 and §9', () => {
  assert.equal(officialPreset('dmm', 'walker2d', 'medium-replay').learningRate, 1e-4);
  assert.equal(officialPreset('dt', 'hopper', 'medium').learningRate, 1e-4);
  assert.equal(officialPreset('dmamba', 'hopper', 'medium').learningRate, 1e-4);
  assert.equal(officialPreset('dmamba', 'hopper', 'medium-expert').learningRate, 1e-3);
  assert.equal(officialPreset('dmamba', 'walker2d', 'medium').learningRate, 1e-4);
  assert.equal(officialPreset('dmamba', 'halfcheetah', 'medium').learningRate, 1e-3);
  assert.equal(officialPreset('dc', 'hopper', 'medium').learningRate, 1e-4);
  assert.equal(officialPreset('dc', 'hopper', 'medium-replay').learningRate, 1e-3);
  const p = officialPreset('dmm', 'hopper', 'medium');
  assert.deepEqual(
    [p.batchSize, p.iterations, p.stepsPerIteration, p.warmupSteps, p.weightDecay, p.returnScale],
    [64, 10, 10000, 10000, 1e-4, 1000],
  );
  assert.throws(() => officialPreset('dmn', 'hopper', 'medium'), /Did you mean 'dmm'/);
});

test('a spec resolves to preset → scale → overrides; trainer keys go to the trainer, the rest to the model', () => {
  const paper = resolveRunConfigs({ model: 'dmamba', env: 'hopper', dataset: 'medium', seed: 12, scale: 'paper' });
  assert.equal(paper.model.hiddenSize, 256);
  assert.equal(paper.train.stepsPerIteration * paper.train.iterations, 100000);
  assert.equal(paper.train.learningRate, 1e-4);
  assert.deepEqual(paper.eval.targets, [1800, 3600, 7200, 36000, 72000]);
  assert.equal(paper.eval.episodesPerTarget, 100);
  const quick = resolveRunConfigs({
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
