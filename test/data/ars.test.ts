/**
 * ARS (src/data/ars.ts): every draw is seeded by its place in the run, so worker threads and a resumed
 * checkpoint give the run that one uninterrupted thread gives.
 */
import assert from 'node:assert/strict';
import * as path from 'path';
import { test } from 'node:test';
import { trainArs, type ArsRun } from '../../src/data/ars';
import { tempDir } from '../helpers/data-files';

const config = {
  directions: 4,
  topDirections: 2,
  maxIterations: 4,
  cpuBudgetSeconds: 1e9,
  evalEpisodes: 1,
  evalEvery: 2,
};
const facts = (r: ArsRun): unknown => ({
  records: r.records,
  envSteps: r.envSteps,
  // A stopped segment also snapshots where it stops (iteration 3): the grid's snapshots must agree.
  snapshots: r.snapshots
    .filter((s) => s.iteration % 2 === 0)
    .map((s) => [s.iteration, s.weights, s.obsMean, s.noisyReturn]),
});

test('two worker threads, or a stop and a resume from the checkpoint, give the same run as one thread', async () => {
  const straight = await trainArs('hopper', config);
  assert.equal(straight.records.length, 4);
  const threaded = await trainArs('hopper', config, { workers: 2 });
  assert.deepEqual(facts(threaded), facts(straight));
  const ck = path.join(tempDir('ars'), 'ck.json');
  await trainArs('hopper', { ...config, maxIterations: 3 }, { checkpointFile: ck });
  const resumed = await trainArs('hopper', config, { checkpointFile: ck });
  assert.deepEqual(facts(resumed), facts(straight));
  await assert.rejects(
    trainArs('hopper', { ...config, stepSize: 0.5 }, { checkpointFile: ck }),
    /same env and settings/,
  );
});

test('a resume with other evaluation settings gives the run those settings give from the start', async () => {
  const other = { ...config, actionNoise: 0.3, evalEpisodes: 2 };
  const straight = await trainArs('hopper', other);
  const ck = path.join(tempDir('ars'), 'ck.json');
  await trainArs('hopper', { ...config, maxIterations: 3 }, { checkpointFile: ck });
  const resumed = await trainArs('hopper', other, { checkpointFile: ck });
  assert.deepEqual(facts(resumed), facts(straight));
});
