/**
 * Several runs of one program shape (same model configuration, environment dims, batch size and clip;
 * any seeds, datasets of the same environment, learning rates) trained together: one packed engine program
 * (src/engine/pack.ts) takes every run's optimiser step at once, so a GPU gets all runs' work per dispatch.
 * Each run keeps everything of its own: record, dataset, sampler, dropout stream, AdamW state, evaluation
 * and checkpoints, written exactly as runTraining writes them (each record says `packedWith: N`), and a packed
 * run equals the same run trained alone (test/engine/packed-run.test.ts). After a kill, the group resumes from
 * its runs' latest checkpoints; its runs must have completed the same number of iterations.
 */
import * as path from 'path';
import type { DmmConfig } from '../models';
import { normaliseRunSpec, specHash, specLabel, type RunSpec } from '../config/run-spec';
import { EngineForward } from '../engine/forward';
import { EngineSession } from '../engine/session';
import { finishedRecord, rerunRecordPath, type RunRecord } from '../results/record';
import { removeStaleTemps, stableStringify } from '../util/atomic';
import { check } from '../util/check';
import { takeLock } from '../util/lock';
import { progress } from '../util/progress';
import {
  createRun,
  endIteration,
  failRun,
  finishRun,
  disposeRun,
  prepareRun,
  type OpenRun,
  type RunOptions,
} from './run';
import { engineEvalModel, loadSessionRun, syncSessionRun } from './trainer';

const CHUNK = 100;

/** What runs must share to be packed: everything that fixes the program's shape and the iteration plan. */
export function packKey(run: OpenRun): string {
  const t = run.cfg.train;
  return stableStringify({
    model: run.spec.model,
    config: run.model!.config,
    dims: run.dims,
    batchSize: t.batchSize,
    gradClip: t.gradClip,
    iterations: t.iterations,
    stepsPerIteration: t.stepsPerIteration,
    done: run.record.iterations.length,
  });
}

/**
 * Trains `specs` as one pack (finished ones are returned as they are). Returns the records in the order of
 * the specs. Needs the fused engine: a spec it does not cover is refused with one line.
 */
export async function runPacked(specs: readonly RunSpec[], opts: RunOptions = {}): Promise<RunRecord[]> {
  const normal = specs.map((s) => normaliseRunSpec(s, 'runPacked'));
  const unique = [...new Map(normal.map((s) => [specHash(s), s])).values()];
  const out = new Map<string, RunRecord>();
  const locks = [];
  const runs: OpenRun[] = [];
  try {
    for (const s of unique) {
      const run = await createRun(s, opts, ''); // `out` is chosen below, once the record's state is known
      locks.push(takeLock(path.join(run.ckptRoot, 'lock.json'), specLabel(s), 'runPacked'));
      removeStaleTemps(run.ckptRoot);
      removeStaleTemps(path.dirname(run.file), [path.basename(run.file)]);
      const finished = finishedRecord(run.file);
      if (finished && opts.resume !== false) out.set(run.hash, finished);
      else {
        run.out = finished ? rerunRecordPath(run.file) : run.file; // a restart writes beside a finished record
        runs.push(run);
      }
    }
    if (runs.length > 0) await trainPack(runs, opts);
    for (const r of runs) out.set(r.hash, r.record);
  } finally {
    for (const l of locks) l.release();
  }
  return normal.map((s) => out.get(specHash(s))!);
}

async function trainPack(runs: OpenRun[], opts: RunOptions): Promise<void> {
  try {
    for (const run of runs) await prepareRun(run, { ...opts, engine: 'fused' });
    const first = runs[0];
    for (const run of runs) {
      check(
        run.trainer!.engine === 'fused',
        () =>
          `Error in runPacked: ${specLabel(run.spec)} must train on the fused engine to be packed, got ${run.trainer!.engineNote}.`,
      );
      check(
        packKey(run) === packKey(first),
        () =>
          `Error in runPacked: ${specLabel(run.spec)} and ${specLabel(first.spec)} must share the model configuration, dims, batch size, clip and iteration plan (and progress) to be packed, got different ones.`,
      );
      run.record.packedWith = runs.length;
    }
    const executor = first.trainer!.executor!;
    const config = first.model!.config as unknown as DmmConfig;
    const session = await EngineSession.create(
      config,
      first.dims!,
      runs.map((r) => {
        const t = r.cfg.train;
        return { ...t, seed: r.spec.seed };
      }),
      executor,
    );
    const forward = new EngineForward(config, first.dims!, executor);
    try {
      for (let r = 0; r < runs.length; r++)
        await loadSessionRun(session, r, runs[r].model!, runs[r].trainer!.optimizer);
      const { iterations, stepsPerIteration } = first.cfg.train;
      const samplers = runs.map((r) => () => r.sampler!.sample());
      for (let it = first.record.iterations.length + 1; it <= iterations; it++) {
        if (opts.stopAfterIteration !== undefined && it > opts.stopAfterIteration) {
          for (const run of runs) disposeRun(run);
          return;
        }
        const bar = progress(
          `train ${runs.length} packed ${first.spec.model} runs iter ${it}/${iterations}`,
          stepsPerIteration,
          {
            silent: opts.silent,
          },
        );
        const lossSums = runs.map(() => 0);
        let seconds = 0;
        for (let done = 0; done < stepsPerIteration; ) {
          const n = Math.min(CHUNK, stepsPerIteration - done);
          const chunk = await session.train(n, samplers, () => bar.tick());
          chunk.meanLosses.forEach((l, r) => (lossSums[r] += l * n));
          seconds += chunk.seconds;
          done += n;
          opts.onProgress?.(
            (it - 1 + (0.8 * done) / stepsPerIteration) / iterations,
            `iteration ${it}/${iterations} training`,
          );
          await new Promise((resolve) => setImmediate(resolve));
        }
        bar.done();
        for (let r = 0; r < runs.length; r++) {
          const run = runs[r];
          await syncSessionRun(session, r, run.model!, run.trainer!.optimizer);
          const evalModel = await engineEvalModel(run.model!, forward);
          // Training time is the pack's: each run's record carries the shared wall time of its iteration.
          const result = { step: session.steps[r], loss: lossSums[r] / stepsPerIteration, trainSeconds: seconds };
          await endIteration(run, it, result, evalModel, opts);
        }
      }
      for (const run of runs) finishRun(run);
    } finally {
      session.dispose();
      forward.dispose();
    }
  } catch (err) {
    for (const run of runs) if (run.record.status !== 'finished') failRun(run, err);
    throw err;
  }
}
