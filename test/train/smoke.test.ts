/**
 * End-to-end smoke run on the kit's real parts: the DMM model (tiny, smoke scale), the trainer, the real
 * hopper VecEnv for evaluation, the BatchSampler. The dataset is a small set of random-action hopper
 * episodes from the real environment, so the test does not depend on generated dataset files.
 */
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { before, test } from 'node:test';
import { initBackend, tf } from '../../src/backend';
import { evalMain } from '../../src/cli/commands/eval';
import { BatchSampler } from '../../src/data/sampler';
import { makeEnv } from '../../src/envs';
import { createModel, maskedActionLoss } from '../../src/models';
import { readRecord } from '../../src/results/record';
import { recordPath } from '../../src/config/run-spec';
import type { Dataset } from '../../src/train/deps';
import { runTraining } from '../../src/train/run';
import { resolveTrainConfig } from '../../src/config/train';
import { Trainer } from '../../src/train/trainer';
import { Rng } from '../../src/util/rng';

before(async () => {
  await initBackend({ log: false });
});

async function randomHopperEpisodes(n: number): Promise<Dataset> {
  const env = await makeEnv('hopper', { seed: 3 });
  const rng = new Rng(4);
  const trajectories = [];
  const all: number[][] = [];
  for (let e = 0; e < n; e++) {
    const obs: number[] = [];
    const acts: number[] = [];
    const rews: number[] = [];
    let o = env.reset();
    for (let t = 0; t < 40; t++) {
      const a = Float64Array.from({ length: 3 }, () => rng.range(-1, 1));
      obs.push(...o);
      all.push(Array.from(o));
      acts.push(...a);
      const r = env.step(a);
      rews.push(r.reward);
      o = r.observation;
      if (r.terminated) break;
    }
    const T = rews.length;
    trajectories.push({
      observations: Float32Array.from(obs),
      actions: Float32Array.from(acts),
      rewards: Float32Array.from(rews),
      terminals: new Uint8Array(T),
      timeouts: new Uint8Array(T).fill(1, T - 1),
    });
  }
  env.close();
  const mean = new Float64Array(11);
  const std = new Float64Array(11);
  for (let j = 0; j < 11; j++) {
    const col = all.map((o) => o[j]);
    mean[j] = col.reduce((x, y) => x + y, 0) / col.length;
    std[j] = Math.sqrt(col.reduce((x, y) => x + (y - mean[j]) ** 2, 0) / col.length) + 1e-6;
  }
  return {
    id: 'hopper-medium',
    env: 'hopper',
    kind: 'medium',
    provenance: { source: 'kit', checksum: 'random-hopper-test' },
    trajectories,
    stateMean: mean,
    stateStd: std,
  };
}

test('smoke run of DMM on hopper: a valid finished record, a loadable checkpoint, and dmm eval on it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-smoke-'));
  const data = await randomHopperEpisodes(6);
  const spec = {
    model: 'dmm',
    env: 'hopper',
    dataset: 'medium',
    seed: 12,
    scale: 'smoke',
    experiment: 'smoke-test',
  } as const;
  const rec = await runTraining(spec, {
    resultsDir: dir,
    silent: true,
    workers: 0,
    deps: { loadDataset: async () => data },
  });
  const onDisk = readRecord(recordPath(spec, dir));
  assert.equal(onDisk.status, 'finished');
  assert.equal(onDisk.backend, rec.backend);
  assert.equal(onDisk.config.model.hiddenSize, 16, 'smoke shrinks the model');
  assert.equal(onDisk.config.train.batchSize, 4);
  assert.equal(onDisk.iterations.length, 2);
  for (const it of onDisk.iterations) {
    assert.ok(Number.isFinite(it.loss) && it.loss > 0);
    assert.deepEqual(
      it.targets.map((t) => t.target),
      [3600, 7200, 36000, 72000],
    );
    for (const t of it.targets) {
      assert.equal(t.returns.length, 2);
      assert.ok(t.lengths.every((l) => l >= 1 && l <= 20));
      assert.ok(Number.isFinite(t.normalizedScore));
    }
  }
  assert.equal(onDisk.parameterCount, rec.parameterCount);
  assert.ok(onDisk.scores && onDisk.scores.best_official >= 0);

  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(' '));
  try {
    const code = await evalMain([
      '--checkpoint',
      rec.checkpointDir!,
      '--episodes',
      '1',
      '--max-steps',
      '5',
      '--targets',
      '3600',
    ]);
    assert.equal(code, 0);
  } finally {
    console.log = log;
  }
  assert.match(lines.join('\n'), /\| 3600 \| -?\d+\.\d ± 0\.0 \| [1-5]\.0 \| -?\d+\.\d \|/);

  // --out where nothing can be written (/proc takes no new files): the table, then one line.
  lines.length = 0;
  console.log = (...a: unknown[]) => void lines.push(a.join(' '));
  const args = ['--checkpoint', rec.checkpointDir!, '--episodes', '1', '--max-steps', '5', '--targets', '3600'];
  try {
    await assert.rejects(evalMain([...args, '--out', '/proc/dmm-eval.json']), (err: Error) => {
      assert.match(
        err.message,
        /^Error in dmm eval: --out must be a file that can be written, got \/proc\/dmm-eval\.json \(ENOENT\)\. The table above is complete; pass another --out to keep it as JSON\.$/,
      );
      return true;
    });
  } finally {
    console.log = log;
  }
  assert.match(lines.join('\n'), /\| 3600 \| /, 'the table is printed before the write');
  assert.ok(tf.memory().numTensors < 200);
});

test('training steps of the real DMM keep the live tensor count flat', async () => {
  const data = await randomHopperEpisodes(3);
  const model = createModel('dmm', { hiddenSize: 16, nLayer: 1 }, { stateDim: 11, actDim: 3 }, 5);
  const trainer = new Trainer(
    model as never,
    new BatchSampler(data, { contextLength: 8, batchSize: 4, seed: 1 }),
    resolveTrainConfig({ batchSize: 4 }),
    5,
    maskedActionLoss,
  );
  await trainer.train(2);
  const before = tf.memory().numTensors;
  await trainer.train(3);
  assert.equal(tf.memory().numTensors, before);
  trainer.dispose();
  model.dispose();
});
