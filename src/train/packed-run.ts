/**
 * Several runs of one program shape (same model configuration, environment dims, batch size and clip;
 * any seeds, datasets of the same environment, learning rates) trained together: one packed engine program
 * (src/engine/pack.ts) takes every run's optimiser step at once, so a GPU gets all runs' work per dispatch.
 * Each run keeps everything of its own: record, dataset, sampler, dropout stream, AdamW state, evaluation
 * and checkpoints, written exactly as runTraining writes them (each record says `packedWith: N`), and a packed
 * run equals the same run trained alone (test/engine/packed-run.test.ts). After a kill, the group resumes from
 * its runs' latest checkpoints; its runs must have completed the same number of iterations.
 */
import * as os from 'os';
import * as path from 'path';
import type { EvalConfig } from '../config/eval';
import { resolveRun, type ResolvedRun } from '../config/resolve';
import { packShapeKey } from './pack-key';
import { normaliseRunSpec, recordPath, specHash, specLabel, type RunSpec } from '../config/run-spec';
import { ENV_DIMS } from '../data/d4rl-ids';
import type { RunEnv } from '../config/names';
import { initBackend } from '../backend';
import { resolveModelConfig } from '../models';
import { buildProgram, engineCpuDefaultGap, engineModelGap, type EngineModel } from '../engine/models';
import { maxPackedRuns } from '../engine/pack';
import { GPU_BINDING_BYTES } from '../engine/webgpu/executor';
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
import { reusedBatches } from './deps';
import { engineEvalModel, engineModelOf, loadSessionRun, syncSessionRun, type EvalSequenceModel } from './trainer';
import { runTraining } from './run';

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
          `Error in runPacked: ${specLabel(run.spec)} and ${specLabel(first.spec)} must share the model configuration, dims, batch size, clip and iteration plan to be packed, got different ones.`,
      );
    }
    // A kill between two runs' checkpoints of one iteration leaves them at different iterations: each
    // progress trains as its own pack (a packed run computes what it computes alone: pack.ts).
    const byProgress = new Map<number, OpenRun[]>();
    for (const run of runs) {
      const done = run.record.iterations.length;
      byProgress.set(done, [...(byProgress.get(done) ?? []), run]);
    }
    if (byProgress.size > 1 && !opts.silent)
      console.error(
        `[dmm] runPacked: the runs resumed at iterations ${[...byProgress.keys()].join(', ')} (a kill between their checkpoints): ${byProgress.size} packs.`,
      );
    for (const group of byProgress.values()) await trainPrepared(group, opts);
  } catch (err) {
    for (const run of runs) if (run.record.status !== 'finished') failRun(run, err);
    throw err;
  }
}

/** Trains prepared runs of one shape and progress as one packed program, evaluating them together. */
async function trainPrepared(runs: OpenRun[], opts: RunOptions): Promise<void> {
  const first = runs[0];
  for (const run of runs) run.record.packedWith = runs.length;
  const executor = first.trainer!.executor!;
  const model = engineModelOf(first.model!);
  const session = await EngineSession.create(
    model,
    first.dims!,
    runs.map((r) => {
      const t = r.cfg.train;
      return { ...t, seed: r.spec.seed };
    }),
    executor,
  );
  const forward = new EngineForward(model, first.dims!, executor, runs.length);
  try {
    for (let r = 0; r < runs.length; r++) await loadSessionRun(session, r, runs[r].model!, runs[r].trainer!.optimizer);
    const { iterations, stepsPerIteration } = first.cfg.train;
    const samplers = runs.map((r) => reusedBatches(r.sampler!));
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
      // Every run's evaluation at once: one packed model call per environment step for all runs (forward.ts),
      // the runs' environments sharing the cores. Each run's episodes are the ones it sees alone.
      const models: EvalSequenceModel[] = [];
      for (let r = 0; r < runs.length; r++) {
        await syncSessionRun(session, r, runs[r].model!, runs[r].trainer!.optimizer);
        models.push(await engineEvalModel(runs[r].model!, forward, r));
      }
      forward.openAll();
      const e0 = performance.now();
      let envSteps = 0;
      const evalBar = progress(`eval ${runs.length} packed runs iter ${it}/${iterations}`, runs.length, {
        silent: opts.silent,
      });
      await Promise.all(
        runs.map(async (run, r) => {
          // Training time is the pack's: each run's record carries the shared wall time of its iteration.
          const result = { step: session.steps[r], loss: lossSums[r] / stepsPerIteration, trainSeconds: seconds };
          const evalOpts = {
            ...opts,
            workers: opts.workers ?? (runs.length > 1 ? packedEvalWorkers(run.cfg.eval, runs.length) : undefined),
            silent: runs.length > 1 || opts.silent,
          };
          await endIteration(run, it, result, models[r], evalOpts);
          const last = run.record.iterations[run.record.iterations.length - 1];
          envSteps += last.targets.reduce((n, t) => n + t.lengths.reduce((a, b) => a + b, 0), 0);
          const s = (performance.now() - e0) / 1000;
          const ms = forward.stats.ms / Math.max(1, forward.stats.calls);
          evalBar.tick(
            1,
            `${specLabel(run.spec)} done; ${Math.round(envSteps / s)} env steps/s, model ${ms.toFixed(2)} ms/call`,
          );
        }),
      );
      evalBar.done();
    }
    for (const run of runs) finishRun(run);
  } finally {
    session.dispose();
    forward.dispose();
  }
}

/**
 * MuJoCo environments one WebAssembly instance holds safely: each MjData reserves MuJoCo's default arena
 * (13.6 MB for hopper), and an instance's memory stops at 2 GiB.
 */
const ENVS_PER_INSTANCE = 64;

/**
 * Worker threads per target's VecEnv when R runs evaluate together: the cores shared among all runs' targets,
 * at least one each and enough that no thread holds more than ENVS_PER_INSTANCE envs; this thread steps them
 * itself only while all runs' episodes fit one instance and are few (evaluate's rule: under 100).
 */
export function packedEvalWorkers(e: Readonly<EvalConfig>, packed: number): number {
  const all = e.targets.length * e.episodesPerTarget * packed;
  if (all < 100 && all <= ENVS_PER_INSTANCE) return 0;
  return Math.max(
    Math.ceil(e.episodesPerTarget / ENVS_PER_INSTANCE),
    Math.round(os.cpus().length / (e.targets.length * packed)),
    1,
  );
}

/** Past this many runs a packed DMM step gains little on the H200 (bench/results/packed-webgpu.json); larger models reach a binding's limit sooner. */
const GPU_PACK_CAP = 64;
/** On the CPU a pack runs each launch once per run: packing saves dispatch overhead only, so keep packs small. */
const CPU_PACK_CAP = 4;

export interface PackGroup {
  /** The specs' shared shape (packKey's fields that a spec fixes); null for a spec the engine cannot pack. */
  key: string | null;
  specs: RunSpec[];
}

/**
 * The compatible groups of `specs` (packShapeKey: same model, model configuration, environment dimensions,
 * batch size, clip and iteration plan), each split into packs of at most `maxRuns` (default: what one GPU binding holds, capped
 * at 64; 4 on the CPU), split evenly. A spec the fused engine does not cover is a group of its own (key null).
 */
export function packGroups(
  specs: readonly RunSpec[],
  opts: { maxRuns?: number; executor?: 'cpu' | 'webgpu' } = {},
): PackGroup[] {
  check(
    opts.maxRuns === undefined || (Number.isInteger(opts.maxRuns) && opts.maxRuns >= 1),
    () => `Error in packGroups: maxRuns must be a positive integer, got ${opts.maxRuns}.`,
  );
  const byKey = new Map<string, RunSpec[]>();
  const firstOf = new Map<string, ResolvedRun>();
  const alone: PackGroup[] = [];
  const executor = opts.executor ?? 'webgpu';
  for (const spec of specs) {
    const cfg = resolveRun(spec);
    // Packing needs the fused engine; on the CPU only where the engine is also the default (engineCpuDefaultGap).
    const model = engineModelOfRun(cfg);
    if (
      engineModelGap(model.name, model.config) !== null ||
      (executor === 'cpu' && engineCpuDefaultGap(model.name) !== null)
    ) {
      alone.push({ key: null, specs: [cfg.spec] });
      continue;
    }
    const key = packShapeKey(cfg);
    byKey.set(key, [...(byKey.get(key) ?? []), cfg.spec]);
    if (!firstOf.has(key)) firstOf.set(key, cfg);
  }
  const groups: PackGroup[] = [];
  for (const [key, group] of byKey) {
    const cap = opts.maxRuns ?? defaultMaxRuns(firstOf.get(key)!, executor);
    const packs = Math.ceil(group.length / cap);
    const size = Math.ceil(group.length / packs);
    for (let i = 0; i < group.length; i += size) groups.push({ key, specs: group.slice(i, i + size) });
  }
  return [...groups, ...alone];
}

/** A resolved run's model as the engine sees it: its name and its full configuration. */
function engineModelOfRun(cfg: ResolvedRun): EngineModel {
  const name = cfg.spec.model as EngineModel['name'];
  return { name, config: resolveModelConfig(name, cfg.model) } as EngineModel;
}

function defaultMaxRuns(cfg: ResolvedRun, executor: 'cpu' | 'webgpu'): number {
  if (executor === 'cpu') return CPU_PACK_CAP;
  const d = ENV_DIMS[cfg.spec.env as RunEnv];
  const program = buildProgram(
    engineModelOfRun(cfg),
    { stateDim: d.observationDim, actDim: d.actionDim },
    { batchSize: cfg.train.batchSize, training: true, target: 'gpu' },
  );
  return Math.max(1, Math.min(GPU_PACK_CAP, maxPackedRuns(program, GPU_BINDING_BYTES)));
}

export interface PackedSpecsOptions extends RunOptions {
  maxRuns?: number;
  log?: (line: string) => void;
}

export interface PackedSpecsReport {
  /** In the order of the specs: the record, or the error of the pack that failed (its runs' records say failed). */
  outcomes: { spec: RunSpec; record?: RunRecord; error?: string }[];
  trained: number;
  cached: number;
  failed: number;
}

/**
 * A grid's specs trained pack by pack (packGroups): finished runs are kept, each pack resumes from its runs'
 * checkpoints after a kill, a spec the engine cannot pack trains alone, a failed pack does not stop the others.
 */
export async function runPackedSpecs(
  specs: readonly RunSpec[],
  opts: PackedSpecsOptions = {},
): Promise<PackedSpecsReport> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const resultsDir = opts.resultsDir ?? 'results';
  const normal = specs.map((s) => normaliseRunSpec(s, 'runPackedSpecs'));
  const out = new Map<string, { record?: RunRecord; error?: string }>();
  const todo: RunSpec[] = [];
  for (const s of new Map(normal.map((n) => [specHash(n), n])).values()) {
    const finished = opts.resume === false ? undefined : finishedRecord(recordPath(s, resultsDir));
    if (finished) out.set(specHash(s), { record: finished });
    else todo.push(s);
  }
  const cached = out.size;
  const executor = (await initBackend({ log: false })) === 'webgpu' ? 'webgpu' : 'cpu';
  const groups = packGroups(todo, { maxRuns: opts.maxRuns, executor });
  log(
    `${cached + todo.length} run(s): ${cached} finished before, ${todo.length} to run in ${groups.length} pack(s) of ${groups.map((g) => g.specs.length).join(', ') || '0'}`,
  );
  let failed = 0;
  for (const [i, g] of groups.entries()) {
    log(`pack ${i + 1}/${groups.length}: ${g.specs.map(specLabel).join(', ')}`);
    try {
      // Progress over the whole grid: pack i's fraction f is (i + f) / packs.
      const onProgress = opts.onProgress
        ? (f: number, info?: string) =>
            opts.onProgress!((i + f) / groups.length, `pack ${i + 1}/${groups.length}: ${info ?? ''}`)
        : undefined;
      const packOpts = { ...opts, onProgress };
      const records = g.key === null ? [await runTraining(g.specs[0], packOpts)] : await runPacked(g.specs, packOpts);
      g.specs.forEach((s, j) => out.set(specHash(s), { record: records[j] }));
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      log(`pack ${i + 1}/${groups.length} failed: ${error}`);
      failed += g.specs.length;
      for (const s of g.specs) out.set(specHash(s), { error });
    }
  }
  return {
    outcomes: normal.map((spec) => ({ spec, ...out.get(specHash(spec))! })),
    trained: todo.length - failed,
    cached,
    failed,
  };
}
