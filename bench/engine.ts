/**
 * The fused engine against the tfjs path, side by side in one process: DMM at its hopper configuration (D 64, K 8, 3
 * layers, 123,587 parameters, docs/spec.md §9) or, with --model dmamba | dc | dt, Decision Mamba, DC or DT at their
 * hopper-medium sizes (D 256 K 20, D 256 K 8, D 128 K 20: docs/spec.md §5, §6.1, §6.2; --hidden-size and
 * --context-length override them), the shipped training step (`Trainer.train`: sample → forward → masked MSE → backward
 * → clip → AdamW) at each batch size, on this machine's backend (wasm here; webgpu on a GPU host, bundled with the GPU
 * packer). Both paths draw batches from the kit's BatchSampler over synthetic hopper-shaped trajectories, so the
 * sampler's cost is in both.
 *
 * Reports ms/step (median over timed chunks of steps; one loss read-back per chunk, as training reads it), steps/s, the
 * ratio, and the fused path's achieved FLOP/s counting the matrix products' 2·M·N·K (the bulk of a step's arithmetic;
 * scan and element-wise work uncounted). --profile adds the fused path's time per launch: on WebGPU each dispatch
 * repeated 50 times alone in one pass; on the CPU the step's time per launch kind (whole steps timed launch by
 * launch, labels `kind:<kernel>`) and each launch run alone.
 *
 * On WebGPU, --gemm-tuning sweeps the products' tiling (kernels/gemm.ts GemmTuning) on the fused path: one row per
 * variant, the ratio against tfjs from the fastest.
 *
 * Also the evaluator's model call (the last-step actions of B windows, written, run and read back, as every environment
 * step does) at --eval-batch episodes, on both paths.
 *
 * Usage: node --import tsx bench/engine.ts [--model dmm|dmamba|dc|dt] [--hidden-size D] [--context-length K]
 *        [--batches 64,1024] [--seconds 6] [--paths tfjs,fused] [--profile] [--eval-batch 400]
 *        [--gemm-tuning 256/4/128,1024/8/128]
 * Writes bench/results/engine-<backend>.json for DMM, engine-<model>-<backend>.json for the others ($OUT/… when OUT is
 * set).
 */
import { initBackend, tf } from '../src/backend';
import { resolveTrainConfig } from '../src/config/train';
import { BatchSampler } from '../src/data/sampler';
import { createModel, maskedActionLoss } from '../src/models';
import { EngineForward } from '../src/engine/forward';
import { CpuExecutor } from '../src/engine/cpu/executor';
import { setGemmTuning, type GemmSpec, type GemmTuning } from '../src/engine/kernels/gemm';
import type { Program } from '../src/engine/program';
import { WebGpuExecutor } from '../src/engine/webgpu/executor';
import { Trainer, engineModelOf, type EngineChoice } from '../src/train/trainer';
import { kitCommit } from '../src/util/version';
import { machine, parseBenchFlags, printTable, syntheticDataset, timeIt, writeBenchResult } from './lib';

const HOPPER = { stateDim: 11, actDim: 3 };
/** Each model's benchmarked hopper size. */
const SIZES = {
  dmm: { hiddenSize: 64, contextLength: 8 },
  dmamba: { hiddenSize: 256, contextLength: 20 },
  dc: { hiddenSize: 256, contextLength: 8 },
  dt: { hiddenSize: 128, contextLength: 20 },
};

const flags = parseBenchFlags('engine', {
  model: { type: 'string', default: 'dmm', help: 'dmm | dmamba | dc | dt' },
  'hidden-size': { type: 'number', default: 0, help: "D (0: the model's hopper size)" },
  'context-length': { type: 'number', default: 0, help: "K (0: the model's hopper size)" },
  batches: { type: 'list', default: ['64', '1024'], help: 'batch sizes' },
  seconds: { type: 'number', default: 6, help: 'timed seconds per path and batch' },
  paths: { type: 'list', default: ['tfjs', 'fused'], help: 'tfjs and/or fused' },
  profile: { type: 'boolean', help: "the fused path's time per launch" },
  'eval-batch': { type: 'number', default: 400, help: 'episodes of the evaluation model call (0: skip)' },
  'gemm-tuning': {
    type: 'list',
    default: [],
    help: 'GPU product tilings to sweep on the fused path, each splitWorkgroups/maxTile/minWorkgroups (e.g. 1024/8/128)',
  },
});

/** The --gemm-tuning variants (none: the defaults only). */
function tunings(): (GemmTuning | null)[] {
  if (flags['gemm-tuning'].length === 0) return [null];
  return flags['gemm-tuning'].map((v: string) => {
    const [splitWorkgroups, maxTile, minWorkgroups] = v.split('/').map(Number);
    if (![splitWorkgroups, maxTile, minWorkgroups].every((x) => Number.isInteger(x) && x > 0))
      throw new Error(
        `Error in bench/engine.ts: --gemm-tuning wants splitWorkgroups/maxTile/minWorkgroups, got '${v}'.`,
      );
    return { splitWorkgroups, maxTile, minWorkgroups };
  });
}

/** Products' FLOPs of one run of the program. */
function gemmFlops(p: Program): number {
  let f = 0;
  for (const l of p.launches)
    if (l.kernel.name === 'gemm') {
      const s = l.spec as GemmSpec;
      f += 2 * s.M * s.N * s.K;
    }
  return f;
}

interface Row {
  path: EngineChoice;
  executor: string;
  batch: number;
  msPerStep: number;
  msMin: number;
  msMax: number;
  /** This process's CPU time per step (on a loaded machine the better estimate of one idle core). */
  cpuMsPerStep: number;
  stepsPerSecond: number;
  chunks: number;
  stepsPerChunk: number;
  gemmGflopPerStep?: number;
  achievedGflops?: number;
  dispatchesPerStep?: number;
  /** The GPU products' tiling (fused path on WebGPU). */
  gemmTuning?: GemmTuning;
}

const tuningLabel = (t: GemmTuning) => `${t.splitWorkgroups}/${t.maxTile}/${t.minWorkgroups}`;

/** µs per launch of the fused program (alone). */
async function profile(trainer: Trainer): Promise<{ label: string; us: number }[]> {
  const ex = trainer.fusedSession!.executor;
  const out: { label: string; us: number }[] = [];
  if (ex instanceof WebGpuExecutor) {
    const labels = ex.dispatchLabels;
    for (let i = 0; i < labels.length; i++) {
      await ex.finish();
      const t0 = performance.now();
      ex.runRepeated(i, 50);
      await ex.finish();
      out.push({ label: labels[i], us: ((performance.now() - t0) * 1000) / 50 });
    }
  } else if (ex instanceof CpuExecutor) {
    // Whole steps timed launch by launch, summed per launch kind (median over 5 steps), then each launch alone.
    const steps = Array.from({ length: 5 }, () => ex.runProfiled());
    const kinds = [...steps[0].keys()].map((kind) => {
      const v = steps.map((s) => s.get(kind)!).sort((a, b) => a - b);
      return { label: `kind:${kind}`, us: v[2] * 1000 };
    });
    out.push(...kinds.sort((a, b) => b.us - a.us));
    ex.program.launches.forEach((l, i) => {
      const t0 = performance.now();
      for (let r = 0; r < 5; r++) ex.runLaunch(i);
      out.push({ label: l.label, us: ((performance.now() - t0) * 1000) / 5 });
    });
  }
  return out;
}

const MODEL = flags.model as keyof typeof SIZES;
if (!(MODEL in SIZES))
  throw new Error(`Error in bench/engine.ts: --model must be dmm, dmamba, dc or dt, got '${MODEL}'.`);
const CONFIG = {
  hiddenSize: flags['hidden-size'] || SIZES[MODEL].hiddenSize,
  contextLength: flags['context-length'] || SIZES[MODEL].contextLength,
};

async function main(): Promise<void> {
  process.env.DMM_QUIET = '1';
  const backend = await initBackend({ log: true });
  const rows: Row[] = [];
  const profiles: Record<string, { label: string; us: number }[]> = {};
  for (const B of flags.batches.map(Number)) {
    const variants = (flags.paths as EngineChoice[]).flatMap((path): { path: EngineChoice; t: GemmTuning | null }[] =>
      path === 'fused' && backend === 'webgpu' ? tunings().map((t) => ({ path, t })) : [{ path, t: null }],
    );
    for (const { path, t: tune } of variants) {
      const applied = setGemmTuning(tune ?? {});
      const train = resolveTrainConfig({ batchSize: B, learningRate: 1e-4, warmupSteps: 10000 });
      const model = createModel(MODEL, CONFIG as never, HOPPER, 1);
      const sampler = new BatchSampler(syntheticDataset(HOPPER.stateDim, HOPPER.actDim, 2), {
        contextLength: CONFIG.contextLength,
        batchSize: B,
        seed: 2,
      });
      const trainer = new Trainer(model, sampler, train, 3, maskedActionLoss, { engine: path });
      const gpu = backend === 'webgpu';
      const chunk = path === 'fused' && gpu ? 100 : gpu ? 10 : B >= 512 ? 1 : 4;
      const t = await timeIt(() => trainer.train(chunk), { warmup: 1, seconds: flags.seconds, minIters: 3 });
      const r: Row = {
        path,
        executor: path === 'fused' ? trainer.executor! : backend,
        batch: B,
        msPerStep: t.medianMs / chunk,
        msMin: t.minMs / chunk,
        msMax: t.maxMs / chunk,
        cpuMsPerStep: t.cpuMs / chunk,
        stepsPerSecond: (1000 * chunk) / t.medianMs,
        chunks: t.iters,
        stepsPerChunk: chunk,
      };
      const session = trainer.fusedSession;
      if (session) {
        r.gemmGflopPerStep = gemmFlops(session.program) / 1e9;
        r.achievedGflops = r.gemmGflopPerStep * r.stepsPerSecond;
        if (session.executor instanceof WebGpuExecutor) {
          r.dispatchesPerStep = session.executor.dispatchCount;
          r.gemmTuning = applied;
        }
        if (flags.profile) profiles[tune ? `B=${B} ${tuningLabel(r.gemmTuning!)}` : `B=${B}`] = await profile(trainer);
      }
      rows.push(r);
      setGemmTuning({});
      trainer.dispose();
      model.dispose();
    }
  }
  const evalRows: { path: EngineChoice; batch: number; msPerCall: number; msMin: number; calls: number }[] = [];
  const EB = flags['eval-batch'];
  if (EB > 0) {
    const model = createModel(MODEL, CONFIG as never, HOPPER, 1);
    const K = CONFIG.contextLength;
    const w = {
      states: Float32Array.from({ length: EB * K * HOPPER.stateDim }, (_, i) => Math.sin(i)),
      actions: Float32Array.from({ length: EB * K * HOPPER.actDim }, (_, i) => Math.cos(i) * 0.5),
      returnsToGo: new Float32Array(EB * K).fill(3.6),
      mask: new Float32Array(EB * K).fill(1),
      timesteps: Int32Array.from({ length: EB * K }, (_, i) => i % K),
    };
    for (const path of flags.paths as EngineChoice[]) {
      let call: () => Promise<unknown>;
      let cleanup = () => {};
      if (path === 'fused') {
        const fwd = new EngineForward(engineModelOf(model), HOPPER, backend === 'webgpu' ? 'webgpu' : 'cpu');
        const params = [...model.trainableParameters()];
        const read = params.map(async ([k, v]) => [k, Float32Array.from(await v.data())] as const);
        fwd.setWeights(new Map(await Promise.all(read)));
        call = () => fwd.lastActions(w, EB);
        cleanup = () => fwd.dispose();
      } else {
        call = async () => {
          const out = tf.tidy(() =>
            model.forwardLast!({
              states: tf.tensor3d(w.states, [EB, K, HOPPER.stateDim]),
              actions: tf.tensor3d(w.actions, [EB, K, HOPPER.actDim]),
              returnsToGo: tf.tensor3d(w.returnsToGo, [EB, K, 1]),
              timesteps: tf.tensor2d(w.timesteps, [EB, K], 'int32'),
              mask: tf.tensor2d(w.mask, [EB, K]),
            }),
          );
          await out.data();
          out.dispose();
        };
      }
      const t = await timeIt(call, { warmup: 3, seconds: Math.min(3, flags.seconds), minIters: 5 });
      evalRows.push({ path, batch: EB, msPerCall: t.medianMs, msMin: t.minMs, calls: t.iters });
      cleanup();
    }
    model.dispose();
  }
  const speedups = flags.batches.map(Number).map((B) => {
    const t = rows.find((r) => r.batch === B && r.path === 'tfjs');
    // The fastest fused row (with --gemm-tuning there is one per tiling).
    const f = rows.filter((r) => r.batch === B && r.path === 'fused').sort((a, b) => a.msPerStep - b.msPerStep)[0];
    return {
      batch: B,
      fusedOverTfjs: t && f ? t.msPerStep / f.msPerStep : null,
      fusedOverTfjsCpuTime: t && f ? t.cpuMsPerStep / f.cpuMsPerStep : null,
    };
  });
  const probe = createModel(MODEL, CONFIG as never, HOPPER, 1);
  const parameters = probe.parameterCount();
  probe.dispose();
  const file = writeBenchResult(MODEL === 'dmm' ? `engine-${backend}` : `engine-${MODEL}-${backend}`, {
    bench: 'engine',
    ...machine(),
    commit: kitCommit(),
    backend,
    model: { name: MODEL, ...CONFIG, dims: HOPPER, parameters },
    rows,
    speedups,
    evalRows,
    profiles,
  });
  const m = machine();
  console.log(
    `\n${MODEL} hopper (D ${CONFIG.hiddenSize}, K ${CONFIG.contextLength}, ${parameters} parameters) training step, backend ${backend}, ${m.cpu} (load ${(m.loadavg as number[])[0].toFixed(1)})`,
  );
  printTable(
    ['path', 'executor', 'batch', 'ms/step (min–max)', 'CPU ms/step', 'steps/s', 'products GFLOP/s', 'dispatches'],
    rows.map((r) => [
      r.path,
      r.gemmTuning ? `${r.executor} ${tuningLabel(r.gemmTuning)}` : r.executor,
      r.batch,
      `${r.msPerStep.toFixed(2)} (${r.msMin.toFixed(2)}–${r.msMax.toFixed(2)})`,
      r.cpuMsPerStep.toFixed(1),
      r.stepsPerSecond.toFixed(1),
      r.achievedGflops?.toFixed(0) ?? '',
      r.dispatchesPerStep ?? '',
    ]),
  );
  for (const s of speedups)
    console.log(
      `batch ${s.batch}: fused / tfjs = ${s.fusedOverTfjs?.toFixed(2) ?? 'n/a'}× (wall), ${s.fusedOverTfjsCpuTime?.toFixed(2) ?? 'n/a'}× (CPU time)`,
    );
  for (const e of evalRows)
    console.log(
      `evaluation call, ${e.batch} episodes, ${e.path}: ${e.msPerCall.toFixed(2)} ms (min ${e.msMin.toFixed(2)})`,
    );
  for (const [key, p] of Object.entries(profiles)) {
    const kinds = p.filter((e) => e.label.startsWith('kind:'));
    if (kinds.length === 0) continue;
    const total = kinds.reduce((a, e) => a + e.us, 0) / 1000;
    console.log(`\nfused CPU step by launch kind, ${key} (${total.toFixed(1)} ms in all):`);
    printTable(
      ['launch kind', 'ms/step', 'share'],
      kinds.map((e) => [e.label.slice(5), (e.us / 1000).toFixed(1), `${((100 * e.us) / 1000 / total).toFixed(0)}%`]),
    );
  }
  console.log(`wrote ${file}`);
}

main().catch((e) => {
  console.error((e as Error).stack ?? e);
  process.exit(1);
});
