/**
 * Selective-scan benchmark for the GPU host (issue 7). On WebGPU (Dawn, through the `webgpu` package):
 *   1. the fused kernels against the float64 reference on all check shapes (poisoned outputs), including
 *      a batch × channel count past 65,535 workgroups;
 *   2. the card's memory bandwidth, from a plain WGSL copy kernel;
 *   3. forward + backward time of the fused WGSL kernels and of the composite tfjs path, at DMM's
 *      training shape and two large shapes, with the bytes a scan must move and the achieved fraction
 *      of the measured bandwidth;
 *   4. a whole DMM training step (hopper configuration; forward, masked MSE, backward, AdamW) at batch
 *      64 and 1024.
 * A child process (DMM_BACKEND=wasm) measures the same on the wasm backend: the fused CPU kernel through
 * the op at DMM's shape, the JS typed-array loops of cpu.ts directly at the large shapes (B/8 rows timed, ×8),
 * and the training step.
 *
 * Run on the GPU host (docs/scan.md):
 *   bash tools/gpu/bundle.sh bench/scan.ts .gpu/scan         # here
 *   OUT=/some/dir bash .gpu/scan/run.sh                              # there; JSON goes to $OUT/scan.json
 * Locally (no GPU): `node --import tsx bench/scan.ts --wasm-only` runs the wasm part.
 * Writes bench/results/scan.json (or $OUT/scan.json) and prints a short table last.
 */
import { spawnSync } from 'child_process';
import * as os from 'os';
import * as tf from '@tensorflow/tfjs';
import { initBackend, webgpuAdapterInfo } from '../src/backend';
import { officialModelConfig } from '../src/config/presets';
import { createModel } from '../src/models';
import { selectiveScan, type ScanPath } from '../src/ops/scan';
import { fusedScanBackward, fusedScanForward, type ScanBuffers } from '../src/ops/scan/cpu';
import { SCAN_INPUT_NAMES } from '../src/ops/scan/kernel-names';
import type { ScanDims } from '../src/ops/scan/reference';
import { dispatchGrid, setScanBlock, setScanPoison } from '../src/ops/scan/webgpu';
import { Rng } from '../src/util/rng';
import { CHECK_SHAPES, pathErrors } from '../test/helpers/scan-check';
import { randomScanCase } from '../test/helpers/scan-inputs';
import { parseBenchFlags, timeIt, trainerStep, writeBenchResult } from './lib';

const DMM_SHAPE: ScanDims = { batch: 64, dim: 64, len: 24, nState: 16 };
const LARGE: ScanDims[] = [
  { batch: 64, dim: 256, len: 3000, nState: 16 },
  { batch: 8, dim: 512, len: 16384, nState: 16 },
];
const HOPPER = { stateDim: 11, actDim: 3 };
const label = (s: ScanDims): string => `B=${s.batch} L=${s.len} D=${s.dim} N=${s.nState}`;

/** Bytes a fused forward + backward must move at least: fwd reads u, δ, z, B, C and writes out; bwd
 * reads u, δ, z, ∂out, B, C and writes ∂u, ∂δ, ∂z, ∂B, ∂C (A, D, β and their gradients are negligible). */
function scanBytes(s: ScanDims): number {
  const bdl = s.batch * s.dim * s.len;
  const bnl = s.batch * s.nState * s.len;
  return 4 * (4 * bdl + 2 * bnl + 7 * bdl + 4 * bnl);
}

/** Random inputs as tensors in SCAN_INPUT_NAMES order, kept per shape for reuse (uniform draws: fast to make). */
const inputCache = new Map<string, { xs: tf.Tensor[]; dy: tf.Tensor }>();
function scanTensors(s: ScanDims, seed: number): { xs: tf.Tensor[]; dy: tf.Tensor } {
  const key = `${label(s)} ${seed}`;
  const hit = inputCache.get(key);
  if (hit) return hit;
  const rng = new Rng(seed);
  const { batch, dim, len, nState: N } = s;
  const fill = (n: number, lo: number, hi: number): Float32Array => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rng.uniform();
    return a;
  };
  const bdl = batch * dim * len;
  const bnl = batch * N * len;
  const xs = [
    tf.tensor(fill(bdl, -1.7, 1.7), [batch, dim, len]),
    tf.tensor(fill(bdl, -2, 0), [batch, dim, len]),
    tf.tensor(
      Float32Array.from(fill(dim * N, -1, 1.5), (v) => -Math.exp(v)),
      [dim, N],
    ),
    tf.tensor(fill(bnl, -1.7, 1.7), [batch, N, len]),
    tf.tensor(fill(bnl, -1.7, 1.7), [batch, N, len]),
    tf.tensor(fill(dim, -1, 1), [dim]),
    tf.tensor(fill(bdl, -1.7, 1.7), [batch, dim, len]),
    tf.tensor(fill(dim, -4, 0), [dim]),
  ];
  const made = { xs, dy: tf.tensor(fill(bdl, -1.7, 1.7), [batch, dim, len]) };
  inputCache.set(key, made);
  return made;
}

/** ms per forward + backward of the op on the active backend (grads of all 8 inputs, synced by reading ∂A). */
async function timeScan(s: ScanDims, path: ScanPath, iters: number, warmup = 2): Promise<number> {
  const { xs, dy } = scanTensors(s, 7);
  const f = (...t: tf.Tensor[]): tf.Tensor => selectiveScan(t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], true, path);
  const once = (): tf.Tensor[] => tf.grads(f)(xs, dy);
  for (let i = 0; i < warmup; i++) {
    const g = once();
    await g[2].data();
    tf.dispose(g);
  }
  // Two rounds of `iters` calls without a read in between; the second is reported. The backend frees
  // buffers only when it submits, so the first round still grows the buffer pool (new buffers, which Dawn
  // zero-fills); training steps run with a warm pool.
  let ms = NaN;
  for (let round = 0; round < 2; round++) {
    const t0 = performance.now();
    let last: tf.Tensor[] = [];
    for (let i = 0; i < iters; i++) {
      tf.dispose(last);
      last = once();
    }
    await last[2].data();
    ms = (performance.now() - t0) / iters;
    tf.dispose(last);
  }
  return ms;
}

/** ms per forward call only (synced by reading one element). */
async function timeScanForward(s: ScanDims, iters: number): Promise<number> {
  const { xs } = scanTensors(s, 7);
  const once = (): tf.Tensor => selectiveScan(xs[0], xs[1], xs[2], xs[3], xs[4], xs[5], xs[6], xs[7], true, 'fused');
  const sync = async (t: tf.Tensor): Promise<void> => {
    const one = t.slice([0, 0, 0], [1, 1, 1]);
    await one.data();
    one.dispose();
  };
  for (let i = 0; i < 3; i++) {
    const w = once();
    await sync(w);
    w.dispose();
  }
  let ms = NaN;
  for (let round = 0; round < 2; round++) {
    const t0 = performance.now();
    let last: tf.Tensor | undefined;
    for (let i = 0; i < iters; i++) {
      last?.dispose();
      last = once();
    }
    await sync(last!);
    ms = (performance.now() - t0) / iters;
    last!.dispose();
  }
  return ms;
}

/** ms per call of the JS typed-array loops of cpu.ts (the cpu/wasm kernels' fallback when WebAssembly SIMD is missing), forward + backward. */
function timeCpuLoops(s: ScanDims, iters: number): number {
  const c = randomScanCase(s, 9);
  const x: Record<string, Float32Array> = {};
  for (const n of SCAN_INPUT_NAMES) if (c.x[n]) x[n] = Float32Array.from(c.x[n] as Float64Array);
  const G = Float32Array.from(c.G);
  const out = new Float32Array(G.length);
  const g: Record<string, Float32Array> = {};
  for (const n of Object.keys(x)) g[n] = new Float32Array(x[n].length);
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) {
    fusedScanForward(x as unknown as ScanBuffers, s, true, out);
    fusedScanBackward(x as unknown as ScanBuffers, s, true, G, g as unknown as ScanBuffers);
  }
  return (performance.now() - t0) / iters;
}

/** ms per DMM training step (hopper config, K = 8): the shipped step, Trainer.trainStep (median of `steps`). */
async function timeTrainStep(batch: number, steps: number, warmup = 2): Promise<number> {
  const model = createModel('dmm', officialModelConfig('dmm', 'hopper'), HOPPER, 0);
  const s = trainerStep(model, { batchSize: batch });
  const t = await timeIt(s.step, { warmup, minIters: steps, maxIters: steps });
  s.dispose();
  model.dispose();
  return t.medianMs;
}

/** Device-memory bandwidth from a plain vec4 copy kernel (bytes read + written per second). */
async function copyBandwidth(): Promise<{ gbPerS: number; bytes: number }> {
  const be = tf.backend() as unknown as { device: GpuDeviceLite };
  const device = be.device;
  const bytes = 512 * 1024 * 1024;
  const STORAGE = 0x80;
  const src = device.createBuffer({ size: bytes, usage: STORAGE });
  const dst = device.createBuffer({ size: bytes, usage: STORAGE });
  const n4 = bytes / 16;
  const code = `
@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + wid.y * nw.x) * 256u + li;
  if (i < ${n4}u) { dst[i] = src[i]; }
}`;
  const pipeline = device.createComputePipeline({
    layout: 'auto',
    compute: { module: device.createShaderModule({ code }), entryPoint: 'main' },
  });
  const bind = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: src } },
      { binding: 1, resource: { buffer: dst } },
    ],
  });
  const [x, y, z] = dispatchGrid(Math.ceil(n4 / 256));
  const run = async (reps: number): Promise<number> => {
    const t0 = performance.now();
    const enc = device.createCommandEncoder();
    for (let r = 0; r < reps; r++) {
      const pass = enc.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bind);
      pass.dispatchWorkgroups(x, y, z);
      pass.end();
    }
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    return performance.now() - t0;
  };
  await run(2);
  const reps = 20;
  const ms = await run(reps);
  src.destroy();
  dst.destroy();
  return { gbPerS: (2 * bytes * reps) / (ms / 1000) / 1e9, bytes };
}

interface GpuDeviceLite {
  createBuffer(d: { size: number; usage: number }): { destroy(): void };
  createShaderModule(d: { code: string }): unknown;
  createComputePipeline(d: object): { getBindGroupLayout(i: number): unknown };
  createBindGroup(d: object): unknown;
  createCommandEncoder(): {
    beginComputePass(): {
      setPipeline(p: unknown): void;
      setBindGroup(i: number, g: unknown): void;
      dispatchWorkgroups(x: number, y: number, z: number): void;
      end(): void;
    };
    finish(): unknown;
  };
  queue: { submit(b: unknown[]): void; onSubmittedWorkDone(): Promise<void> };
}

async function attempt<T>(what: string, fn: () => Promise<T>): Promise<T | { error: string }> {
  const t0 = performance.now();
  try {
    const v = await fn();
    console.error(
      `[bench/scan] ${what}: ${typeof v === 'number' ? v.toFixed(3) : JSON.stringify(v).slice(0, 300)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
    return v;
  } catch (err) {
    const msg = `${what}: ${(err as Error).message.split('\n')[0]}`;
    console.error(`[bench/scan] ${msg}`);
    return { error: msg };
  }
}

/** The wasm part (run in a child process, since one process holds one backend). */
async function wasmPart(quick: boolean): Promise<Record<string, unknown>> {
  await initBackend({ backend: 'wasm', log: false });
  const r: Record<string, unknown> = { backend: 'wasm' };
  r.scanDmmFusedMs = await attempt('wasm fused', () => timeScan(DMM_SHAPE, 'fused', 10));
  r.cpuLoopsDmmMs = timeCpuLoops(DMM_SHAPE, 10);
  if (!quick) {
    // The loops are exactly linear in the batch (independent rows): time B/8 rows, scale by 8 (labelled).
    r.cpuLoopsLargeMs = LARGE.map((s) => {
      const part = { ...s, batch: s.batch / 8 };
      const measured = timeCpuLoops(part, 1);
      return {
        shape: label(s),
        measuredAt: label(part),
        measuredMs: measured,
        ms: measured * 8,
        scaled: 'x8 in batch',
      };
    });
  }
  r.trainStepMs = {
    b64: await attempt('wasm train 64', () => timeTrainStep(64, 5)),
    b1024: await attempt('wasm train 1024', () => timeTrainStep(1024, 2, 1)),
  };
  return r;
}

function runWasmChild(quick: boolean): Record<string, unknown> {
  const args = [...process.execArgv, process.argv[1], '--wasm-child', ...(quick ? ['--quick'] : [])];
  const res = spawnSync(process.execPath, args, {
    env: { ...process.env, DMM_BACKEND: 'wasm' },
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  const line = (res.stdout ?? '').split('\n').find((l) => l.startsWith('WASM_RESULT '));
  if (!line) return { error: `wasm child failed (status ${res.status}): ${(res.stderr ?? '').slice(-2000)}` };
  return JSON.parse(line.slice('WASM_RESULT '.length)) as Record<string, unknown>;
}

async function gpuPart(): Promise<Record<string, unknown>> {
  const info = await webgpuAdapterInfo();
  await initBackend({ backend: 'webgpu' });
  const r: Record<string, unknown> = { backend: 'webgpu', adapter: info.description };
  // 1. correctness (poisoned outputs)
  setScanPoison(true);
  const shapes = [
    ...CHECK_SHAPES,
    { dims: DMM_SHAPE, opts: {} },
    // 1024 × 128 groups of 8 channels = 131,072 workgroups: past the 65,535 per-dimension limit.
    { dims: { batch: 1024, dim: 1024, len: 2, nState: 16 }, opts: {} },
  ];
  const checks = [];
  for (const [k, { dims, opts }] of shapes.entries()) {
    const errors = await attempt(`check ${label(dims)}`, () => pathErrors('fused', dims, 900 + k, opts));
    const max =
      'error' in errors ? Infinity : Math.max(...Object.values(errors).map((e) => (Number.isFinite(e) ? e : Infinity)));
    checks.push({ shape: label(dims), opts, errors, maxRelError: max, pass: max < 1e-4 });
  }
  r.correctness = checks;
  setScanPoison(false);
  // 2. bandwidth
  const bw = await attempt('bandwidth', copyBandwidth);
  r.copyBandwidth = bw;
  const gbs = 'gbPerS' in bw ? bw.gbPerS : NaN;
  // 3. scan timings
  const fusedDmm = await attempt('fused dmm', () => timeScan(DMM_SHAPE, 'fused', 50));
  const compositeDmm = await attempt('composite dmm', () => timeScan(DMM_SHAPE, 'composite', 10));
  r.dmmShape = { shape: label(DMM_SHAPE), fusedMs: fusedDmm, compositeMs: compositeDmm };
  r.large = [];
  for (const s of LARGE) {
    const ms = await attempt(`fused ${label(s)}`, () => timeScan(s, 'fused', 5, 3));
    const bytes = scanBytes(s);
    const achieved = typeof ms === 'number' ? bytes / (ms / 1000) / 1e9 : NaN;
    // The composite path keeps ~(2·log2 L + 8) tensors of B·d·L·N floats for its backward pass.
    const compositeGb = ((2 * Math.ceil(Math.log2(s.len)) + 8) * s.batch * s.dim * s.len * s.nState * 4) / 1e9;
    (r.large as unknown[]).push({
      shape: label(s),
      fusedMs: ms,
      bytes,
      achievedGbPerS: achieved,
      fractionOfCopy: achieved / gbs,
      composite: `not run: needs about ${compositeGb.toFixed(0)} GB of GPU memory`,
    });
  }
  // 3b. block length T of the WGSL kernels: correctness and time at T = 4, 8 (default) and 16
  const sweep = [];
  for (const T of [4, 8, 16]) {
    setScanBlock(T);
    setScanPoison(true);
    const errs = [];
    for (const [k, dims] of [DMM_SHAPE, { batch: 1, dim: 20, len: 3000, nState: 16 }].entries()) {
      const e = await attempt(`T=${T} check ${label(dims)}`, () => pathErrors('fused', dims, 1300 + k, {}));
      errs.push(
        'error' in e ? Infinity : Math.max(...Object.values(e).map((v) => (Number.isFinite(v) ? v : Infinity))),
      );
    }
    setScanPoison(false);
    sweep.push({
      block: T,
      maxRelError: Math.max(...errs),
      dmmFusedMs: await attempt(`T=${T} fused dmm`, () => timeScan(DMM_SHAPE, 'fused', 50)),
      large1ForwardMs: await attempt(`T=${T} fwd ${label(LARGE[0])}`, () => timeScanForward(LARGE[0], 10)),
      large1FwdBwdMs: await attempt(`T=${T} fwd+bwd ${label(LARGE[0])}`, () => timeScan(LARGE[0], 'fused', 5, 3)),
    });
  }
  setScanBlock(8);
  r.blockSweep = sweep;
  // 4. training step
  r.trainStepMs = {
    b64: await attempt('webgpu train 64', () => timeTrainStep(64, 20)),
    b1024: await attempt('webgpu train 1024', () => timeTrainStep(1024, 10)),
  };
  return r;
}

// The JSON of the two parts, read loosely for the table.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;

const fmt = (v: unknown, digits = 2): string =>
  typeof v === 'number' ? v.toFixed(digits) : v && typeof v === 'object' && 'error' in v ? 'error' : '-';

const FLAGS = {
  quick: { type: 'boolean', help: 'skip the large wasm shapes' },
  'wasm-only': { type: 'boolean', help: 'no WebGPU part (any machine)' },
  'wasm-child': { type: 'boolean', help: 'internal: the wasm part, in its own process' },
} as const;

async function main(): Promise<void> {
  const flags = parseBenchFlags('scan', FLAGS);
  const quick = flags.quick;
  if (flags['wasm-child']) {
    console.log(`WASM_RESULT ${JSON.stringify(await wasmPart(quick))}`);
    return;
  }
  const wasmOnly = flags['wasm-only'];
  const result: Record<string, unknown> = {
    when: new Date().toISOString(),
    host: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, loadavg: os.loadavg() },
  };
  const gpu = wasmOnly ? { skipped: 'wasm-only' } : await gpuPart();
  result.webgpu = gpu;
  const wasm = runWasmChild(quick);
  result.wasm = wasm;
  const file = writeBenchResult('scan', result);

  const g = gpu as Loose;
  const w = wasm as Loose;
  const lines: string[] = [];
  if (g.correctness) {
    const failed = (g.correctness as { pass: boolean }[]).filter((c) => !c.pass).length;
    lines.push(
      `correctness (fused WGSL vs float64 reference, ${g.correctness.length} shapes): ${failed === 0 ? 'all pass' : `${failed} FAIL`}, worst ${Math.max(...g.correctness.map((c: { maxRelError: number }) => c.maxRelError)).toExponential(1)}`,
    );
    lines.push(`device: ${g.adapter}; copy bandwidth ${fmt(g.copyBandwidth?.gbPerS, 0)} GB/s`);
    const f = g.dmmShape.fusedMs;
    const c = g.dmmShape.compositeMs;
    lines.push(
      `scan fwd+bwd ${g.dmmShape.shape}: fused ${fmt(f, 3)} ms, composite ${fmt(c, 3)} ms, wasm ${fmt(w.scanDmmFusedMs, 2)} ms; fused/composite speed-up ${fmt(c / f, 1)}x (target 20x)`,
    );
    for (const [k, l] of (g.large as Loose[]).entries()) {
      const cpu = w.cpuLoopsLargeMs?.[k]?.ms;
      lines.push(
        `scan fwd+bwd ${l.shape}: fused ${fmt(l.fusedMs, 2)} ms, ${fmt(l.achievedGbPerS, 0)} GB/s = ${fmt(100 * l.fractionOfCopy, 0)}% of copy (target 50%); CPU loops ${fmt(cpu, 0)} ms`,
      );
    }
    for (const t of g.blockSweep as Loose[]) {
      lines.push(
        `  block T=${t.block}: max rel err ${fmt(t.maxRelError, 7)}, dmm fused ${fmt(t.dmmFusedMs, 3)} ms, ${label(LARGE[0])} fwd ${fmt(t.large1ForwardMs, 2)} ms, fwd+bwd ${fmt(t.large1FwdBwdMs, 2)} ms`,
      );
    }
    for (const b of ['b64', 'b1024']) {
      const gw = g.trainStepMs?.[b];
      const ww = w.trainStepMs?.[b];
      lines.push(
        `DMM hopper train step ${b}: webgpu ${fmt(gw, 1)} ms, wasm ${fmt(ww, 1)} ms, speed-up ${fmt(ww / gw, 1)}x${b === 'b1024' ? ' (target 5x)' : ''}`,
      );
    }
  } else {
    lines.push(
      `wasm: scan fwd+bwd ${label(DMM_SHAPE)} ${fmt(w.scanDmmFusedMs)} ms (loops alone ${fmt(w.cpuLoopsDmmMs)} ms); DMM train step b64 ${fmt(w.trainStepMs?.b64, 1)} ms, b1024 ${fmt(w.trainStepMs?.b1024, 1)} ms`,
    );
  }
  console.log(`\nJSON: ${file}\n${lines.join('\n')}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
