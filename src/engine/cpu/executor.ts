/**
 * The CPU executor: the program's arena is one WebAssembly memory (with the executor's scratch after it).
 * Launches run as the kit's WebAssembly SIMD kernels over that memory where one exists: the blocked matrix
 * product and its epilogues (cpu/gemm.ts, cpu/epilogue.ts), DT's attention (cpu/attention.ts), LayerNorm
 * (cpu/layer-norm.ts), dropout, AdamW (cpu/optimizer.ts) and the selective scan (cpu/scan.ts); every other
 * launch (conv, embedding, loss, slice sums) as its kernel's JavaScript over a Float32Array view of the same
 * memory. Address tables are built once, when the executor is. No tfjs call inside a step. With `precision: 'float64'` every launch runs its
 * JavaScript on a Float64Array instead: the float64 reference the tests check the WGSL kernels against.
 */
import { check } from '../../util/check';
import type { Executor } from '../executor';
import type { GemmSpec } from '../kernels/gemm';
import type { AdamWSpec } from '../kernels/optimizer';
import type { LayerNormBackwardSpec, LayerNormSpec } from '../kernels/layer-norm';
import type { DropoutMulSpec } from '../kernels/dropout';
import type { AttentionBackwardSpec, AttentionSpec } from '../kernels/attention';
import type { ScanBackwardSpec, ScanSpec } from '../kernels/scan';
import type { Launch, Program, Region } from '../program';
import { packing, type Packing } from '../pack';
import { gemmApplies, gemmFastPath, gemmKernels, gemmPackScratch, gemmScratch, smallGemmFastPath } from './gemm';
import { scanBackwardFastPath, scanForwardFastPath, scanScratch, scanSharedScratch } from './scan';
import { adamwFastPath } from './optimizer';
import { layerNormApplies, layerNormBackwardFastPath, layerNormFastPath, layerNormScratch } from './layer-norm';
import { dropoutMulFastPath, dropoutMulScratch } from './epilogue';
import {
  attentionApplies,
  attentionBackwardFastPath,
  attentionForwardFastPath,
  attentionPackScratch,
  attentionScratch,
} from './attention';

interface WasmMemoryCtor {
  new (d: { initial: number; maximum?: number }): { buffer: ArrayBuffer; grow(pages: number): number };
}
const WasmMemory = (globalThis as unknown as { WebAssembly: { Memory: WasmMemoryCtor } }).WebAssembly.Memory;

export interface CpuExecutorOptions {
  precision?: 'float32' | 'float64';
  /** Use the SIMD kernels where they apply (default true); false runs every launch's JavaScript. */
  simd?: boolean;
  /** Packed runs (pack.ts); default 1. */
  runs?: number;
}

/** Executor scratch a launch's SIMD runner needs of its own (its address tables, its intermediate rows). */
function ownScratch(l: Launch): number {
  if (l.kernel.name === 'gemm') return gemmScratch(l.spec as GemmSpec);
  if (l.kernel.name === 'dropoutMul') return dropoutMulScratch(l.spec as DropoutMulSpec);
  if (l.kernel.name === 'layerNorm' || l.kernel.name === 'layerNormBackward')
    return layerNormScratch(l.spec as LayerNormSpec);
  if (l.kernel.name === 'scanForward' || l.kernel.name === 'scanBackward') return scanScratch(l.spec as ScanSpec);
  if (l.kernel.name === 'attention' || l.kernel.name === 'attentionBackward') {
    const s = l.spec as AttentionSpec;
    return attentionApplies(s) ? attentionScratch(s) : 0;
  }
  return 0;
}

/** Floats of the packing buffers a launch's products need (the buffers are shared). */
function packScratch(l: Launch): number {
  if (l.kernel.name === 'gemm') return gemmPackScratch(l.spec as GemmSpec);
  if (l.kernel.name === 'scanForward' || l.kernel.name === 'scanBackward') return scanSharedScratch(l.spec as ScanSpec);
  if (l.kernel.name === 'attention' || l.kernel.name === 'attentionBackward') {
    const s = l.spec as AttentionSpec;
    return attentionApplies(s) ? attentionPackScratch(s) : 0;
  }
  return 0;
}

export class CpuExecutor implements Executor {
  readonly kind = 'cpu' as const;
  readonly memory?: { buffer: ArrayBuffer };
  /** The arena (and scratch): float32 in a WebAssembly memory, or float64 for the reference. */
  readonly mem: Float32Array | Float64Array;
  readonly ctlWords: Uint32Array;
  readonly packing: Packing;
  /** How many launches run a SIMD kernel. */
  readonly simdLaunches: number;
  private readonly steps: (() => void)[];

  constructor(
    readonly program: Program,
    opts: CpuExecutorOptions = {},
  ) {
    const p = (this.packing = packing(program, opts.runs));
    const size = p.runs * p.stride;
    const simd = opts.precision !== 'float64' && opts.simd !== false;
    const perRun = simd ? program.launches.reduce((n, l) => n + ownScratch(l), 0) : 0;
    // One set of packing buffers serves every product (launches and packed runs run one after another).
    const pack = simd ? Math.max(0, ...program.launches.map(packScratch)) : 0;
    const scratch = p.runs * perRun + pack;
    if (opts.precision === 'float64') this.mem = new Float64Array(size);
    else {
      const bytes = (size + scratch) * 4;
      check(bytes < 2 ** 32, () => `Error in CpuExecutor: the arena must fit 4 GiB, got ${bytes} bytes.`);
      this.memory = new WasmMemory({ initial: Math.ceil(bytes / 65536) + 1 });
      this.mem = new Float32Array(this.memory.buffer, 0, size + scratch);
    }
    this.ctlWords = new Uint32Array(p.runs * p.ctlStride);
    const gemm = simd ? gemmKernels(this.memory!) : null;
    let top = size + pack;
    let fast = 0;
    this.steps = program.launches.map((l) => {
      const runners = Array.from({ length: p.runs }, (_, r) => {
        const ctl = this.ctlWords.subarray(r * p.ctlStride, (r + 1) * p.ctlStride);
        const f = simd ? this.fastPath(l, gemm, top, size, r * p.stride, ctl) : null;
        if (simd) top += ownScratch(l);
        if (f) return f;
        const mem = this.mem.subarray(r * p.stride, (r + 1) * p.stride);
        return () => l.kernel.run(mem, ctl, l.spec);
      });
      if (simd && this.fastPath(l, null, 0, 0, 0) !== undefined) fast++;
      return p.runs === 1 ? runners[0] : () => runners.forEach((f) => f());
    });
    this.simdLaunches = fast;
  }

  /**
   * The SIMD runner of launch `l` for the packed run whose arena starts at `base` (null when its kernel or
   * shape has none): `scratch` its own tables, `pack` the shared packing buffers (float indices). With `gemm`
   * null it only says whether one would exist (undefined: none).
   */
  private fastPath(
    l: Launch,
    gemm: ReturnType<typeof gemmKernels>,
    scratch: number,
    pack: number,
    base: number,
    ctl?: Uint32Array,
  ): (() => void) | null | undefined {
    const mem = this.mem as Float32Array;
    const view = () => mem.subarray(base, base + this.packing.stride);
    switch (l.kernel.name) {
      case 'gemm': {
        const spec = l.spec as GemmSpec;
        if (!gemmApplies(spec)) return smallGemmFastPath(view(), ctl ?? new Uint32Array(0), spec);
        return gemm ? gemmFastPath(gemm, mem, spec, scratch, pack, base, ctl) : null;
      }
      case 'attention':
      case 'attentionBackward': {
        const spec = l.spec as AttentionSpec & AttentionBackwardSpec;
        if (!attentionApplies(spec)) return undefined;
        if (!gemm) return null;
        const run = l.kernel.name === 'attention' ? attentionForwardFastPath : attentionBackwardFastPath;
        return run(gemm, mem, spec, scratch, pack, base, ctl!);
      }
      case 'dropoutMul':
        if (!gemm) return null; // a probe: building it writes its tables
        return dropoutMulFastPath(this.memory!, mem, l.spec as DropoutMulSpec, scratch, base, ctl!);
      case 'layerNorm':
      case 'layerNormBackward': {
        const spec = l.spec as LayerNormSpec & LayerNormBackwardSpec;
        if (!layerNormApplies(spec)) return undefined;
        if (!gemm) return null; // a probe: building it writes its tables
        const run = l.kernel.name === 'layerNorm' ? layerNormFastPath : layerNormBackwardFastPath;
        return run(this.memory!, mem, spec, scratch, base, ctl!);
      }
      case 'adamw':
        return adamwFastPath(this.memory!, mem, l.spec as AdamWSpec, base) ?? undefined;
      case 'scanForward':
      case 'scanBackward': {
        const run = l.kernel.name === 'scanForward' ? scanForwardFastPath : scanBackwardFastPath;
        const full = gemm ? mem : undefined; // a probe builds no δ product (it would write its tables)
        return run(view(), l.spec as ScanBackwardSpec, gemm, full, scratch, pack, base) ?? undefined;
      }
      default:
        return undefined;
    }
  }

  write(region: Region, data: ArrayLike<number>, ctl = false, run = 0): void {
    check(
      data.length === region.size,
      () => `Error in CpuExecutor.write: '${region.name}' takes ${region.size} values, got ${data.length}.`,
    );
    if (ctl) this.ctlWords.set(data, region.offset + run * this.packing.ctlStride);
    else this.mem.set(data, region.offset + run * this.packing.stride);
  }

  run(): void {
    for (const s of this.steps) s();
  }

  /**
   * Runs one step, timing each launch in place: ms per launch kind (kernel name, and `gemm` split into the
   * SIMD products and the rest), summed over the step's launches. For profiles, not for training loops.
   */
  runProfiled(): Map<string, number> {
    const ms = new Map<string, number>();
    this.steps.forEach((step, i) => {
      const l = this.program.launches[i];
      const t0 = performance.now();
      step();
      const kind = l.kernel.name === 'gemm' && !gemmApplies(l.spec as GemmSpec) ? 'gemm (JS, N < 4)' : l.kernel.name;
      ms.set(kind, (ms.get(kind) ?? 0) + performance.now() - t0);
    });
    return ms;
  }

  /** Runs launch i alone (tests and profiles). */
  runLaunch(i: number): void {
    this.steps[i]();
  }

  async read(region: Region, run = 0): Promise<Float32Array> {
    const o = region.offset + run * this.packing.stride;
    return Float32Array.from(this.mem.subarray(o, o + region.size));
  }

  async readRuns(region: Region, runs: readonly number[]): Promise<Float32Array[]> {
    return Promise.all(runs.map((r) => this.read(region, r)));
  }

  async finish(): Promise<void> {}

  dispose(): void {}
}
