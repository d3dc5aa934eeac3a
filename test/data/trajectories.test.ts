import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  buildCard,
  mediumExpertTrajectories,
  normalizedScore,
  splitTrajectories,
  stateStatistics,
  type TransitionArrays,
} from '../../src/data';

function columns(n: number, ends: Record<number, 't' | 'o'>): TransitionArrays {
  const terminals = new Uint8Array(n);
  const timeouts = new Uint8Array(n);
  for (const [i, k] of Object.entries(ends)) (k === 't' ? terminals : timeouts)[Number(i)] = 1;
  return {
    env: 'hopper',
    n,
    observations: Float32Array.from({ length: n * 2 }, (_, k) => (k % 2 === 0 ? k / 2 : 1000 + ((k * 7919) % 13) / 7)),
    actions: Float32Array.from({ length: n }, (_, i) => i),
    rewards: Float32Array.from({ length: n }, (_, i) => i + 1),
    terminals,
    timeouts,
    metadata: {},
  };
}

test('episodes close at terminals or timeouts; the trailing segment is dropped', () => {
  const { trajectories, droppedSteps } = splitTrajectories(columns(10, { 2: 't', 3: 'o', 7: 't' }), 2, 1);
  assert.deepEqual(
    trajectories.map((t) => Array.from(t.actions)),
    [[0, 1, 2], [3], [4, 5, 6, 7]],
  );
  assert.equal(droppedSteps, 2);
  assert.deepEqual(
    Array.from(trajectories[2].observations),
    [
      4,
      1000 + ((9 * 7919) % 13) / 7,
      5,
      1000 + ((11 * 7919) % 13) / 7,
      6,
      1000 + ((13 * 7919) % 13) / 7,
      7,
      1000 + ((15 * 7919) % 13) / 7,
    ].map(Math.fround),
  );
});

test('state statistics: float64 population mean and std over all observations, σ + 1e-6', () => {
  const { trajectories } = splitTrajectories(columns(10, { 4: 't', 9: 'o' }), 2, 1);
  const { mean, std } = stateStatistics(trajectories, 2);
  const xs = trajectories.flatMap((t) => Array.from(t.observations));
  for (let j = 0; j < 2; j++) {
    const col = xs.filter((_, k) => k % 2 === j);
    const m = col.reduce((p, q) => p + q, 0) / col.length;
    const v = col.reduce((p, q) => p + (q - m) ** 2, 0) / col.length;
    assert.ok(Math.abs(mean[j] - m) <= 1e-12 * Math.abs(m));
    assert.ok(Math.abs(std[j] - (Math.sqrt(v) + 1e-6)) <= 1e-12);
  }
  // The large offset of column 1 would lose digits in float32 (E[x²] − E[x]² would lose more).
  assert.ok(std[1] > 0.2 && std[1] < 1);
});

test('medium-expert: expert list then medium list, shuffled by seed', () => {
  const e = splitTrajectories(columns(6, { 1: 't', 3: 't', 5: 't' }), 2, 1).trajectories;
  const m = splitTrajectories(columns(4, { 0: 't', 1: 't', 2: 't', 3: 'o' }), 2, 1).trajectories;
  const a = mediumExpertTrajectories(e, m, 1);
  const b = mediumExpertTrajectories(e, m, 1);
  const c = mediumExpertTrajectories(e, m, 2);
  assert.equal(a.length, 7);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.deepEqual(new Set(a), new Set([...e, ...m]));
});

test('normalized score uses the d4rl/infos.py reference values', () => {
  assert.equal(normalizedScore('hopper', 3234.3), 100);
  assert.equal(normalizedScore('hopper', -20.272305), 0);
  assert.ok(Math.abs(normalizedScore('hopper', 1422) - 44.3) < 0.1, 'hopper-medium-v2: 1422 → 44.3');
  assert.equal(normalizedScore('walker2d', 1.629008), 0);
  assert.equal(normalizedScore('halfcheetah', 12135.0), 100);
  const { trajectories, droppedSteps } = splitTrajectories(columns(10, { 4: 't', 9: 'o' }), 2, 1);
  const { mean, std } = stateStatistics(trajectories, 2);
  const card = buildCard({
    id: 'x',
    env: 'hopper',
    source: 'kit',
    trajectories,
    droppedSteps,
    stateMean: mean,
    stateStd: std,
    checksum: 'c',
  });
  assert.equal(card.transitions, 10);
  assert.equal(card.episodes, 2);
  assert.deepEqual([card.terminals, card.timeouts], [1, 1]);
  assert.equal(card.episodeReturn.mean, (15 + 40) / 2);
  assert.equal(card.episodeReturn.std, 12.5);
  assert.ok(Math.abs(card.normalizedScore.mean - normalizedScore('hopper', 27.5)) < 1e-9);
});
