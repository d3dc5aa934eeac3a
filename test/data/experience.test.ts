/**
 * medium-replay's replay of the ARS experience (src/data/experience.ts): a short ARS run is rebuilt from its
 * iteration records alone, weights and rollouts exactly, and a share of it is kept evenly, in run order.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyUpdate, rollout, trainArs, type ArsIteration } from '../../src/data/ars';
import { experienceSteps, replayRollouts, selectRollouts } from '../../src/data/experience';
import { makeEnv } from '../../src/envs';

const config = { directions: 3, topDirections: 2, maxIterations: 4, cpuBudgetSeconds: 1e9, evalEpisodes: 1 };

test('the records rebuild the weights exactly, and every rollout replays with its training length', async () => {
  const run = await trainArs('hopper', config);
  const w = new Float64Array(3 * 11);
  run.records.forEach((it, t) => applyUpdate(w, it, run.config.seed, t));
  assert.deepEqual(Array.from(w, Math.fround), run.snapshots.at(-1)!.weights);
  const env = await makeEnv('hopper', { seed: 0 });
  const picks = selectRollouts(run.records, Infinity);
  assert.equal(picks.length, 4 * 3 * 2);
  let replayed = 0;
  replayRollouts(run.records, picks, run.config, 3, (runner, resetSeed) => {
    env.reseed(resetSeed);
    replayed++;
    return rollout(env, runner, { horizon: 1000, noiseStd: 0, shift: 0 }).steps;
  });
  assert.equal(replayed, picks.length);
  // A record that does not match the run is caught by the length check.
  const bad: ArsIteration[] = run.records.map((it) => ({ ...it, steps: it.steps.map((s) => s + 1) }));
  assert.throws(
    () =>
      replayRollouts(bad, selectRollouts(bad, Infinity), run.config, 3, (runner, resetSeed) => {
        env.reseed(resetSeed);
        return rollout(env, runner, { horizon: 1000, noiseStd: 0, shift: 0 }).steps;
      }),
    /must last \d+ steps as in training/,
  );
  env.close();
});

test('a share n/E of the experience: whole rollouts, evenly spread, in run order', () => {
  const experience: ArsIteration[] = Array.from({ length: 10 }, (_, t) => ({
    steps: Array.from({ length: 8 }, (_, j) => 10 + t * 10 + j),
    top: [],
    coef: [],
    obsMean: [],
    obsStd: [],
  }));
  const total = experienceSteps(experience);
  const picks = selectRollouts(experience, Math.round(total / 4));
  const kept = picks.reduce((p, q) => p + q.steps, 0);
  assert.ok(Math.abs(kept - total / 4) <= 100, `kept ${kept} of ${total}`);
  const order = picks.map((p) => p.iteration * 16 + p.k * 2 + (p.sign > 0 ? 0 : 1));
  assert.deepEqual(
    order,
    [...order].sort((x, y) => x - y),
  );
  assert.equal(picks[0].iteration, 0);
  assert.equal(picks.at(-1)!.iteration, 9);
  // Each tenth of the run gives about a quarter of its steps.
  for (let t = 0; t < 10; t++) {
    const mine = picks.filter((p) => p.iteration === t).reduce((p, q) => p + q.steps, 0);
    const all = experience[t].steps.reduce((p, q) => p + q, 0);
    assert.ok(Math.abs(mine - all / 4) <= 2 * experience[t].steps[7], `iteration ${t}: ${mine} of ${all}`);
  }
});
