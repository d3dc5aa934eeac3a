/**
 * The CPU executor: the program's arena is one WebAssembly memory, and each launch runs the kernel's
 * JavaScript over a Float32Array view of it. No tfjs call inside a step.
 */
import { check } from '../../util/check';
import type { Executor } from '../executor';
import type { Program, Region } from '../program';

interface WasmMemoryCtor {
  new (d: { initial: number; maximum?: number }): { buffer: ArrayBuffer; grow(pages: number): number };
}
const WasmMemory = (globalThis as unknown as { WebAssembly: { Memory: WasmMemoryCtor } }).WebAssembly.Memory;

export class CpuExecutor implements Executor {
  readonly kind = 'cpu' as const;
  readonly memory?: { buffer: ArrayBuffer };
  /** The arena: float32 in a WebAssembly memory, or float64 (`precision: 'float64'`, the tests' reference). */
  readonly mem: Float32Array | Float64Array;
  readonly ctlWords: Uint32Array;
  private readonly steps: (() => void)[];

  constructor(
    readonly program: Program,
    opts: { precision?: 'float32' | 'float64' } = {},
  ) {
    const size = program.arena.size;
    if (opts.precision === 'float64') this.mem = new Float64Array(size);
    else {
      const bytes = size * 4;
      check(bytes < 2 ** 32, () => `Error in CpuExecutor: the arena must fit 4 GiB, got ${bytes} bytes.`);
      this.memory = new WasmMemory({ initial: Math.ceil(bytes / 65536) + 1 });
      this.mem = new Float32Array(this.memory.buffer, 0, size);
    }
    this.ctlWords = new Uint32Array(Math.max(1, program.ctl.size));
    this.steps = program.launches.map((l) => () => l.kernel.run(this.mem, this.ctlWords, l.spec));
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
