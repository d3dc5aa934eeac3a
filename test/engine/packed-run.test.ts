/**
 * Packed runs end to end (src/train/packed-run.ts): two specs (seeds 12 and 23) of each model trained as one pack write
 * the same records (losses, evaluation returns) and the same final checkpoints as each spec trained alone,
 * each record says `packedWith: 2`; a pack stopped after its first iteration and run again resumes from its
 * runs' checkpoints and ends where the uninterrupted pack ends; specs of different shapes are refused; a grid's
 * specs are grouped by shape into packs (packGroups) and trained pack by pack, finished ones kept (runPackedSpecs);
 * `dmm sweep --pack` killed with SIGKILL mid-pack and run again ends as the uninterrupted pack does.
 */
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { before, test } from 'node:test';
import { initBackend } from '../../src/backend';
import { createModel } from '../../src/models';
import { spawn } from 'child_process';
import { checkpointDir, normaliseRunSpec, recordPath, type RunSpec } from '../../src/config/run-spec';
import { latestCheckpoint, loadCheckpoint } from '../../src/train/checkpoint';
import { runTraining } from '../../src/train/run';
import { packGroups, runPacked, runPackedSpecs } from '../../src/train/packed-run';
import * as trainRunner from '../../src/sweep/train-runner';
import { toyDeps } from '../helpers/train-fakes';

before(async () => {
  process.env.DMM_QUIET = '1';
  await initBackend({ log: false });
});

const base = {
  model: 'dmm',
  env: 'hopper',
  dataset: 'medium',
  scale: 'smoke',
  experiment: 'packed',
  overrides: {
    iterations: 2,
    stepsPerIteration: 6,
    batchSize: 5,
    learningRate: 3e-3,
    hiddenSize: 16,
    contextLength: 4,
  },
} as const;
const specs: RunSpec[] = [12, 23].map((seed) => ({ ...base, seed }));
const deps = toyDeps({
  createModel: (name, config, dims, seed) => createModel(name as 'dmm', config as never, dims, seed),
});
const DMM = path.join(__dirname, '..', '..', 'bin', 'dmm.js');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-packed-'));

function finalWeights(dir: string, spec: RunSpec): Record<string, number[]> {
  const ck = loadCheckpoint(latestCheckpoint(checkpointDir(spec, dir))!);
  return Object.fromEntries([...ck.weights].map(([k, v]) => [k, Array.from(v.data)]));
}

const comparable = (r: { iterations: { loss: number; step: number; targets: { returns: number[] }[] }[] }) =>
  r.iterations.map((i) => ({ loss: i.loss, step: i.step, returns: i.targets.map((t) => t.returns) }));

// Each model's pack: DMM at `base`; DT, DC and Decision Mamba small (two blocks, K 3) to keep CPU time short.
const MODEL_SPECS: Record<string, RunSpec[]> = {
  dmm: specs,
  ...Object.fromEntries(
    (['dt', 'dc', 'dmamba'] as const).map((model) => [
      model,
      [12, 23].map((seed) => ({
        ...base,
        model,
        seed,
        overrides: { ...base.overrides, contextLength: 3, nLayer: 2 },
      })),
    ]),
  ),
};

for (const [model, pair] of Object.entries(MODEL_SPECS))
  test(`a pack of two ${model} runs writes what the two runs write alone`, async () => {
    const alone = tmp();
    const packed = tmp();
    const a = [];
    for (const s of pair) a.push(await runTraining(s, { resultsDir: alone, deps, silent: true, engine: 'fused' }));
    const p = await runPacked(pair, { resultsDir: packed, deps, silent: true });
    for (let i = 0; i < pair.length; i++) {
      assert.equal(p[i].status, 'finished');
      assert.equal(p[i].packedWith, 2);
      assert.equal(p[i].engine, 'fused');
      assert.deepEqual(comparable(p[i]), comparable(a[i]));
      assert.deepEqual(finalWeights(packed, pair[i]), finalWeights(alone, pair[i]));
    }
    assert.notDeepEqual(comparable(p[0]), comparable(p[1]));
  });

test('a pack stopped after one iteration resumes where it stopped', async () => {
  const whole = tmp();
  const split = tmp();
  const w = await runPacked(specs, { resultsDir: whole, deps, silent: true });
  await runPacked(specs, { resultsDir: split, deps, silent: true, stopAfterIteration: 1 });
  const s = await runPacked(specs, { resultsDir: split, deps, silent: true });
  for (let i = 0; i < specs.length; i++) {
    assert.deepEqual(comparable(s[i]), comparable(w[i]));
    assert.deepEqual(finalWeights(split, specs[i]), finalWeights(whole, specs[i]));
  }
});

test('runs that resume at different iterations (a kill between their checkpoints) finish as separate packs', async () => {
  const whole = tmp();
  const split = tmp();
  const w = await runPacked(specs, { resultsDir: whole, deps, silent: true });
  await runPacked([specs[0]], { resultsDir: split, deps, silent: true, stopAfterIteration: 1 });
  const s = await runPacked(specs, { resultsDir: split, deps, silent: true });
  for (let i = 0; i < specs.length; i++) {
    assert.deepEqual([s[i].status, s[i].packedWith], ['finished', 1]);
    assert.deepEqual(comparable(s[i]), comparable(w[i]));
    assert.deepEqual(finalWeights(split, specs[i]), finalWeights(whole, specs[i]));
  }
});

test('specs of different shapes are not packed together', async () => {
  const other = { ...specs[1], overrides: { ...base.overrides, hiddenSize: 32 } };
  await assert.rejects(
    runPacked([specs[0], other], { resultsDir: tmp(), deps, silent: true }),
    /must share the model configuration/,
  );
});

test('packGroups: one group per shape, split evenly under maxRuns; configs the engine lacks stand alone', () => {
  const seeds = [1, 2, 3].map((seed) => ({ ...base, seed }));
  const wide = { ...base, seed: 1, overrides: { ...base.overrides, hiddenSize: 32 } };
  const dt = { ...base, model: 'dt', seed: 1 } as const;
  const dt2 = { ...dt, seed: 2 };
  const multiHead = { ...dt, overrides: { ...dt.overrides, hiddenSize: 32, nHead: 2 } };
  const g = packGroups([...seeds, wide, dt, dt2, multiHead], { maxRuns: 2 });
  assert.deepEqual(
    g.map((x) => [x.key === null, x.specs.map((s) => `${s.model} ${s.seed}`)]),
    [
      [false, ['dmm 1', 'dmm 2']],
      [false, ['dmm 3']],
      [false, ['dmm 1']],
      [false, ['dt 1', 'dt 2']],
      [true, ['dt 1']],
    ],
  );
  assert.equal(g[0].key, g[1].key);
  assert.notEqual(g[0].key, g[2].key);
  assert.equal(packGroups(seeds, { executor: 'cpu' }).length, 1);
  // On the CPU too every model's default is the engine (engineCpuDefaultGap), so DT's runs pack there as well.
  assert.deepEqual(
    packGroups([dt, dt2], { executor: 'cpu' }).map((x) => x.specs.length),
    [2],
  );
  assert.throws(() => packGroups(seeds, { maxRuns: 0 }), /maxRuns must be a positive integer/);
  // Walker2d and halfcheetah have the same dimensions (17, 6): their runs pack together; hopper's do not.
  const envs = (['walker2d', 'halfcheetah', 'hopper'] as const).map((env) => ({
    ...base,
    env,
    dataset: 'medium',
    seed: 1,
  }));
  assert.deepEqual(
    packGroups(envs).map((x) => x.specs.map((s) => s.env)),
    [['walker2d', 'halfcheetah'], ['hopper']],
  );
  // The queue worker groups jobs by the same key (dmm worker --pack), without loading the engine.
  assert.equal(trainRunner.packKey(seeds[0]), trainRunner.packKey(seeds[2]));
  assert.notEqual(trainRunner.packKey(seeds[0]), trainRunner.packKey(wide));
});

test('runPackedSpecs trains each pack once and keeps finished runs on a rerun', async () => {
  const dir = tmp();
  const wide = { ...specs[0], overrides: { ...base.overrides, hiddenSize: 24 } };
  const lines: string[] = [];
  const log = (l: string) => lines.push(l);
  const report = await runPackedSpecs([...specs, wide], { resultsDir: dir, deps, silent: true, log });
  assert.deepEqual([report.trained, report.cached, report.failed], [3, 0, 0]);
  const r = report.outcomes.map((o) => o.record!);
  assert.deepEqual(
    r.map((x) => [x.status, x.packedWith]),
    [
      ['finished', 2],
      ['finished', 2],
      ['finished', 1],
    ],
  );
  assert.match(lines[0], /3 run\(s\): 0 finished before, 3 to run in 2 pack\(s\) of 2, 1/);
  const again = await runPackedSpecs([...specs, wide], { resultsDir: dir, deps, silent: true, log });
  assert.match(lines.at(-1)!, /3 finished before, 0 to run/);
  assert.equal(again.cached, 3);
  assert.deepEqual(
    again.outcomes.map((o) => comparable(o.record!)),
    r.map(comparable),
  );
});

test('dmm sweep --pack killed mid-pack (SIGKILL) resumes from the runs’ checkpoints and ends as an uninterrupted pack', async () => {
  const dir = tmp();
  const grid = path.join(dir, 'grid.json');
  fs.writeFileSync(
    grid,
    JSON.stringify({
      experiment: 'packed-kill',
      scale: 'smoke',
      models: ['dmm'],
      envs: ['hopper'],
      datasets: ['medium'],
      seeds: [12, 23],
      overrides: { iterations: 3, stepsPerIteration: 600 },
    }),
  );
  const cells = [12, 23].map((seed) =>
    normaliseRunSpec({
      model: 'dmm',
      env: 'hopper',
      dataset: 'medium',
      seed,
      scale: 'smoke',
      experiment: 'packed-kill',
      overrides: { iterations: 3, stepsPerIteration: 600 },
    }),
  );
  const killed = path.join(dir, 'killed');
  const child = spawn(process.execPath, [DMM, 'sweep', '--grid', grid, '--pack', '--results', killed], {
    env: { ...process.env, DMM_QUIET: '1' },
    stdio: 'ignore',
  });
  // Kill as soon as iteration 1's checkpoint of the first run is on disk: the pack is then mid-way.
  const first = path.join(checkpointDir(cells[0], killed), 'iter-0001');
  const t0 = Date.now();
  while (!fs.existsSync(first)) {
    assert.ok(Date.now() - t0 < 240_000, 'the packed sweep must write a checkpoint within 4 minutes');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  const record = JSON.parse(fs.readFileSync(recordPath(cells[0], killed), 'utf8'));
  assert.notEqual(record.status, 'finished', 'the kill must come before the pack ends');
  // Run again (in this process), and once more without a kill in a second folder.
  const resumed = await runPackedSpecs(cells, { resultsDir: killed, silent: true, log: () => {} });
  const whole = await runPackedSpecs(cells, { resultsDir: path.join(dir, 'whole'), silent: true, log: () => {} });
  for (let i = 0; i < cells.length; i++) {
    const r = resumed.outcomes[i].record!;
    // packedWith is 1 when the kill fell between the two runs' checkpoints (they resume as two packs).
    assert.deepEqual([r.status, r.iterations.length], ['finished', 3]);
    assert.ok(r.packedWith === 1 || r.packedWith === 2, `packedWith ${r.packedWith}`);
    assert.deepEqual(comparable(r), comparable(whole.outcomes[i].record!));
    assert.deepEqual(finalWeights(killed, cells[i]), finalWeights(path.join(dir, 'whole'), cells[i]));
  }
  fs.rmSync(dir, { recursive: true, force: true });
});
