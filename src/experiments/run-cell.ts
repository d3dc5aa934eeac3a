/**
 * One notebook training cell, run in a sweep child process (src/sweep/child.ts loads this file as its
 * runner). At `smoke` and `paper` scale it is exactly `runTraining`. At `quick` scale the evaluation is
 * cut as well (fewer episodes, primary RTG target only; budget.ts), which `runTraining` has no option for
 * (issue 8 report: a RunSpec `eval` override would remove this file); so the same steps run here: official
 * configs → scale → overrides (resolveRunConfigs), train, evaluate (§10 rollouts), write the record after
 * every iteration, and keep the final checkpoint for notebooks 05 and 06.
 */
import { initBackend } from '../backend';
import { bestOfficial, bestPerTarget, finalScore, type ScoreMatrix } from '../eval/protocols';
import { evaluate, type EvalConfig } from '../eval/rollout';
import { primaryTarget } from '../eval/targets';
import { RECORD_FORMAT, writeRecord, type RunRecord } from '../results/record';
import { recordPath, specHash, type RunSpec } from '../sweep/spec';
import type { JobContext } from '../sweep/runner';
import { saveCheckpoint } from '../train/checkpoint';
import { defaultDeps } from '../train/deps';
import { resolveRunConfigs, runTraining } from '../train/run';
import { kitCommit, kitVersion } from '../util/version';
import { Trainer } from '../train/trainer';
import { deriveSeed } from '../util/rng';
import { budgetFor } from './budget';

/** The evaluation a cell of this scale runs (the run scale's own, cut at quick scale). */
export function cellEvalConfig(spec: RunSpec, base: EvalConfig): EvalConfig {
  const cut = budgetFor(spec.scale).eval;
  if (!cut) return base;
  return {
    ...base,
    targets: cut.primaryOnly ? [primaryTarget(spec.env)] : base.targets,
    episodesPerTarget: cut.episodesPerTarget,
    maxEpisodeSteps: cut.maxEpisodeSteps ?? base.maxEpisodeSteps,
  };
}

export async function runCell(spec: RunSpec, opts: { resultsDir: string; checkpointDir: string }): Promise<RunRecord> {
  if (!budgetFor(spec.scale).eval) {
    return runTraining(spec, {
      resultsDir: opts.resultsDir,
      checkpointDir: opts.checkpointDir,
      silent: true,
      resume: false,
    });
  }
  const t0 = Date.now();
  const cfg = resolveRunConfigs(spec);
  const s = cfg.spec;
  const evalConfig = cellEvalConfig(s, cfg.eval);
  const deps = defaultDeps();
  const backend = await initBackend({ log: false });
  const file = recordPath(s, opts.resultsDir);
  const record: RunRecord = {
    format: RECORD_FORMAT,
    specHash: specHash(s),
    spec: s,
    status: 'running',
    seed: s.seed,
    backend,
    gitCommit: kitCommit(),
    kitVersion: kitVersion(),
    config: {
      model: cfg.model,
      train: { ...cfg.train },
      eval: { ...evalConfig, note: 'quick-scale evaluation cut by src/experiments/budget.ts' },
    },
    dataset: { id: s.dataset, source: 'kit', checksum: '', provenance: null },
    iterations: [],
    startedAt: new Date(t0).toISOString(),
    checkpointDir: opts.checkpointDir,
  };
  try {
    const dataset = await deps.loadDataset(s.dataset, { source: 'kit', scale: s.scale });
    record.dataset = {
      id: dataset.id,
      source: dataset.provenance.source,
      checksum: dataset.provenance.checksum,
      provenance: dataset.provenance,
    };
    const stateDim = dataset.stateMean.length;
    const actDim = dataset.trajectories[0].actions.length / dataset.trajectories[0].rewards.length;
    const model = deps.createModel(s.model, cfg.model, { stateDim, actDim }, deriveSeed(s.seed, 'init'));
    record.config.model = { ...model.config };
    record.parameterCount = model.parameterCount();
    const sampler = deps.createSampler(dataset, {
      contextLength: Number(model.config.contextLength),
      batchSize: cfg.train.batchSize,
      returnScale: cfg.train.returnScale,
      maxEpLen: cfg.train.maxEpLen,
      seed: deriveSeed(s.seed, 'sampler'),
    });
    const trainer = new Trainer(model, sampler, cfg.train, s.seed, deps.maskedActionLoss);
    writeRecord(file, record);
    for (let it = 1; it <= cfg.train.iterations; it++) {
      const { meanLoss, seconds } = trainer.train(cfg.train.stepsPerIteration, () => {});
      const e0 = Date.now();
      const targets = await evaluate(model, {
        env: s.env,
        stateMean: dataset.stateMean,
        stateStd: dataset.stateStd,
        config: evalConfig,
        seed: s.seed,
        createVecEnv: deps.createVecEnv,
        silent: true,
      });
      record.iterations.push({
        iteration: it,
        step: trainer.step,
        loss: meanLoss,
        trainSeconds: seconds,
        evalSeconds: (Date.now() - e0) / 1000,
        targets,
      });
      const m: ScoreMatrix = {
        targets: evalConfig.targets as number[],
        scores: record.iterations.map((x) => x.targets.map((t) => t.normalizedScore)),
      };
      record.scores = {
        best_official: bestOfficial(m),
        final: finalScore(m, primaryTarget(s.env)),
        bestPerTarget: bestPerTarget(m),
      };
      writeRecord(file, record);
    }
    saveCheckpoint(opts.checkpointDir, model, trainer.optimizer.getState(), {
      iteration: cfg.train.iterations,
      step: trainer.step,
      seed: s.seed,
      samplerState: sampler.getState(),
      stateMean: Array.from(dataset.stateMean),
      stateStd: Array.from(dataset.stateStd),
      run: {
        specHash: record.specHash,
        spec: s,
        config: record.config,
        datasetId: record.dataset.id,
        datasetChecksum: record.dataset.checksum,
        iterations: record.iterations,
      },
    });
    record.status = 'finished';
    record.finishedAt = new Date().toISOString();
    record.wallSeconds = (Date.now() - t0) / 1000;
    writeRecord(file, record);
    trainer.dispose();
    model.dispose();
    return record;
  } catch (err) {
    record.status = 'failed';
    record.error = (err as Error).message.split('\n')[0];
    record.finishedAt = new Date().toISOString();
    record.wallSeconds = (Date.now() - t0) / 1000;
    writeRecord(file, record);
    throw err;
  }
}

/** The sweep child's runner entry point. */
export async function runJob(spec: RunSpec, ctx: JobContext): Promise<unknown> {
  return runCell(spec, {
    resultsDir: ctx.resultsDir,
    checkpointDir: ctx.checkpointDir ?? `${ctx.resultsDir}/.checkpoints/${ctx.jobId}`,
  });
}
