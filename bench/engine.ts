/**
 * The fused engine against the tfjs path, side by side in one process: DMM at its hopper configuration
 * (D 64, K 8, 3 layers, spec §9), training steps (sample → forward → masked MSE → backward → clip → AdamW)
 * at each batch size, on this machine's backend (wasm here; webgpu on a GPU host, bundled with
 * tools/gpu/bundle.sh). Both paths draw their batches from the kit's BatchSampler over a synthetic hopper
 * dataset, so the sampler's cost is in both. Reports ms/step (median of timed chunks), steps/s, the ratio,
 * and the matrix products' achieved FLOP/s (2·M·N·K summed over the program's products, the bulk of a step's
 * arithmetic; the scan and element-wise work are not counted). With --profile, the WebGPU executor's time
 * per launch (each launch repeated alone in one pass).
 *
 * Usage: node --import tsx bench/engine.ts [--batches 64,1024] [--seconds 6] [--paths tfjs,fused]
 *        [--profile] [--out bench/results/engine.json]
 */
import * as os from 'os';
import { initBackend, tf } from '../src/backend';
import { BatchSampler } from '../src/data/sampler';
import { createModel, maskedActionLoss, type DmmConfig } from '../src/models';
import { EngineSession } from '../src/engine/session';
import type { GemmSpec } from '../src/engine/kernels/gemm';
import type { Program } from '../src/engine/program';
import { WebGpuExecutor } from '../src/engine/webgpu/executor';
import { resolveTrainConfig } from '../src/config/train';
import { Trainer } from '../src/train/trainer';
import { writeJsonAtomic } from '../src/util/atomic';
import { Rng } from '../src/util/rng';
import { kitCommit } from '../src/util/version';

const HOPPER = { stateDim: 11, actDim: 3 };
const CONFIG = { hiddenSize: 64, contextLength: 8 };

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

/** 200 synthetic hopper trajectories of 500 steps (the numbers do not change a step's cost). */
function sampler(batchSize: number, seed: number): BatchSampler {
  const rng = new Rng(seed);
  const T = 500;
  const trajectories = Array.from({ length: 200 }, () => ({
    observations: Float32Array.from({ length: T * HOPPER.stateDim }, () => rng.normal()),
    actions: Float32Array.from({ length: T * HOPPER.actDim }, () => rng.range(-1, 1)),
    rewards: Float32Array.from({ length: T }, () => rng.range(0, 3)),
    terminals: new Uint8Array(T),
    timeouts: Uint8Array.from({ length: T }, (_, i) => (i === T - 1 ? 1 : 0)),
  }));
  return new BatchSampler(
    { trajectories, stateMean: new Float64Array(HOPPER.stateDim), stateStd: new Float64Array(HOPPER.stateDim).fill(1) },
    { contextLength: CONFIG.contextLength, batchSize, seed },
  );
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

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Times chunks of `chunk` steps for about `seconds` after one warm-up chunk; ms per step per chunk. */
async function timeChunks(run: (steps: number) => Promise<void>, chunk: number, seconds: number): Promise<number[]> {
  await run(chunk);
  const out: number[] = [];
  const t0 = performance.now();
  while (out.length < 3 || (performance.now() - t0 < seconds * 1000 && out.length < 50)) {
    const c0 = performance.now();
    await run(chunk);
    out.push((performance.now() - c0) / chunk);
  }
  return out;
}

interface Row {
  path: 'tfjs' | 'fused';
  executor: string;
  batch: number;
  msPerStep: number;
  msMin: number;
  msMax: number;
  stepsPerSecond: number;
  chunks: number;
  stepsPerChunk: number;
  gemmGflopPerStep?: number;
  achievedGflops?: number;
  dispatchesPerStep?: number;
}

async function main(): Promise<void> {
  process.env.DMM_QUIET = '1';
  const backend = await initBackend({ log: true });
  const batches = arg('batches', '64,1024').split(',').map(Number);
  const seconds = Number(arg('seconds', '6'));
  const paths = arg('paths', 'tfjs,fused').split(',');
  const out = arg('out', 'bench/results/engine.json');
  const executor = backend === 'webgpu' ? 'webgpu' : 'cpu';
  const rows: Row[] = [];
  const profiles: Record<string, { label: string; us: number }[]> = {};
  for (const B of batches) {
    const train = resolveTrainConfig({ batchSize: B, learningRate: 1e-4, warmupSteps: 10000 });
    const model = createModel('dmm', CONFIG as never, HOPPER, 1);
    if (paths.includes('tfjs')) {
      const s = sampler(B, 2);
      const trainer = new Trainer(model, s, train, 3, maskedActionLoss);
      const chunk = backend === 'webgpu' ? 10 : B >= 512 ? 1 : 4;
      const ms = await timeChunks(async (n) => void (await trainer.train(n)), chunk, seconds);
      rows.push(row('tfjs', backend, B, ms, chunk));
      trainer.dispose();
    }
    if (paths.includes('fused')) {
      const s = sampler(B, 2);
      const session = await EngineSession.create(model.config as DmmConfig, HOPPER, { ...train, seed: 3 }, executor);
      const weights = new Map([...model.trainableParameters()].map(([k, v]) => [k, Float32Array.from(v.dataSync())]));
      session.load({ weights });
      const chunk = executor === 'webgpu' ? 100 : B >= 512 ? 1 : 4;
      const ms = await timeChunks(async (n) => void (await session.train(n, () => s.sample())), chunk, seconds);
      const r = row('fused', executor, B, ms, chunk);
      r.gemmGflopPerStep = gemmFlops(session.program) / 1e9;
      r.achievedGflops = r.gemmGflopPerStep * r.stepsPerSecond;
      if (session.executor instanceof WebGpuExecutor) {
        r.dispatchesPerStep = session.executor.dispatchCount;
        if (flag('profile')) profiles[`B=${B}`] = await profile(session.executor);
      }
      rows.push(r);
      session.dispose();
    }
    model.dispose();
  }
  const speedups = batches.map((B) => {
    const t = rows.find((r) => r.batch === B && r.path === 'tfjs');
    const f = rows.find((r) => r.batch === B && r.path === 'fused');
    return { batch: B, fusedOverTfjs: t && f ? t.msPerStep / f.msPerStep : null };
  });
  const result = {
    bench: 'engine',
    date: new Date().toISOString(),
    commit: kitCommit(),
    host: os.hostname(),
    cpu: os.cpus()[0]?.model,
    loadavg: os.loadavg(),
    backend,
    model: { name: 'dmm', ...CONFIG, dims: HOPPER, parameters: 123587 },
    rows,
    speedups,
    profiles,
  };
  writeJsonAtomic(out, result);
  console.log(
    `\nDMM hopper (D 64, K 8), training step, ${backend}, ${os.cpus()[0]?.model} (load ${os.loadavg()[0].toFixed(1)})`,
  );
  console.log('path   executor batch   ms/step (min-max)        steps/s  GFLOP/s  dispatches');
  for (const r of rows)
    console.log(
      `${r.path.padEnd(6)} ${r.executor.padEnd(8)} ${String(r.batch).padStart(5)} ${r.msPerStep.toFixed(3).padStart(9)} (${r.msMin.toFixed(3)}-${r.msMax.toFixed(3)})`.padEnd(
        50,
      ) +
        `${r.stepsPerSecond.toFixed(1).padStart(8)} ${(r.achievedGflops ?? 0).toFixed(0).padStart(8)} ${String(r.dispatchesPerStep ?? '').padStart(11)}`,
    );
  for (const s of speedups) console.log(`batch ${s.batch}: fused / tfjs = ${s.fusedOverTfjs?.toFixed(1) ?? 'n/a'}×`);
  console.log(`wrote ${out}`);
  void tf;
}

function row(path: 'tfjs' | 'fused', executor: string, batch: number, ms: number[], chunk: number): Row {
  const m = median(ms);
  return {
    path,
    executor,
    batch,
    msPerStep: m,
    msMin: Math.min(...ms),
    msMax: Math.max(...ms),
    stepsPerSecond: 1000 / m,
    chunks: ms.length,
    stepsPerChunk: chunk,
  };
}

/** µs per dispatch of each launch, repeated 50 times alone in one pass (includes per-dispatch overhead). */
async function profile(ex: WebGpuExecutor): Promise<{ label: string; us: number }[]> {
  const out: { label: string; us: number }[] = [];
  const labels = ex.dispatchLabels;
  for (let i = 0; i < labels.length; i++) {
    await ex.finish();
    const reps = 50;
    const t0 = performance.now();
    ex.runRepeated(i, reps);
    await ex.finish();
    out.push({ label: labels[i], us: ((performance.now() - t0) * 1000) / reps });
  }
  return out;
}

main().catch((e) => {
  console.error((e as Error).stack ?? e);
  process.exit(1);
});
