import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bestOfficial, bestPerTarget, finalScore, meanStd } from '../../src/eval/protocols';
import { primaryTarget, rtgTargets } from '../../src/config/presets';
import { normalizedScore, REFERENCE_SCORES } from '../../src/data/d4rl-ids';

test('normalised score is 100·(R − MIN)/(MAX − MIN) with the D4RL references', () => {
  assert.equal(normalizedScore('hopper', -20.272305), 0);
  assert.ok(Math.abs(normalizedScore('hopper', 3234.3) - 100) < 1e-12);
  assert.ok(Math.abs(normalizedScore('halfcheetah', 12135.0) - 100) < 1e-12);
  assert.ok(Math.abs(normalizedScore('walker2d', 1.629008) - 0) < 1e-12);
  // A hand value: hopper return 1500 → 100·(1500 + 20.272305)/(3234.3 + 20.272305).
  assert.ok(Math.abs(normalizedScore('hopper', 1500) - 46.71189) < 1e-4);
  assert.deepEqual(REFERENCE_SCORES.walker2d, { min: 1.629008, max: 4592.3 });
  assert.throws(() => normalizedScore('hoper', 1), /Error in normalizedScore: env must be one of/);
});

test('targets and primary targets follow docs/spec.md §10', () => {
  assert.deepEqual(rtgTargets('dmm', 'hopper'), [3600, 7200, 36000, 72000]);
  assert.deepEqual(rtgTargets('dt', 'walker2d'), [5000, 2500]);
  assert.deepEqual(rtgTargets('dmamba', 'halfcheetah'), [6000, 12000, 24000, 120000, 240000]);
  assert.equal(primaryTarget('halfcheetah'), 12000);
});

// Synthetic run: 3 iterations × 4 targets (hopper, DMM targets).
const m = {
  targets: [3600, 7200, 36000, 72000],
  scores: [
    [-5, -3, -8, -9],
    [40, 55, 12, 3],
    [38, 41, 20, 1],
  ],
};

test('best_official is the max over iterations of the max over targets, floored at 0', () => {
  assert.equal(bestOfficial(m), 55);
  assert.equal(bestOfficial({ targets: [3600], scores: [[-4], [-1]] }), 0);
  assert.deepEqual(bestPerTarget(m), { '3600': 40, '7200': 55, '36000': 20, '72000': 3 });
});

test('final is the last iteration at the primary target, not the best one', () => {
  assert.equal(finalScore(m, 3600), 38);
  assert.throws(() => finalScore(m, 5000), /must include the primary target 5000/);
});

test('across seeds: mean ± population std with the values', () => {
  const s = meanStd([50, 60, 70]);
  assert.equal(s.mean, 60);
  assert.ok(Math.abs(s.std - Math.sqrt(200 / 3)) < 1e-12);
  assert.deepEqual(s.values, [50, 60, 70]);
  assert.equal(s.n, 3);
  const none = meanStd([]);
  assert.ok(Number.isNaN(none.mean) && Number.isNaN(none.std) && none.n === 0, 'no values: NaN, not 0');
});
