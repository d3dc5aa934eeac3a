/**
 * The fused engine inside the trainer and a run (src/train/trainer.ts, src/train/run.ts): runs of every model train
 * (and evaluate) through the engine and their records say so; models the engine does not cover fall back to tfjs with a
 * note; a checkpoint written by either path resumes on the other with the same loss curve (to float32 round-off); and
 * resuming on the fused path is bit-identical to an uninterrupted fused run.
 */
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { before, test } from 'node:test';
import { initBackend } from '../../src/backend';
import { createModel } from '../../src/models';
import { readRecord } from '../../src/results/record';
import { recordPath } from '../../src/config/run-spec';
import { latestCheckpoint, loadCheckpoint } from '../../src/train/checkpoint';
import { runTraining, type RunOptions } from '../../src/train/run';
import type { EngineChoice } from '../../src/train/trainer';
import { toyDeps } from '../helpers/train-fakes';

before(async () => {
  process.env.DMM_QUIET = '1';
  await initBackend({ log: false });
});

const spec = {
  model: 'dmm',
  env: 'hopper',
  dataset: 'medium',
  seed: 12,
  scale: 'smoke',
  experiment: 'engine',
  overrides: {
    iterations: 2,
    stepsPerIteration: 4,
    batchSize: 5,
    learningRate: 3e-3,
    hiddenSize: 16,
    contextLength: 4,
  },
} as const;

/** The real DMM on the toy dataset and environment (3-dim states, 2-dim actions). */
const deps = toyDeps({
  createModel: (name, config, dims, seed) => createModel(name as 'dmm', config as never, dims, seed),
});

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-engine-run-'));
}

async function run(dir: string, engine: EngineChoice, extra: Partial<RunOptions> = {}) {
  return runTraining(spec, { resultsDir: dir, deps, silent: true, engine, ...extra });
}

function finalWeights(dir: string): Map<string, Float32Array> {
  const ck = loadCheckpoint(
    latestCheckpoint(path.join(dir, 'engine', 'checkpoints', readRecord(recordPath(spec, dir)).specHash))!,
  );
  return new Map([...ck.weights].map(([k, v]) => [k, v.data]));
}

function maxRel(a: number[], b: number[]): number {
  return Math.max(...a.map((x, i) => Math.abs(x - b[i]) / Math.abs(b[i])));
}

test('a DMM run trains through the fused engine and its record names it; tfjs gives the same losses', async () => {
  const fused = await run(tmp(), 'fused');
  const tfjs = await run(tmp(), 'tfjs');
  assert.equal(fused.engine, 'fused');
  assert.equal(tfjs.engine, 'tfjs');
  assert.equal(fused.status, 'finished');
  const lf = fused.iterations.map((i) => i.loss);
  const lt = tfjs.iterations.map((i) => i.loss);
  assert.ok(maxRel(lf, lt) < 1e-5, `losses ${lf} vs ${lt}`);
});

for (const model of ['dmamba', 'dc', 'dt'] as const)
  test(`a ${model} run trains and evaluates through the fused engine; tfjs gives the same losses and returns`, async () => {
    const other = { ...spec, model, overrides: { ...spec.overrides, maxEpLen: 200 } };
    const go = (engine: EngineChoice) => runTraining(other, { resultsDir: tmp(), deps, silent: true, engine });
    const fused = await go('fused');
    const tfjs = await go('tfjs');
    assert.equal(fused.engine, 'fused');
    assert.equal(fused.engineNote, undefined);
    const lf = fused.iterations.map((i) => i.loss);
    const lt = tfjs.iterations.map((i) => i.loss);
    assert.ok(maxRel(lf, lt) < 1e-5, `losses ${lf} vs ${lt}`);
    const returns = (r: typeof fused) => r.iterations.flatMap((i) => i.targets.flatMap((t) => t.returns));
    assert.ok(returns(fused).length > 0, 'the run must evaluate');
    assert.ok(maxRel(returns(fused), returns(tfjs)) < 1e-4, `returns ${returns(fused)} vs ${returns(tfjs)}`);
  });

test('by default on the CPU, Decision Mamba, DC and DT train on the fused engine too', async () => {
  for (const model of ['dmamba', 'dc', 'dt'] as const) {
    const rec = await runTraining(
      { ...spec, model, overrides: { ...spec.overrides, iterations: 1 } },
      { resultsDir: tmp(), deps, silent: true },
    );
    assert.equal(rec.engine, 'fused', model);
    assert.equal(rec.engineNote, undefined, model);
  }
});

test('a checkpoint resumes on the other path with the same loss curve', async () => {
  const whole = await run(tmp(), 'tfjs');
  for (const [first, second] of [
    ['tfjs', 'fused'],
    ['fused', 'tfjs'],
  ] as const) {
    const dir = tmp();
    await run(dir, first, { stopAfterIteration: 1 });
    const resumed = await run(dir, second);
    assert.equal(resumed.engine, second);
    const l = resumed.iterations.map((i) => i.loss);
    const ref = whole.iterations.map((i) => i.loss);
    assert.ok(maxRel(l, ref) < 1e-5, `${first} → ${second}: ${l} vs ${ref}`);
  }
});

test('resuming on the fused path is bit-identical to an uninterrupted fused run', async () => {
  const a = tmp();
  const b = tmp();
  await run(a, 'fused');
  await run(b, 'fused', { stopAfterIteration: 1 });
  await run(b, 'fused');
  const wa = finalWeights(a);
  const wb = finalWeights(b);
  for (const [k, v] of wa) assert.deepEqual(Array.from(wb.get(k)!), Array.from(v), k);
});

test('a variant the engine does not cover trains on tfjs and the record says why', async () => {
  const dir = tmp();
  const rec = await runTraining(
    { ...spec, overrides: { ...spec.overrides, globalMixer: 'mamba2', hiddenSize: 32, iterations: 1 } },
    { resultsDir: dir, deps, silent: true, engine: 'fused' },
  );
  assert.equal(rec.engine, 'tfjs');
  assert.match(rec.engineNote ?? '', /globalMixer 'mamba2'/);
});
