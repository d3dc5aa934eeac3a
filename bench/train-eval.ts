/**
 * Training and evaluation speed for DMM on hopper-medium (issue 6):
 *   1. training steps/s (batch 64, K 8, D 64: forward, masked MSE, backward, clip, AdamW);
 *   2. one paper-protocol evaluation round, 4 targets × 100 episodes × up to 1000 steps, batched on VecEnv.
 *      Episode lengths depend on the policy, so two numbers: hopper with the given model (a trained
 *      checkpoint via --checkpoint, else a fresh one whose episodes end early), and the full-length bound:
 *      halfcheetah, which never terminates, so all 400 episodes run 1000 steps;
 *   3. the wall time of one full `quick` run: `npx dmm train --model dmm --env hopper --dataset medium --scale quick`
 *      run as a child process exactly as a user runs it (both seeds of the scale, one process per core, records
 *      in a temporary folder), unless --no-quick; the note says whether the kit dataset was already cached.
 * Targets on the 2-core machine: a round ≤ 3 min, a quick run ≤ 10 min.
 *
 *   node --import tsx bench/train-eval.ts [--steps 30] [--episodes 100] [--max-steps 1000] [--checkpoint DIR]
 *        [--no-full-length] [--no-quick] [--run-scale quick]
 * Writes bench/results/train-eval.json (or $OUT/train-eval.json) and prints a short table.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend, tf } from '../src/backend';
import { evaluate } from '../src/eval/rollout';
import { officialModelConfig, rtgTargets } from '../src/config/presets';
import { dataScaleOf } from '../src/config/scales';
import { createModel } from '../src/models';
import { restoreRun } from '../src/train/checkpoint';
import { defaultDeps, type SequenceModel } from '../src/train/deps';
import type { RunRecord } from '../src/results/record';
import { cacheDir } from '../src/data';
import { dataFileName, REPO_ROOT } from '../src/data/paths';
import { portablePath } from '../src/util/portable-path';
import { parseBenchFlags, trainerStep, writeBenchResult } from './lib';

const args = parseBenchFlags('train-eval', {
  steps: { type: 'number', default: 30, help: 'timed training steps' },
  episodes: { type: 'number', default: 100, help: 'episodes per target of the evaluation round' },
  // 1000 is the protocol; smaller only for a brief run on a loaded machine (printed).
  'max-steps': { type: 'number', default: 1000, help: 'episode cap of the evaluation round' },
  checkpoint: { type: 'string', help: 'a trained checkpoint (run folder or iter-NNNN) to evaluate' },
  'no-full-length': { type: 'boolean', help: 'skip the halfcheetah full-length bound' },
  'no-quick': { type: 'boolean', help: 'skip the full CLI run' },
  'run-scale': { type: 'string', default: 'quick', help: 'scale of the full run (smoke only to try the bench)' },
} as const);
const STEPS = args.steps;
const EPISODES = args.episodes;
const MAX_STEPS = args['max-steps'];
const RUN_SCALE = args['run-scale'] ?? 'quick';

function dmm(env: string, dims: { stateDim: number; actDim: number }): SequenceModel {
  return createModel('dmm', officialModelConfig('dmm', env, 'medium'), dims, 1) as unknown as SequenceModel;
}

async function main(): Promise<void> {
  const backend = await initBackend();
  const deps = defaultDeps();
  const rows: { measure: string; value: string; note: string }[] = [];
  const out: Record<string, unknown> = {
    backend,
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    loadavg: os.loadavg(),
    node: process.version,
    date: new Date().toISOString(),
  };

  // 1. Training steps/s.
  const hopper = { stateDim: 11, actDim: 3 };
  const model = dmm('hopper', hopper);
  // The shipped step through Trainer.train (one loss read per call, as runTraining reads it).
  const { trainer } = trainerStep(model, { batchSize: 64 });
  await trainer.train(3);
  const t0 = performance.now();
  await trainer.train(STEPS);
  const stepsPerSecond = STEPS / ((performance.now() - t0) / 1000);
  out.training = { steps: STEPS, stepsPerSecond, batch: 64, parameters: model.parameterCount() };
  rows.push({
    measure: 'training steps/s (DMM hopper, batch 64)',
    value: stepsPerSecond.toFixed(2),
    note: `${STEPS} steps; paper run 100k steps ≈ ${(100000 / stepsPerSecond / 3600).toFixed(1)} h`,
  });
  trainer.dispose();

  // 2. Evaluation rounds.
  const ckptArg = args.checkpoint;
  let evalModel = model;
  let stateMean: ArrayLike<number> = new Float64Array(11);
  let stateStd: ArrayLike<number> = new Float64Array(11).fill(1);
  let which = 'fresh model (episodes end early)';
  if (ckptArg) {
    const restored = await restoreRun(ckptArg, deps);
    evalModel = restored.model;
    stateMean = restored.stateMean;
    stateStd = restored.stateStd;
    which = `checkpoint ${portablePath(restored.checkpoint.dir, REPO_ROOT)}`;
  }
  const round = async (env: string, m: SequenceModel, mean: ArrayLike<number>, std: ArrayLike<number>) => {
    const t = performance.now();
    const res = await evaluate(m, {
      env,
      stateMean: mean,
      stateStd: std,
      seed: 1,
      createVecEnv: deps.createVecEnv,
      config: {
        targets: rtgTargets('dmm', env),
        episodesPerTarget: EPISODES,
        maxEpisodeSteps: MAX_STEPS,
        maxEpLen: 1000,
        returnScale: 1000,
        evalPadding: 'official',
      },
    });
    const seconds = (performance.now() - t) / 1000;
    const envSteps = res.reduce((n, r) => n + r.lengths.reduce((a, b) => a + b, 0), 0);
    const longest = Math.max(...res.flatMap((r) => r.lengths));
    return { seconds, envSteps, longest, meanLength: envSteps / (res.length * EPISODES) };
  };
  const hop = await round('hopper', evalModel, stateMean, stateStd);
  out.evalHopper = { ...hop, model: which, episodesPerTarget: EPISODES };
  rows.push({
    measure: `eval round hopper (4 × ${EPISODES} episodes)`,
    value: `${hop.seconds.toFixed(1)} s`,
    note: `${which}; mean length ${hop.meanLength.toFixed(0)}, longest ${hop.longest}, ${(hop.envSteps / hop.seconds).toFixed(0)} env steps/s`,
  });
  if (!args['no-full-length']) {
    const cheetah = dmm('halfcheetah', { stateDim: 17, actDim: 6 });
    const hc = await round('halfcheetah', cheetah, new Float64Array(17), new Float64Array(17).fill(1));
    out.evalFullLength = { ...hc, env: 'halfcheetah', episodesPerTarget: EPISODES };
    rows.push({
      measure: `eval round, full length (halfcheetah 4 × ${EPISODES} × ${MAX_STEPS})`,
      value: `${hc.seconds.toFixed(1)} s`,
      note: `upper bound for any policy; ${(hc.envSteps / hc.seconds).toFixed(0)} env steps/s`,
    });
    cheetah.dispose();
  }
  if (evalModel !== model) evalModel.dispose();
  model.dispose();

  // 3. One full quick run, through the CLI as a user runs it: both seeds of the scale, one process per core.
  if (!args['no-quick']) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-bench-quick-'));
    const cacheFile = path.join(cacheDir(), `hopper_medium-kit-${dataScaleOf(RUN_SCALE)}-seed0.hdf5`);
    const cached = fs.existsSync(cacheFile);
    const cli = ['train', '--model', 'dmm', '--env', 'hopper', '--dataset', 'medium', '--scale', RUN_SCALE];
    const t = performance.now();
    const code = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, [path.join(__dirname, '..', 'bin', 'dmm.js'), ...cli, '--results', dir], {
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      child.on('exit', (c) => resolve(c ?? 1));
    });
    const seconds = (performance.now() - t) / 1000;
    const recs: RunRecord[] = [];
    for (const sub of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
      const d = path.join(dir, sub);
      if (!fs.statSync(d).isDirectory()) continue;
      for (const f of fs.readdirSync(d))
        if (f.endsWith('.json')) recs.push(JSON.parse(fs.readFileSync(path.join(d, f), 'utf8')) as RunRecord);
    }
    const sum = (r: RunRecord, k: 'trainSeconds' | 'evalSeconds') => r.iterations.reduce((x, it) => x + it[k], 0);
    const perSeed = recs.map((r) => ({
      seed: r.spec.seed,
      status: r.status,
      trainSeconds: sum(r, 'trainSeconds'),
      evalSeconds: sum(r, 'evalSeconds'),
      bestOfficial: r.scores?.best_official,
      final: r.scores?.final,
    }));
    out.quickRun = {
      command: `npx dmm ${cli.join(' ')}`,
      exitCode: code,
      seconds,
      datasetCached: cached,
      dataset: dataFileName(cacheFile), // relative to the data folder
      seeds: perSeed,
    };
    const seedNote = perSeed
      .map((r) => `seed ${r.seed}: train ${r.trainSeconds.toFixed(0)} s, eval ${r.evalSeconds.toFixed(0)} s`)
      .join('; ');
    rows.push({
      measure: `full ${RUN_SCALE} run (npx dmm train DMM hopper-medium, ${perSeed.length} seeds)`,
      value: code === 0 ? `${(seconds / 60).toFixed(1)} min` : `failed (${code})`,
      note: `seeds in parallel, one process per core; dataset ${cached ? 'cached' : 'generated in the run'}; ${seedNote}`,
    });
    fs.rmSync(dir, { recursive: true, force: true });
  }

  out.rows = rows;
  const file = writeBenchResult('train-eval', out);
  const w = Math.max(...rows.map((r) => r.measure.length));
  console.log(
    `\nbackend ${backend}, ${os.cpus().length} cores (${os.cpus()[0]?.model}), load average ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}, ${tf.memory().numTensors} live tensors`,
  );
  for (const r of rows) console.log(`${r.measure.padEnd(w)}  ${r.value.padStart(10)}  ${r.note}`);
  console.log(`wrote ${file}`);
}

void main();
