/**
 * The CPU executor: the program's arena is one WebAssembly memory (with the executor's scratch after it).
 * Matrix products run as the kit's WebAssembly SIMD kernel over that memory (cpu/gemm.ts), the selective scan
 * as the kit's SIMD scan (cpu/scan.ts), and every other launch as its kernel's JavaScript over a Float32Array
 * view of the same memory. No tfjs call inside a step. With `precision: 'float64'` every launch runs its
 * JavaScript on a Float64Array instead: the float64 reference the tests check the WGSL kernels against.
 */
import { check } from '../../util/check';
import type { Executor } from '../executor';
import type { GemmSpec } from '../kernels/gemm';
import type { ScanBackwardSpec, ScanSpec } from '../kernels/scan';
import type { Launch, Program, Region } from '../program';
import { gemmFastPath, gemmKernels, gemmScratch } from './gemm';
import { scanBackwardFastPath, scanForwardFastPath } from './scan';

interface WasmMemoryCtor {
  new (d: { initial: number; maximum?: number }): { buffer: ArrayBuffer; grow(pages: number): number };
}
const WasmMemory = (globalThis as unknown as { WebAssembly: { Memory: WasmMemoryCtor } }).WebAssembly.Memory;

export interface CpuExecutorOptions {
  precision?: 'float32' | 'float64';
  /** Use the SIMD kernels where they apply (default true); false runs every launch's JavaScript. */
  simd?: boolean;
}

export class CpuExecutor implements Executor {
  readonly kind = 'cpu' as const;
  readonly memory?: { buffer: ArrayBuffer };
  /** The arena (and scratch): float32 in a WebAssembly memory, or float64 for the reference. */
  readonly mem: Float32Array | Float64Array;
  readonly ctlWords: Uint32Array;
  /** How many launches run a SIMD kernel. */
  readonly simdLaunches: number;
  private readonly steps: (() => void)[];

  constructor(
    readonly program: Program,
    opts: CpuExecutorOptions = {},
  ) {
    const size = program.arena.size;
    const simd = opts.precision !== 'float64' && opts.simd !== false;
    const scratch = simd
      ? program.launches.reduce((n, l) => n + (l.kernel.name === 'gemm' ? gemmScratch(l.spec as GemmSpec) : 0), 0)
      : 0;
    if (opts.precision === 'float64') this.mem = new Float64Array(size);
    else {
      const bytes = (size + scratch) * 4;
      check(bytes < 2 ** 32, () => `Error in CpuExecutor: the arena must fit 4 GiB, got ${bytes} bytes.`);
      this.memory = new WasmMemory({ initial: Math.ceil(bytes / 65536) + 1 });
      this.mem = new Float32Array(this.memory.buffer, 0, size + scratch);
    }
    this.ctlWords = new Uint32Array(Math.max(1, program.ctl.size));
    const gemm = simd ? gemmKernels(this.memory!) : null;
    let top = Math.ceil(size / 4) * 4;
    let fast = 0;
    this.steps = program.launches.map((l) => {
      const f = simd ? this.fastPath(l, gemm, top) : null;
      if (l.kernel.name === 'gemm' && simd) top += gemmScratch(l.spec as GemmSpec);
      if (f) fast++;
      return f ?? (() => l.kernel.run(this.mem, this.ctlWords, l.spec));
    });
    this.simdLaunches = fast;
  }

  private fastPath(l: Launch, gemm: ReturnType<typeof gemmKernels>, scratch: number): (() => void) | null {
    const mem = this.mem as Float32Array;
    switch (l.kernel.name) {
      case 'gemm':
        return gemm ? gemmFastPath(gemm, mem, l.spec as GemmSpec, scratch) : null;
      case 'scanForward':
        return scanForwardFastPath(mem, l.spec as ScanSpec);
      case 'scanBackward':
        return scanBackwardFastPath(mem, l.spec as ScanBackwardSpec);
      default:
        return null;
    }
  }

  write(region: Region, data: ArrayLike<number>, ctl = false): void {
    check(
      data.length === region.size,
      () => `Error in CpuExecutor.write: '${region.name}' takes ${region.size} values, got ${data.length}.`,
    );
    (ctl ? this.ctlWords : this.mem).set(data, region.offset);
  }

  run(): void {
    for (const s of this.steps) s();
  }

  /** Runs launch i alone (tests and profiles). */
  runLaunch(i: number): void {
    this.steps[i]();
  }

  async read(region: Region): Promise<Float32Array> {
    return Float32Array.from(this.mem.subarray(region.offset, region.offset + region.size));
  }

  async finish(): Promise<void> {}

  dispose(): void {}
}
