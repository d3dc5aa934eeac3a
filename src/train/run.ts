/**
 * One run, end to end: resolve the spec into configs (official preset → scale → overrides), load the
 * dataset, build the model, then per iteration train, evaluate (docs/spec.md §10), checkpoint and rewrite the record.
 * A run finds its latest checkpoint and resumes from it; a failure is written into the record, never
 * over a finished one.
 */
import * as fs from 'fs';
import * as path from 'path';
import { downloadForSyncRead, initBackend } from '../backend';
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
import { scoresFromEpisodes } from '../results/scores';
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

/**
 * A run while it trains: its resolved spec and configs, its record (written to `out` until it finishes),
 * dataset, model, sampler and trainer (whose optimizer holds the AdamW state), resumed from its latest
 * checkpoint. runTraining drives one; runPacked (./packed-run.ts) drives several through one engine program.
 */
export interface OpenRun {
  spec: ReturnType<typeof resolveRun>['spec'];
  cfg: ReturnType<typeof resolveRun>;
  hash: string;
  /** The record file, and where the record goes while the run is not finished (a rerun's file). */
  file: string;
  out: string;
  ckptRoot: string;
  record: RunRecord;
  t0: number;
  deps: EngineDeps;
  dataset?: Awaited<ReturnType<EngineDeps['loadDataset']>>;
  dims?: { stateDim: number; actDim: number };
  model?: ReturnType<EngineDeps['createModel']>;
  sampler?: ReturnType<EngineDeps['createSampler']>;
  trainer?: Trainer;
}

/** The run's record, before anything that can fail. */
export async function createRun(spec: RunSpec, opts: RunOptions, out: string): Promise<OpenRun> {
  const t0 = Date.now();
  const cfg = resolveRun(spec);
  const s = cfg.spec;
  const resultsDir = opts.resultsDir ?? 'results';
  const ckptRoot = checkpointDir(s, opts.checkpointRoot ?? resultsDir);
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
  const deps: EngineDeps = { ...defaultDeps(), ...opts.deps };
  return { spec: s, cfg, hash: specHash(s), file: recordPath(s, resultsDir), out, ckptRoot, record, t0, deps };
}

/** Loads the dataset, builds the model, sampler and trainer, and resumes from the latest checkpoint. */
export async function prepareRun(run: OpenRun, opts: RunOptions): Promise<void> {
  const { spec: s, cfg, hash, record, ckptRoot, deps } = run;
  const dataset = (run.dataset = await deps.loadDataset(s.dataset, { source: s.source, scale: cfg.dataScale }));
  record.dataset = {
    id: dataset.id,
    source: dataset.provenance.source,
    checksum: dataset.provenance.checksum,
    provenance: dataset.provenance,
  };
  const stateDim = dataset.stateMean.length;
  const t0len = dataset.trajectories[0].rewards.length;
  const actDim = dataset.trajectories[0].actions.length / t0len;
  run.dims = { stateDim, actDim };
  const model = (run.model = deps.createModel(s.model, cfg.model, run.dims, deriveSeed(s.seed, 'init')));
  record.config.model = { ...model.config };
  record.parameterCount = model.parameterCount();
  const sampler = (run.sampler = deps.createSampler(dataset, {
    contextLength: Number(model.config.contextLength),
    batchSize: cfg.train.batchSize,
    returnScale: cfg.train.returnScale,
    maxEpLen: cfg.train.maxEpLen,
    seed: deriveSeed(s.seed, 'sampler'),
  }));
  const trainer = (run.trainer = new Trainer(model, sampler, cfg.train, s.seed, deps.maskedActionLoss, {
    engine: opts.engine,
    log: opts.silent ? () => {} : undefined,
  }));
  record.engine = trainer.engine;
  if (trainer.engineNote) record.engineNote = trainer.engineNote;

  const latest = opts.resume === false ? undefined : latestCheckpoint(ckptRoot);
  if (latest) {
    const ckpt = loadCheckpoint(latest);
    const state = ckpt.state.run as {
      specHash?: string;
      datasetChecksum?: string;
      iterations?: IterationRecord[];
      config?: RunRecord['config'];
    };
    check(
      state.specHash === hash,
      () =>
        `Error in runTraining: checkpoint ${latest} must belong to spec ${hash}, got ${state.specHash}. Remove ${ckptRoot} to restart.`,
    );
    check(
      state.datasetChecksum === record.dataset.checksum,
      () =>
        `Error in runTraining: checkpoint ${latest} must use dataset checksum ${record.dataset.checksum}, got ${state.datasetChecksum}. The dataset changed; remove ${ckptRoot} to restart.`,
    );
    // The scale's numbers live in src/config/scales.ts, not in the spec: a checkpoint made under other
    // numbers must not be continued with these.
    for (const part of ['train', 'eval'] as const) {
      check(
        stableStringify(state.config?.[part]) === stableStringify(record.config[part]),
        () =>
          `Error in runTraining: checkpoint ${latest} must have this run's ${part} config, got a different one (were the scale's numbers changed?). Remove ${ckptRoot} to restart.`,
      );
    }
    await restoreWeights(model, ckpt);
    trainer.optimizer.setState(ckpt.optimizer);
    sampler.setState(ckpt.state.samplerState);
    record.iterations = state.iterations ?? [];
  }
  writeRecord(run.out, record);
}

/**
 * The end of iteration `it`: evaluate `evalModel` (the run's model with its current weights), add the
 * iteration to the record, checkpoint the model, optimizer and sampler, and rewrite the record.
 */
export async function endIteration(
  run: OpenRun,
  it: number,
  result: { step: number; loss: number; trainSeconds: number },
  evalModel: Parameters<typeof evaluate>[0],
  opts: RunOptions,
): Promise<void> {
  const { spec: s, cfg, record, dataset, model, trainer, sampler } = run;
  const e0 = Date.now();
  const targets = await evaluate(evalModel, {
    env: cfg.evalEnv,
    stateMean: dataset!.stateMean,
    stateStd: dataset!.stateStd,
    config: cfg.eval,
    seed: s.seed,
    createVecEnv: run.deps.createVecEnv,
    workers: opts.workers,
    silent: opts.silent,
    label: `eval ${s.model} ${s.dataset} seed ${s.seed} iter ${it}`,
  });
  record.iterations.push({
    iteration: it,
    step: result.step,
    loss: result.loss,
    trainSeconds: result.trainSeconds,
    evalSeconds: (Date.now() - e0) / 1000,
    targets,
  });
  await downloadForSyncRead([
    ...model!.trainableParameters().values(),
    ...model!.frozenTensors().values(),
    ...trainer!.optimizer.stateTensors(),
  ]);
  saveCheckpoint(run.ckptRoot, model!, trainer!.optimizer.getState(), {
    iteration: it,
    step: result.step,
    seed: s.seed,
    samplerState: sampler!.getState(),
    stateMean: Array.from(dataset!.stateMean),
    stateStd: Array.from(dataset!.stateStd),
    run: {
      specHash: run.hash,
      spec: s,
      config: record.config,
      dims: run.dims,
      source: s.source,
      datasetId: record.dataset.id,
      datasetChecksum: record.dataset.checksum,
      iterations: record.iterations,
    },
  });
  record.scores = scoresFromEpisodes(record);
  writeRecord(run.out, record);
}

/** Marks the run finished and writes its record file (removing a rerun's temporary file). */
export function finishRun(run: OpenRun): RunRecord {
  const { record } = run;
  record.status = 'finished';
  record.scores = scoresFromEpisodes(record);
  record.finishedAt = new Date().toISOString();
  record.wallSeconds = (Date.now() - run.t0) / 1000;
  writeRecord(run.file, record);
  if (run.out !== run.file) fs.rmSync(run.out, { force: true });
  disposeRun(run);
  return record;
}

/** Writes the failure into the run's `out` file (never over a finished record). */
export function failRun(run: OpenRun, err: unknown): void {
  const { record } = run;
  record.status = 'failed';
  record.error = (err as Error).message.split('\n')[0];
  record.finishedAt = new Date().toISOString();
  record.wallSeconds = (Date.now() - run.t0) / 1000;
  writeRecord(run.out, record);
  disposeRun(run);
}

export function disposeRun(run: OpenRun): void {
  run.trainer?.dispose();
  run.model?.dispose();
  run.trainer = undefined;
  run.model = undefined;
}

/** One run, under its lock; its record goes to `out` (the record file, or a rerun's file) until it finishes. */
async function train(spec: RunSpec, opts: RunOptions, out: string): Promise<RunRecord> {
  const run = await createRun(spec, opts, out);
  const { spec: s, cfg, record } = run;
  try {
    await prepareRun(run, opts);
    const trainer = run.trainer!;
    const { iterations, stepsPerIteration } = cfg.train;
    /** `done` iterations (fractional) of `iterations`, while in iteration `it`. */
    const report = (done: number, it: number, phase: string) =>
      opts.onProgress?.(done / iterations, `iteration ${it}/${iterations} ${phase}`);
    for (let it = record.iterations.length + 1; it <= iterations; it++) {
      if (opts.stopAfterIteration !== undefined && it > opts.stopAfterIteration) {
        disposeRun(run);
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
      await endIteration(
        run,
        it,
        { step: trainer.step, loss: meanLoss, trainSeconds },
        await trainer.evalModel(),
        opts,
      );
      report(it, it, 'done');
    }
    return finishRun(run);
  } catch (err) {
    failRun(run, err);
    throw err;
  }
}
