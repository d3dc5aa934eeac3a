/**
 * Both protocols (docs/spec.md §10) are recomputed from a stored record's per-episode returns alone: for every
 * committed record they equal the stored scores, a hand-made record gives the hand-computed values, and a record
 * that lost its episodes is refused.
 */
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { test } from 'node:test';
import { normalizedScore } from '../../src/data/d4rl-ids';
import { listRecordFiles, readRecord, writeRecord, type RunRecord } from '../../src/results/record';
import { episodeScoreMatrix, scoresFromEpisodes } from '../../src/results/scores';

const results = path.resolve(__dirname, '../../results');
const committed = listRecordFiles(results).map(readRecord);

test('every committed record: both protocols recomputed from its episodes equal the stored scores', () => {
  assert.ok(committed.length >= 50, `found only ${committed.length} committed records`);
  for (const r of committed) {
    if (r.status !== 'finished') continue;
    const again = scoresFromEpisodes(r)!;
    const label = `${r.spec.experiment}/${r.specHash}`;
    assert.ok(Math.abs(again.best_official - r.scores!.best_official) < 1e-9, `best_official of ${label}`);
    assert.ok(Math.abs(again.final - r.scores!.final) < 1e-9, `final of ${label}`);
    assert.deepEqual(Object.keys(again.bestPerTarget), Object.keys(r.scores!.bestPerTarget), label);
  }
});

/** A hopper record of 2 iterations × 2 targets × 3 episodes (3600 is hopper's primary target). */
function handMade(): RunRecord {
  const base = committed.find((r) => r.spec.env === 'hopper' && r.status === 'finished')!;
  const target = (t: number, returns: number[]) => ({
    target: t,
    returns,
    lengths: returns.map(() => 1000),
    // Deliberately wrong summaries: the recomputation must read the episodes.
    returnMean: -1,
    returnStd: -1,
    lengthMean: 1000,
    normalizedScore: -1,
  });
  return {
    ...structuredClone(base),
    config: { ...base.config, eval: { ...base.config.eval, targets: [3600, 7200], episodesPerTarget: 3 } },
    iterations: [
      {
        iteration: 1,
        step: 10,
        loss: 1,
        trainSeconds: 0,
        evalSeconds: 0,
        targets: [target(3600, [900, 1200, 1500]), target(7200, [2000, 2100, 2200])],
      },
      {
        iteration: 2,
        step: 20,
        loss: 1,
        trainSeconds: 0,
        evalSeconds: 0,
        targets: [target(3600, [1000, 1000, 1300]), target(7200, [100, 200, 300])],
      },
    ],
  };
}

test('a hand-made record: best_official is the best target mean over iterations, final the last at the primary target', () => {
  const s = scoresFromEpisodes(handMade())!;
  assert.ok(Math.abs(s.best_official - normalizedScore('hopper', 2100)) < 1e-9);
  assert.ok(Math.abs(s.final - normalizedScore('hopper', 1100)) < 1e-9);
  assert.ok(Math.abs(s.bestPerTarget['3600'] - normalizedScore('hopper', 1200)) < 1e-9);
  assert.ok(Math.abs(s.bestPerTarget['7200'] - normalizedScore('hopper', 2100)) < 1e-9);
});

test('a record without its per-episode returns is refused in one line', () => {
  const missing = handMade();
  delete (missing.iterations[1].targets[0] as Partial<RunRecord['iterations'][0]['targets'][0]>).returns;
  assert.throws(
    () => episodeScoreMatrix(missing),
    /Error in episodeScoreMatrix: iteration 2, target 3600 of .* must keep its 3 per-episode returns, got none\./,
  );
  const short = handMade();
  short.iterations[0].targets[1].returns = [2000, 2100];
  assert.throws(
    () => scoresFromEpisodes(short),
    /iteration 1, target 7200 .* must keep its 3 per-episode returns, got 2 value/,
  );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-scores-'));
  const file = path.join(dir, 'r.json');
  writeRecord(file, missing);
  assert.throws(() => readRecord(file), /iteration 2 without its per-episode returns/);
});
