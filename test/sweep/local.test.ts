import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { test } from 'node:test';
import { runSpecs } from '../../src/sweep/local';
import { readRecord } from '../../src/results/record';
import { recordPath, type RunSpec } from '../../src/config/run-spec';

const runner = path.join(__dirname, '..', 'helpers', 'train-toy-runner.ts');
const cell = (seed: number): RunSpec => ({
  model: 'dmm',
  env: 'hopper',
  dataset: 'hopper-medium',
  seed,
  scale: 'smoke',
  experiment: 'sweep-test',
});

test('a sweep with a failing and a crashing cell completes the others and records both failures; a rerun skips finished cells', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-sweep-'));
  const specs = [cell(12), cell(99), cell(23), cell(98)];
  const lines: string[] = [];
  const r = await runSpecs([...specs, cell(12)], { resultsDir: dir, jobs: 2, runner, log: (l) => lines.push(l) });
  assert.equal(r.trained, 2, lines.join('\n'));
  assert.equal(r.failed, 2);
  assert.equal(r.outcomes.length, 5, 'one outcome per spec, in order; the duplicate ran once');
  assert.equal(r.outcomes[4].record?.specHash, r.outcomes[0].record?.specHash);
  assert.match(r.outcomes[3].error!, /SIGKILL/);
  assert.equal(readRecord(recordPath(cell(12), dir)).status, 'finished');
  assert.equal(readRecord(recordPath(cell(23), dir)).status, 'finished');
  const failed = readRecord(recordPath(cell(99), dir));
  assert.equal(failed.status, 'failed');
  assert.match(failed.error!, /hopper-medium must exist, got no file/);
  const crashed = readRecord(recordPath(cell(98), dir));
  assert.equal(crashed.status, 'failed');
  assert.match(crashed.error!, /SIGKILL/);

  const again = await runSpecs([cell(12), cell(23)], { resultsDir: dir, jobs: 2, runner, log: () => undefined });
  assert.equal(again.cached, 2);
  assert.equal(again.trained + again.failed, 0);
  assert.deepEqual(
    again.outcomes.map((o) => o.record?.scores),
    [r.outcomes[0].record?.scores, r.outcomes[2].record?.scores],
  );
});
