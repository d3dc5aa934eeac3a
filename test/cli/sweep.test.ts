import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { test } from 'node:test';
import { runLocalSweep } from '../../src/cli/local-sweep';
import { readRecord } from '../../src/results/record';
import { recordPath, type RunSpec } from '../../src/sweep/spec';

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
  const r = await runLocalSweep(specs, { resultsDir: dir, jobs: 2, runner, silent: true, log: (l) => lines.push(l) });
  assert.equal(r.finished.length, 2, lines.join('\n'));
  assert.equal(r.failed.length, 2);
  assert.equal(readRecord(recordPath(cell(12), dir)).status, 'finished');
  assert.equal(readRecord(recordPath(cell(23), dir)).status, 'finished');
  const failed = readRecord(recordPath(cell(99), dir));
  assert.equal(failed.status, 'failed');
  assert.match(failed.error!, /hopper-medium must exist, got no file/);
  const crashed = readRecord(recordPath(cell(98), dir));
  assert.equal(crashed.status, 'failed');
  assert.match(crashed.error!, /SIGKILL/);

  const again = await runLocalSweep([cell(12), cell(23)], {
    resultsDir: dir,
    jobs: 2,
    runner,
    silent: true,
    log: () => undefined,
  });
  assert.equal(again.skipped.length, 2);
  assert.equal(again.finished.length + again.failed.length, 0);
});
