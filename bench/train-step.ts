/**
 * Training-step throughput on the wasm backend (issue 3): the shipped step, `Trainer.trainStep` (sample,
 * forward in training mode, masked MSE, backward, global-norm clip 0.25, AdamW), batch 64, at each model's hopper
 * configuration (docs/spec.md §9; DMa and DC at their hopper-medium D = 256). Also the selective-scan op's
 * forward + backward at (B, L, D, N) = (64, 24, 64, 16) and (64, 300, 256, 16), and a per-kernel
 * profile of one DMM step. Prints a table and writes bench/results/train-step.json.
 *
 * Usage: node --import tsx bench/train-step.ts [--seconds 8] [--models dmm,dmamba,dt,dc] [--no-train] [--no-scan]
 *        [--profile dmm,dt,dc | --no-profile]     (ms per step: the median of the timed steps)
 * Runs on one core (wasm has no threads in Node); say in any report what else loaded the machine.
 */
import * as os from 'os';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend';
import type { ModelName } from '../src/config/names';
import { createModel } from '../src/models';
import { selectiveScan } from '../src/ops/scan';
import { Rng } from '../src/util/rng';
import { machine, parseBenchFlags, printTable, timeIt, trainerStep, writeBenchResult } from './lib';

const HOPPER = { stateDim: 11, actDim: 3 };
const CONFIGS: Record<ModelName, Record<string, unknown>> = {
  dmm: { hiddenSize: 64, contextLength: 8 },
  dmamba: { hiddenSize: 256, contextLength: 20 },
  dt: { hiddenSize: 128, contextLength: 20 },
  dc: { hiddenSize: 256, contextLength: 8 },
};
const BATCH = 64;

const FLAGS = {
  seconds: { type: 'number', default: 8, help: 'timed seconds per model (half of it per scan shape)' },
  models: { type: 'list', default: ['dmm', 'dmamba', 'dt', 'dc'], help: 'models to time' },
  'no-train': { type: 'boolean', help: 'skip the training steps' },
  'no-scan': { type: 'boolean', help: 'skip the scan op' },
  profile: { type: 'list', default: ['dmm'], help: 'models whose step gets a per-kernel profile' },
  'no-profile': { type: 'boolean', help: 'no profile' },
} as const;

function randn(rng: Rng, shape: number[], std = 1, mean = 0): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = mean + std * rng.normal();
  return tf.tensor(v, shape);
}

/** The shipped training step (Trainer.trainStep) of one model at its hopper configuration, batch 64. */
function modelStep(name: ModelName) {
  const model = createModel(name, CONFIGS[name] as never, HOPPER, 0);
  const s = trainerStep(model, { batchSize: BATCH });
  return {
    model,
    step: s.step,
    dispose: () => {
      s.dispose();
      model.dispose();
    },
  };
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
  const flags = parseBenchFlags('train-step', FLAGS);
  const backend = await initBackend({ backend: process.env.DMM_BACKEND ?? 'wasm' });
  const seconds = flags.seconds;
  const names = (flags['no-train'] ? [] : flags.models) as ModelName[];
  const where = machine();
  const rows: Record<string, unknown>[] = [];
  for (const name of names) {
    const { model, step, dispose } = modelStep(name);
    await step(); // warm-up outside the leak count
    const before = tf.memory().numTensors;
    const r = await timeIt(step, { seconds, warmup: 1 });
    const leaked = tf.memory().numTensors - before;
    rows.push({
      kind: 'train-step',
      model: name,
      config: JSON.stringify(CONFIGS[name]),
      parameters: model.parameterCount(),
      batch: BATCH,
      stepsPerSecond: 1000 / r.medianMs,
      msPerStep: r.medianMs,
      minMsPerStep: r.minMs,
      maxMsPerStep: r.maxMs,
      cpuMsPerStep: r.cpuMs,
      stepsPerCpuSecond: 1000 / r.cpuMs,
      iters: r.iters,
      leakedTensorsPerRun: leaked,
    });
    console.error(`${name}: ${(1000 / r.medianMs).toFixed(2)} steps/s (${r.iters} steps)`);
    dispose();
  }
  if (!flags['no-scan']) {
    for (const [b, l, d, n] of [
      [64, 24, 64, 16],
      [64, 300, 256, 16],
    ]) {
      const s = scanFn(b, l, d, n);
      const fwd = await timeIt(s.fwd, { seconds: seconds / 2, warmup: 1 });
      const fb = await timeIt(s.fwdBwd, { seconds: seconds / 2, warmup: 1 });
      rows.push({
        kind: 'scan',
        fwdCpuMs: fwd.cpuMs,
        fwdBwdCpuMs: fb.cpuMs,
        shape: `B=${b} L=${l} D=${d} N=${n}`,
        fwdMs: fwd.medianMs,
        fwdBwdMs: fb.medianMs,
        fwdIters: fwd.iters,
        fwdBwdIters: fb.iters,
      });
      console.error(
        `scan ${b},${l},${d},${n}: fwd ${fwd.medianMs.toFixed(2)} ms, fwd+bwd ${fb.medianMs.toFixed(2)} ms`,
      );
      s.dispose();
    }
  }
  // Per-kernel profile of one training step (after one warm-up step) for each model in --profile.
  const profiles: Record<string, { kernel: string; ms: number; calls: number }[]> = {};
  for (const name of (flags['no-profile'] ? [] : flags.profile) as ModelName[]) {
    const { step, dispose } = modelStep(name);
    await step();
    const info = await tf.profile(async () => void (await step()));
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
  const file = writeBenchResult('train-step', {
    backend,
    ...where,
    loadavgBefore: where.loadavg,
    loadavgAfter: load1,
    seconds,
    rows,
    stepProfiles: profiles,
  });

  const load0 = where.loadavg as number[];
  console.log(
    `\ntrain-step on ${backend} (tfjs ${tf.version.tfjs}, 1 thread), ${os.cpus()[0]?.model}; load average ${load0[0].toFixed(1)} → ${load1[0].toFixed(1)} on ${os.cpus().length} cores`,
  );
  const f = (r: Record<string, unknown>, k: string, d = 1) => (r[k] as number).toFixed(d);
  printTable(
    [
      'model (hopper)',
      'config',
      'params',
      'steps/s (wall)',
      'ms/step (median, min–max)',
      'ms/step (CPU)',
      'steps per CPU-second',
    ],
    rows
      .filter((r) => r.kind === 'train-step')
      .map((r) => [
        String(r.model),
        String(r.config),
        (r.parameters as number).toLocaleString('en'),
        f(r, 'stepsPerSecond', 2),
        `${f(r, 'msPerStep')} (${f(r, 'minMsPerStep')}–${f(r, 'maxMsPerStep')})`,
        f(r, 'cpuMsPerStep'),
        f(r, 'stepsPerCpuSecond', 2),
      ]),
  );
  const scans = rows.filter((r) => r.kind === 'scan');
  if (scans.length) {
    console.log('');
    printTable(
      ['selectiveScan', 'fwd ms (wall)', 'fwd+bwd ms (wall)', 'fwd ms (CPU)', 'fwd+bwd ms (CPU)'],
      scans.map((r) => [
        String(r.shape),
        f(r, 'fwdMs', 2),
        f(r, 'fwdBwdMs', 2),
        f(r, 'fwdCpuMs', 2),
        f(r, 'fwdBwdCpuMs', 2),
      ]),
    );
  }
  for (const [name, profile] of Object.entries(profiles)) {
    const total = profile.reduce((acc, p) => acc + p.ms, 0);
    const calls = profile.reduce((acc, p) => acc + p.calls, 0);
    console.log(`\n${name} step profile (kernel time ${total.toFixed(1)} ms in ${calls} kernel calls, top 8):`);
    for (const p of profile.slice(0, 8))
      console.log(`  ${p.kernel.padEnd(28)} ${p.ms.toFixed(2).padStart(8)} ms  ${p.calls} calls`);
  }
  console.log(`wrote ${file}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
