/**
 * Training-step throughput on the wasm backend (issue 3): forward in training mode, masked MSE,
 * backward, global-norm clip 0.25 and AdamW (src/train/adamw.ts), batch 64, at each model's hopper
 * configuration (spec §9; DMa and DC at their hopper-medium D = 256). Also the selective-scan op's
 * forward + backward at (B, L, D, N) = (64, 24, 64, 16) and (64, 300, 256, 16), and a per-kernel
 * profile of one DMM step. Prints a table and writes bench/results/train-step.json.
 *
 * Usage: node --import tsx bench/train-step.ts [--seconds 8] [--models dmm,dmamba,dt,dc] [--no-train] [--no-scan]
 *        [--profile dmm,dt,dc | --no-profile]
 * Runs on one core (wasm has no threads in Node); say in any report what else loaded the machine.
 */
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend';
import type { ModelName } from '../src/config/names';
import { ModelInputs, createModel, maskedActionLoss } from '../src/models';
import { selectiveScan } from '../src/ops/scan';
import { AdamW, clipGlobalNorm } from '../src/train/adamw';
import { writeJsonAtomic } from '../src/util/atomic';
import { Rng } from '../src/util/rng';

const HOPPER = { stateDim: 11, actDim: 3 };
const CONFIGS: Record<ModelName, Record<string, unknown>> = {
  dmm: { hiddenSize: 64, contextLength: 8 },
  dmamba: { hiddenSize: 256, contextLength: 20 },
  dt: { hiddenSize: 128, contextLength: 20 },
  dc: { hiddenSize: 256, contextLength: 8 },
};
const BATCH = 64;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function randn(rng: Rng, shape: number[], std = 1, mean = 0): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = mean + std * rng.normal();
  return tf.tensor(v, shape);
}

function batch(rng: Rng, k: number): ModelInputs & { target: tf.Tensor } {
  const ts = new Int32Array(BATCH * k).map(() => rng.int(1000));
  return {
    states: randn(rng, [BATCH, k, HOPPER.stateDim]),
    actions: randn(rng, [BATCH, k, HOPPER.actDim], 0.5),
    returnsToGo: randn(rng, [BATCH, k, 1]),
    timesteps: tf.tensor(ts, [BATCH, k], 'int32'),
    mask: tf.ones([BATCH, k]),
    target: randn(rng, [BATCH, k, HOPPER.actDim], 0.5),
  };
}

/** Runs `fn` repeatedly for about `seconds` after `warmup` calls; returns calls per second and ms per call. */
/**
 * Runs `fn` for about `seconds` after `warmup` calls. Reports wall time and this process's CPU time
 * per call: on a shared, overloaded machine the CPU time is the better estimate of one idle core.
 */
function timeLoop(
  fn: (i: number) => void,
  seconds: number,
  warmup = 2,
  maxIters = 1000,
): { perSecond: number; msPerCall: number; cpuMsPerCall: number; iters: number } {
  for (let i = 0; i < warmup; i++) fn(-1 - i);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let iters = 0;
  while (iters < maxIters && performance.now() - t0 < seconds * 1000) fn(iters++);
  const ms = (performance.now() - t0) / iters;
  const c = process.cpuUsage(c0);
  return { perSecond: 1000 / ms, msPerCall: ms, cpuMsPerCall: (c.user + c.system) / 1000 / iters, iters };
}

function trainStepFn(name: ModelName) {
  const model = createModel(name, CONFIGS[name] as never, HOPPER, 0);
  const params = model.trainableParameters();
  const opt = new AdamW(params);
  const x = batch(new Rng(1), (model.config as { contextLength: number }).contextLength);
  const step = (i: number) => {
    const { value, grads } = tf.variableGrads(
      () => maskedActionLoss(model.forward(x, { training: true, dropoutSeed: i + 10 }), x.target, x.mask),
      [...params.values()],
    );
    const byName = new Map(
      [...params].filter(([, v]) => grads[v.name]).map(([k, v]) => [k, grads[v.name] as tf.Tensor]),
    );
    const { grads: clipped, norm } = clipGlobalNorm(byName, 0.25);
    opt.apply(clipped, 1e-4);
    value.dataSync(); // the loss is read every step, as a trainer logs it
    tf.dispose([value, norm, ...Object.values(grads), ...clipped.values()]);
  };
  const dispose = () => {
    model.dispose();
    opt.dispose();
    tf.dispose(Object.values(x));
  };
  return { model, step, dispose };
}

function scanFn(b: number, l: number, d: number, n: number) {
  const rng = new Rng(2);
  const u = randn(rng, [b, d, l]);
  const delta = randn(rng, [b, d, l], 0.5);
  const a = tf.neg(tf.exp(randn(rng, [d, n], 0.5)));
  const bm = randn(rng, [b, n, l]);
  const cm = randn(rng, [b, n, l]);
  const dd = randn(rng, [d]);
  const z = randn(rng, [b, d, l]);
  const bias = randn(rng, [d], 0.1);
  const f = (
    u_: tf.Tensor,
    de: tf.Tensor,
    a_: tf.Tensor,
    b_: tf.Tensor,
    c_: tf.Tensor,
    d_: tf.Tensor,
    z_: tf.Tensor,
    bi: tf.Tensor,
  ) => selectiveScan(u_, de, a_, b_, c_, d_, z_, bi, true).sum();
  const inputs = [u, delta, a, bm, cm, dd, z, bias];
  const gradFn = tf.grads(f as (...args: tf.Tensor[]) => tf.Tensor);
  return {
    // Return nothing from tidy: it walks a returned value element by element (seconds for a 4.9M-float array).
    fwd: () => tf.tidy(() => void selectiveScan(u, delta, a, bm, cm, dd, z, bias, true).dataSync()),
    fwdBwd: () => tf.tidy(() => gradFn(inputs).forEach((g) => g.dataSync())),
    dispose: () => tf.dispose(inputs),
  };
}

async function main(): Promise<void> {
  const backend = await initBackend({ backend: process.env.DMM_BACKEND ?? 'wasm' });
  const seconds = Number(arg('seconds') ?? 8);
  const names = (arg('models') ?? 'dmm,dmamba,dt,dc').split(',') as ModelName[];
  const load0 = os.loadavg();
  if (process.argv.includes('--no-train')) names.length = 0;
  const rows: Record<string, unknown>[] = [];
  for (const name of names) {
    const { model, step, dispose } = trainStepFn(name);
    const before = tf.memory().numTensors;
    const r = timeLoop(step, seconds, 1);
    const leaked = tf.memory().numTensors - before;
    rows.push({
      kind: 'train-step',
      model: name,
      config: JSON.stringify(CONFIGS[name]),
      parameters: model.parameterCount(),
      batch: BATCH,
      stepsPerSecond: r.perSecond,
      msPerStep: r.msPerCall,
      cpuMsPerStep: r.cpuMsPerCall,
      stepsPerCpuSecond: 1000 / r.cpuMsPerCall,
      iters: r.iters,
      leakedTensorsPerRun: leaked,
    });
    console.error(`${name}: ${r.perSecond.toFixed(2)} steps/s (${r.iters} steps)`);
    dispose();
  }
  if (!process.argv.includes('--no-scan')) {
    for (const [b, l, d, n] of [
      [64, 24, 64, 16],
      [64, 300, 256, 16],
    ]) {
      const s = scanFn(b, l, d, n);
      const fwd = timeLoop(s.fwd, seconds / 2, 1);
      const fb = timeLoop(s.fwdBwd, seconds / 2, 1);
      rows.push({
        kind: 'scan',
        fwdCpuMs: fwd.cpuMsPerCall,
        fwdBwdCpuMs: fb.cpuMsPerCall,
        shape: `B=${b} L=${l} D=${d} N=${n}`,
        fwdMs: fwd.msPerCall,
        fwdBwdMs: fb.msPerCall,
        fwdIters: fwd.iters,
        fwdBwdIters: fb.iters,
      });
      console.error(
        `scan ${b},${l},${d},${n}: fwd ${fwd.msPerCall.toFixed(2)} ms, fwd+bwd ${fb.msPerCall.toFixed(2)} ms`,
      );
      s.dispose();
    }
  }
  // Per-kernel profile of one training step (after one warm-up step) for each model in --profile.
  const profiles: Record<string, { kernel: string; ms: number; calls: number }[]> = {};
  const toProfile = (process.argv.includes('--no-profile') ? '' : (arg('profile') ?? 'dmm'))
    .split(',')
    .filter(Boolean) as ModelName[];
  for (const name of toProfile) {
    const { step, dispose } = trainStepFn(name);
    step(0);
    const info = await tf.profile(() => step(1));
    const agg = new Map<string, { ms: number; calls: number }>();
    for (const k of info.kernels) {
      const e = agg.get(k.name) ?? { ms: 0, calls: 0 };
      e.ms += Number(k.kernelTimeMs) || 0;
      e.calls += 1;
      agg.set(k.name, e);
    }
    profiles[name] = [...agg].map(([kernel, e]) => ({ kernel, ...e })).sort((a, b) => b.ms - a.ms);
    dispose();
  }
  const load1 = os.loadavg();
  const result = {
    backend,
    tfjs: tf.version.tfjs,
    node: process.version,
    cpu: os.cpus()[0]?.model,
    cores: os.cpus().length,
    loadavgBefore: load0,
    loadavgAfter: load1,
    date: new Date().toISOString(),
    seconds,
    rows,
    stepProfiles: profiles,
  };
  writeJsonAtomic(path.join(__dirname, 'results', 'train-step.json'), result);

  console.log(
    `\ntrain-step on ${backend} (tfjs ${tf.version.tfjs}, 1 thread), ${os.cpus()[0]?.model}; load average ${load0[0].toFixed(1)} → ${load1[0].toFixed(1)} on ${os.cpus().length} cores`,
  );
  console.log(
    '| model (hopper) | config | params | steps/s (wall) | ms/step (wall) | ms/step (CPU) | steps per CPU-second |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows.filter((r) => r.kind === 'train-step')) {
    const f = (k: string, d = 1) => (r[k] as number).toFixed(d);
    console.log(
      `| ${r.model} | ${r.config} | ${(r.parameters as number).toLocaleString('en')} | ${f('stepsPerSecond', 2)} | ${f('msPerStep')} | ${f('cpuMsPerStep')} | ${f('stepsPerCpuSecond', 2)} |`,
    );
  }
  const scans = rows.filter((r) => r.kind === 'scan');
  if (scans.length) {
    console.log('\n| selectiveScan | fwd ms (wall) | fwd+bwd ms (wall) | fwd ms (CPU) | fwd+bwd ms (CPU) |');
    console.log('|---|---|---|---|---|');
    for (const r of scans)
      console.log(
        `| ${r.shape} | ${(r.fwdMs as number).toFixed(2)} | ${(r.fwdBwdMs as number).toFixed(2)} | ${(r.fwdCpuMs as number).toFixed(2)} | ${(r.fwdBwdCpuMs as number).toFixed(2)} |`,
      );
  }
  for (const [name, profile] of Object.entries(profiles)) {
    const total = profile.reduce((acc, p) => acc + p.ms, 0);
    const calls = profile.reduce((acc, p) => acc + p.calls, 0);
    console.log(`\n${name} step profile (kernel time ${total.toFixed(1)} ms in ${calls} kernel calls, top 8):`);
    for (const p of profile.slice(0, 8))
      console.log(`  ${p.kernel.padEnd(28)} ${p.ms.toFixed(2).padStart(8)} ms  ${p.calls} calls`);
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
