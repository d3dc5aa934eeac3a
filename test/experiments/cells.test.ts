/**
 * The results cache of the notebooks: a second pass over the same cells trains nothing and reads every
 * record; a duplicated spec trains once. Uses hopper-random at smoke scale (no behaviour policy needed).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCells } from '../../src/experiments/cells';
import type { RunSpec } from '../../src/config/run-spec';

test('runCells trains each spec once and the second pass hits the cache', { timeout: 600_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-cells-'));
  const before = process.env.DMM_RESULTS_DIR;
  process.env.DMM_RESULTS_DIR = dir;
  try {
    const base: RunSpec = {
      model: 'dmm',
      env: 'hopper',
      dataset: 'hopper-random',
      seed: 12,
      scale: 'smoke',
      experiment: 'cache-test',
    };
    const specs: RunSpec[] = [base, { ...base, model: 'dt' }, { ...base }];
    const lines: string[] = [];
    const first = await runCells(specs, { scale: 'smoke', workers: 2, log: (l) => lines.push(l) });
    assert.equal(first.failed, 0, lines.join('\n'));
    assert.equal(first.trained, 2, 'two distinct specs are trained, the duplicate once');
    assert.equal(first.cached, 0);
    assert.equal(first.outcomes.length, 3);
    assert.equal(first.outcomes[0].record!.specHash, first.outcomes[2].record!.specHash);
    assert.equal(fs.readdirSync(path.join(dir, 'cache-test')).filter((f) => f.endsWith('.json')).length, 2);
    const second = await runCells(specs, { scale: 'smoke', workers: 2, log: () => {} });
    assert.equal(second.trained, 0, 'nothing is trained on the second pass');
    assert.equal(second.cached, 2);
    assert.deepEqual(
      second.outcomes.map((o) => o.record!.scores),
      first.outcomes.map((o) => o.record!.scores),
    );
  } finally {
    if (before === undefined) delete process.env.DMM_RESULTS_DIR;
    else process.env.DMM_RESULTS_DIR = before;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
