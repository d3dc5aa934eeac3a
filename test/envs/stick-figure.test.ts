/** Stick-figure views: segments follow the body, the SVG strip and the Plotly animation are well formed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeEnv, randomRollout, stickFigureAnimation, stickFigureSvg } from '../../src/envs';

test('segments are the capsules in world coordinates: hopper torso top at z ≈ 1.45 after reset', async () => {
  const env = await makeEnv('hopper', { seed: 0 });
  env.reset();
  const s = env.segments();
  assert.equal(s.length, 4 * 4);
  // torso capsule from (0, 1.45) to (0, 1.05) within the reset noise
  assert.ok(
    Math.abs(Math.max(s[1], s[3]) - 1.45) < 0.02 && Math.abs(Math.min(s[1], s[3]) - 1.05) < 0.02,
    `${s.subarray(0, 4)}`,
  );
  // foot capsule along x from -0.13 to 0.26 at z 0.1
  assert.ok(Math.abs(Math.min(s[12], s[14]) + 0.13) < 0.02 && Math.abs(Math.max(s[12], s[14]) - 0.26) < 0.02);
  env.close();
});

test('SVG strip and Plotly animation of a random rollout', async () => {
  const rollout = await randomRollout('halfcheetah', 1, 30);
  assert.equal(rollout.frames.length, rollout.rewards.length + 1);
  const svg = stickFigureSvg(rollout, { panels: 5 });
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(svg, /<\/svg>\n$/);
  // halfcheetah never terminates, so 30 steps are recorded; 5 panels × 8 capsules (torso, head, 6 limbs) drawn with round caps.
  assert.equal((svg.match(/stroke-linecap="round"/g) ?? []).length, 5 * 8);
  assert.equal(rollout.frames.length, 31);
  assert.doesNotMatch(svg, /NaN/);
  const fig = stickFigureAnimation(rollout, { every: 10 });
  assert.equal(fig.data.length, 8);
  assert.deepEqual(
    fig.frames.map((f) => (f as { name: string }).name),
    ['0', '10', '20', '30'],
  );
  assert.doesNotThrow(() => JSON.stringify(fig));
});
