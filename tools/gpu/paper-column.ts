/**
 * What DMM's paper column (9 datasets × 5 seeds, 100k steps, 10 official evaluation rounds each) costs on one
 * GPU host, from a part of it that fits one device call, with the extrapolation printed beside the measurement:
 *
 * 1. training: per pack that `dmm sweep --pack` makes of the column's cells (an environment's 3 datasets × 5
 *    seeds share a shape; walker2d and halfcheetah share their dimensions, so `halfcheetah+walker2d` is one pack
 *    of 30), here as 15 seeds per environment on its medium dataset (quick-size kit data, so generation fits the
 *    call; a step costs the same on paper-size data: a batch is 64 windows whatever the dataset's size), STEPS
 *    steps each, through `runPackedSpecs`;
 * 2. evaluation: one round of the official protocol (docs/spec.md §10: every RTG target, 100 episodes each, up to
 *    1000 steps) for the pack's runs at once, with the trained weights (forward.ts's packed model call).
 *
 * The column is then Σ over packs of (train seconds × 100k / STEPS + 10 × one round). Records
 * go to $OUT/results; the table and JSON to stdout and $OUT/paper-column.json.
 *   DMM_BACKEND=webgpu bash .gpu/column/run.sh [steps=2000] [packs=hopper,halfcheetah+walker2d]
 */
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from '../../src/backend';
import { resolveRun } from '../../src/config/resolve';
import { checkpointDir, evalEnvOf, normaliseRunSpec, type RunSpec } from '../../src/config/run-spec';
import { EngineForward } from '../../src/engine/forward';
import { evaluate, type EvalModel } from '../../src/eval/rollout';
import { DMM_DEFAULTS, type DmmConfig } from '../../src/models';
import { latestCheckpoint, loadCheckpoint } from '../../src/train/checkpoint';
import { defaultDeps } from '../../src/train/deps';
import { packedEvalWorkers, runPackedSpecs } from '../../src/train/packed-run';
import { kitCommit } from '../../src/util/version';

// The official 5 seeds and 10 more: 15 runs, the size of one environment's pack of the column.
const SEEDS = [12, 23, 34, 45, 51, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70];
const PAPER_STEPS = 100_000;
const PAPER_ROUNDS = 10;

async function officialRound(specs: RunSpec[], resultsDir: string) {
  const official = resolveRun({ ...specs[0], scale: 'paper' }).eval;
  // COLUMN_EPISODES: fewer episodes per target, to try the tool on a CPU; the GPU host runs the official 100.
  const evalConfig = {
    ...official,
    episodesPerTarget: Number(process.env.COLUMN_EPISODES ?? official.episodesPerTarget),
  };
  const executor = (await initBackend({ log: false })) === 'webgpu' ? 'webgpu' : 'cpu';
  const cks = specs.map((s) => loadCheckpoint(latestCheckpoint(checkpointDir(s, resultsDir))!));
  const config = { ...DMM_DEFAULTS, ...resolveRun(specs[0]).model } as DmmConfig;
  const dims = (cks[0].state.run as { dims: { stateDim: number; actDim: number } }).dims;
  const fwd = new EngineForward(config, dims, executor, specs.length);
  const rows = evalConfig.targets.length * evalConfig.episodesPerTarget;
  const workers = packedEvalWorkers(evalConfig, specs.length); // as a pack's evaluations (packed-run.ts)
  const t0 = performance.now();
  const results = await Promise.all(
    specs.map((s, r) => {
      const ck = cks[r];
      fwd.setWeights(new Map([...ck.weights, ...ck.frozen].map(([k, v]) => [k, v.data])), r);
      const model: EvalModel = {
        name: 'dmm',
        config: config as unknown as Record<string, unknown>,
        dims,
        forward: () => {
          throw new Error('paper-column: the engine path only');
        },
        lastActions: (w, B, largest) => fwd.lastActions(w, B, largest, r),
        evaluationDone: () => fwd.close(r),
      };
      return evaluate(model, {
        env: evalEnvOf(s),
        stateMean: ck.state.stateMean,
        stateStd: ck.state.stateStd,
        config: evalConfig,
        seed: s.seed,
        createVecEnv: defaultDeps().createVecEnv,
        workers,
        silent: true,
      });
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const envSteps = results.flat().reduce((n, t) => n + t.lengths.reduce((a, b) => a + b, 0), 0);
  const msPerCall = fwd.stats.ms / Math.max(1, fwd.stats.calls);
  fwd.dispose();
  return {
    seconds,
    episodesPerTarget: evalConfig.episodesPerTarget,
    episodes: rows * specs.length,
    envSteps,
    modelCalls: fwd.stats.calls,
    msPerCall,
    workers,
  };
}

type Row = { column: number } & Record<string, unknown>;

/** paper-column.json after every environment, so a call cut short still brings back what it measured. */
function writeResult(out: string, rows: Row[]): number {
  const columnSeconds = rows.reduce((n, r) => n + r.column, 0);
  const result = {
    bench: 'paper-column',
    commit: process.env.DMM_COMMIT ?? kitCommit(),
    date: new Date(),
    rows,
    columnSeconds,
  };
  const file = path.join(out, 'paper-column.json');
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(result, null, 1));
  fs.renameSync(`${file}.tmp`, file);
  return columnSeconds;
}

(async () => {
  const steps = Number(process.argv[2] ?? 2000);
  const packs = (process.argv[3] ?? 'hopper,halfcheetah+walker2d').split(',');
  const out = process.env.OUT ?? 'results-gpu';
  const resultsDir = path.join(out, 'results');
  const rows = [];
  for (const env of packs) {
    const specs = env.split('+').flatMap((e) =>
      SEEDS.map((seed) =>
        normaliseRunSpec(
          {
            model: 'dmm',
            env: e,
            dataset: 'medium',
            seed,
            scale: 'quick',
            experiment: 'paper-column',
            overrides: { iterations: 1, stepsPerIteration: steps, warmupSteps: 10000 },
          },
          'paper-column',
        ),
      ),
    );
    const t0 = performance.now();
    const report = await runPackedSpecs(specs, { resultsDir, silent: true, log: (l) => console.error(l) });
    const wall = (performance.now() - t0) / 1000;
    const recs = report.outcomes.map((o) => o.record!);
    if (report.failed) throw new Error(`paper-column: ${env} failed: ${report.outcomes.find((o) => o.error)?.error}`);
    // Records of one pack share its training time: Σ over packs (one pack on the GPU; packs of 4 on a CPU).
    const train = recs.reduce((n, r) => n + r.iterations[0].trainSeconds / (r.packedWith ?? 1), 0);
    const round = await officialRound(specs, resultsDir);
    const runSteps = (specs.length * steps) / train;
    const column = (train * PAPER_STEPS) / steps + PAPER_ROUNDS * round.seconds;
    rows.push({
      env,
      runs: specs.length,
      steps,
      trainSeconds: train,
      runStepsPerSecond: runSteps,
      wall,
      round,
      column,
    });
    writeResult(out, rows);
    console.error(
      `${env}: train ${train.toFixed(1)} s (${runSteps.toFixed(0)} run-steps/s), official round ${round.seconds.toFixed(1)} s`,
    );
  }
  const total = writeResult(out, rows);
  console.log(
    '\n| pack | packed runs | steps each | train s | run-steps/s | official round s (episodes, env steps, model ms/call) | column part, extrapolated |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows)
    console.log(
      `| ${r.env} | ${r.runs} | ${r.steps} | ${r.trainSeconds.toFixed(1)} | ${r.runStepsPerSecond.toFixed(0)} | ${r.round.seconds.toFixed(1)} (${r.round.episodes}, ${r.round.envSteps}, ${r.round.msPerCall.toFixed(2)}) | ${(r.column / 60).toFixed(1)} min |`,
    );
  console.log(
    `DMM paper column (45 runs in the packs above, ${PAPER_STEPS} steps, ${PAPER_ROUNDS} official rounds), packs one after another: ${(total / 60).toFixed(1)} min`,
  );
})().catch((e) => {
  console.error((e as Error).stack ?? e);
  process.exit(1);
});
