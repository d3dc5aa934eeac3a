/**
 * One run, end to end: resolve the spec into configs (official preset → scale → overrides), load the
 * dataset, build the model, then per iteration train, evaluate (docs/spec.md §10), checkpoint and rewrite the record.
 * A run finds its latest checkpoint and resumes from it; a failure is written into the record, never
 * over a finished one.
 */
import * as fs from 'fs';
import * as path from 'path';
import { downloadForSyncRead, initBackend } from '../backend';
import { bestOfficial, bestPerTarget, finalScore, type ScoreMatrix } from '../eval/protocols';
import { primaryTarget } from '../config/presets';
import { resolveRun } from '../config/resolve';
import { checkpointDir, normaliseRunSpec, recordPath, specHash, specLabel, type RunSpec } from '../config/run-spec';
import { evaluate } from '../eval/rollout';
import {
  emptyRecord,
  finishedRecord,
  rerunRecordPath,
  writeRecord,
  type IterationRecord,
  type RunRecord,
} from '../results/record';
import { REPO_ROOT } from '../data/paths';
import { removeStaleTemps, stableStringify } from '../util/atomic';
import { check } from '../util/check';
import { takeLock } from '../util/lock';
import { portablePath } from '../util/portable-path';
import { progress } from '../util/progress';
import { deriveSeed } from '../util/rng';
import { kitCommit, kitVersion } from '../util/version';
import { latestCheckpoint, loadCheckpoint, restoreWeights, saveCheckpoint } from './checkpoint';
import { defaultDeps, type EngineDeps } from './deps';
import { Trainer, type EngineChoice } from './trainer';

/** Steps between progress reports (and event-loop yields) inside an iteration. */
const PROGRESS_CHUNK = 25;

export interface RunOptions {
  /** Root of the records; default 'results'. */
  resultsDir?: string;
  /** Root of the checkpoint folders (`checkpointDir(spec, root)`); default resultsDir. Queue workers pass --artifacts. */
  checkpointRoot?: string;
  /**
   * Resume from the latest checkpoint when one exists, and keep a finished record (default true). False
   * trains from scratch (`dmm train --restart`); a finished record is replaced only when this run finishes.
   */
  resume?: boolean;
  /** Stop after this many iterations (the record stays 'running'); used to test resuming. */
  stopAfterIteration?: number;
  deps?: Partial<EngineDeps>;
  silent?: boolean;
  /** Fraction of the run done, for queue progress (issue 9). */
  onProgress?: (fraction: number, info?: string) => void;
  /** Worker threads per evaluation VecEnv. */
  workers?: number;
  /** Training path: the fused engine (default, where it covers the model) or tfjs op by op. */
  engine?: EngineChoice;
}

function scoresOf(rec: RunRecord): RunRecord['scores'] {
  if (rec.iterations.length === 0) return undefined;
  const m: ScoreMatrix = {
    targets: rec.config.eval.targets as number[],
    scores: rec.iterations.map((it) => it.targets.map((t) => t.normalizedScore)),
  };
  return {
    best_official: bestOfficial(m),
    final: finalScore(m, primaryTarget(rec.spec.env)),
    bestPerTarget: bestPerTarget(m),
  };
}

/**
 * Trains `spec` unless its record is finished (then returns that record, untouched, unless `resume` is
 * false). One process at a time per spec: a lock file in its checkpoint folder, taken before anything
 * is written, so a second process refuses in one line instead of sharing the folders.
 */
export async function runTraining(spec: RunSpec, opts: RunOptions = {}): Promise<RunRecord> {
  const s = normaliseRunSpec(spec, 'runTraining');
  const resultsDir = opts.resultsDir ?? 'results';
  const file = recordPath(s, resultsDir);
  const ckptRoot = checkpointDir(s, opts.checkpointRoot ?? resultsDir);
  const lock = takeLock(path.join(ckptRoot, 'lock.json'), specLabel(s), 'runTraining');
  try {
    // What a killed earlier try of this spec left half-written: its checkpoint folder and record temporaries.
    removeStaleTemps(ckptRoot);
    removeStaleTemps(path.dirname(file), [path.basename(file)]);
    const finished = finishedRecord(file);
    if (finished && opts.resume !== false) {
      if (!opts.silent)
        console.log(`note: ${specLabel(s)} is finished (${file}); its record is kept. Restart it to train again.`);
      return finished;
    }
    // A restart over a finished record writes beside it until it finishes itself.
    return await train(s, opts, finished ? rerunRecordPath(file) : file);
  } finally {
    lock.release();
  }
}

/** One run, under its lock; its record goes to `out` (the record file, or a rerun's file) until it finishes. */
async function train(spec: RunSpec, opts: RunOptions, out: string): Promise<RunRecord> {
  const t0 = Date.now();
  const cfg = resolveRun(spec);
  const s = cfg.spec;
  const hash = specHash(s);
  const resultsDir = opts.resultsDir ?? 'results';
  const file = recordPath(s, resultsDir);
  const source = s.source;
  const ckptRoot = checkpointDir(s, opts.checkpointRoot ?? resultsDir);
  const deps: EngineDeps = { ...defaultDeps(), ...opts.deps };
  const backend = await initBackend({ log: !opts.silent });

  const record: RunRecord = {
    ...emptyRecord(s),
    backend,
    gitCommit: kitCommit(),
    kitVersion: kitVersion(),
    config: { model: { ...cfg.model }, train: { ...cfg.train }, eval: { ...cfg.eval } },
    startedAt: new Date(t0).toISOString(),
    checkpointDir: portablePath(ckptRoot, REPO_ROOT),
  };
  let trainer: Trainer | undefined;
  try {
    const dataset = await deps.loadDataset(s.dataset, { source, scale: cfg.dataScale });
    record.dataset = {
      id: dataset.id,
      source: dataset.provenance.source,
      checksum: dataset.provenance.checksum,
      provenance: dataset.provenance,
    };
    const stateDim = dataset.stateMean.length;
    const t0len = dataset.trajectories[0].rewards.length;
    const actDim = dataset.trajectories[0].actions.length / t0len;
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
    trainer = new Trainer(model, sampler, cfg.train, s.seed, deps.maskedActionLoss, {
      engine: opts.engine,
      log: opts.silent ? () => {} : undefined,
    });
    record.engine = trainer.engine;
    if (trainer.engineNote) record.engineNote = trainer.engineNote;

    const latest = opts.resume === false ? undefined : latestCheckpoint(ckptRoot);
    if (latest) {
      const ckpt = loadCheckpoint(latest);
      const run = ckpt.state.run as {
        specHash?: string;
        datasetChecksum?: string;
        iterations?: IterationRecord[];
        config?: RunRecord['config'];
      };
      check(
        run.specHash === hash,
        () =>
          `Error in runTraining: checkpoint ${latest} must belong to spec ${hash}, got ${run.specHash}. Remove ${ckptRoot} to restart.`,
      );
      check(
        run.datasetChecksum === record.dataset.checksum,
        () =>
          `Error in runTraining: checkpoint ${latest} must use dataset checksum ${record.dataset.checksum}, got ${run.datasetChecksum}. The dataset changed; remove ${ckptRoot} to restart.`,
      );
      // The scale's numbers live in src/config/scales.ts, not in the spec: a checkpoint made under other
      // numbers must not be continued with these.
      for (const part of ['train', 'eval'] as const) {
        check(
          stableStringify(run.config?.[part]) === stableStringify(record.config[part]),
          () =>
            `Error in runTraining: checkpoint ${latest} must have this run's ${part} config, got a different one (were the scale's numbers changed?). Remove ${ckptRoot} to restart.`,
        );
      }
      await restoreWeights(model, ckpt);
      trainer.optimizer.setState(ckpt.optimizer);
      sampler.setState(ckpt.state.samplerState);
      record.iterations = run.iterations ?? [];
    }
    writeRecord(out, record);

    const { iterations, stepsPerIteration } = cfg.train;
    /** `done` iterations (fractional) of `iterations`, while in iteration `it`. */
    const report = (done: number, it: number, phase: string) =>
      opts.onProgress?.(done / iterations, `iteration ${it}/${iterations} ${phase}`);
    for (let it = record.iterations.length + 1; it <= iterations; it++) {
      if (opts.stopAfterIteration !== undefined && it > opts.stopAfterIteration) {
        trainer.dispose();
        model.dispose();
        return record;
      }
      const bar = progress(`train ${s.model} ${s.dataset} seed ${s.seed} iter ${it}/${iterations}`, stepsPerIteration, {
        silent: opts.silent,
      });
      // Chunks of steps with a yield between them, so progress messages leave a child process while it trains.
      let lossSum = 0;
      let trainSeconds = 0;
      for (let done = 0; done < stepsPerIteration; ) {
        const n = Math.min(PROGRESS_CHUNK, stepsPerIteration - done);
        const chunk = await trainer.train(n, () => bar.tick());
        lossSum += chunk.meanLoss * n;
        trainSeconds += chunk.seconds;
        done += n;
        report(it - 1 + (0.8 * done) / stepsPerIteration, it, `training, loss ${chunk.meanLoss.toPrecision(4)}`);
        await new Promise((resolve) => setImmediate(resolve));
      }
      const meanLoss = lossSum / stepsPerIteration;
      await trainer.syncModel(); // the fused path's weights and moments, for the evaluation and the checkpoint
      bar.done(`loss ${meanLoss.toPrecision(4)}`);
      report(it - 0.2, it, 'evaluating');
      const e0 = Date.now();
      const targets = await evaluate(await trainer.evalModel(), {
        env: s.env,
        stateMean: dataset.stateMean,
        stateStd: dataset.stateStd,
        config: cfg.eval,
        seed: s.seed,
        createVecEnv: deps.createVecEnv,
        workers: opts.workers,
        silent: opts.silent,
        label: `eval ${s.model} ${s.dataset} seed ${s.seed} iter ${it}`,
      });
      record.iterations.push({
        iteration: it,
        step: trainer.step,
        loss: meanLoss,
        trainSeconds,
        evalSeconds: (Date.now() - e0) / 1000,
        targets,
      });
      await downloadForSyncRead([
        ...model.trainableParameters().values(),
        ...model.frozenTensors().values(),
        ...trainer.optimizer.stateTensors(),
      ]);
      saveCheckpoint(ckptRoot, model, trainer.optimizer.getState(), {
        iteration: it,
        step: trainer.step,
        seed: s.seed,
        samplerState: sampler.getState(),
        stateMean: Array.from(dataset.stateMean),
        stateStd: Array.from(dataset.stateStd),
        run: {
          specHash: hash,
          spec: s,
          config: record.config,
          dims: { stateDim, actDim },
          source,
          datasetId: record.dataset.id,
          datasetChecksum: record.dataset.checksum,
          iterations: record.iterations,
        },
      });
      record.scores = scoresOf(record);
      writeRecord(out, record);
      report(it, it, 'done');
    }
    record.status = 'finished';
    record.scores = scoresOf(record);
    record.finishedAt = new Date().toISOString();
    record.wallSeconds = (Date.now() - t0) / 1000;
    writeRecord(file, record);
    if (out !== file) fs.rmSync(out, { force: true });
    trainer.dispose();
    model.dispose();
    return record;
  } catch (err) {
    record.status = 'failed';
    record.error = (err as Error).message.split('\n')[0];
    record.finishedAt = new Date().toISOString();
    record.wallSeconds = (Date.now() - t0) / 1000;
    writeRecord(out, record);
    trainer?.dispose();
    throw err;
  }
}
