/**
 * The evaluator's model call on the fused engine: the action at the last timestep of each window (docs/spec.md §10),
 * for the B episodes still running. A forward-only program exists per batch size bucket (powers of two up to
 * the largest batch asked for, and that batch itself), built on first use; a call pads its windows to the
 * bucket (rows are independent, so the padding rows change nothing) and reads back the predictions.
 */
import type { DmmConfig, EnvDims } from '../models';
import { CpuExecutor } from './cpu/executor';
import type { Executor } from './executor';
import { buildDmmProgram } from './models/dmm';
import { writeWeights, type NamedArrays } from './weights';
import { WebGpuExecutor } from './webgpu/executor';

/** One batch of evaluation windows, as the evaluator holds them ([B, K, ·] row-major). */
export interface WindowBatch {
  states: Float32Array;
  actions: Float32Array;
  returnsToGo: Float32Array;
  mask: Float32Array;
}

export class EngineForward {
  private readonly programs = new Map<number, { ex: Executor; version: number }>();
  private weights?: NamedArrays;
  private version = 0;

  constructor(
    readonly config: Readonly<DmmConfig>,
    readonly dims: EnvDims,
    readonly executor: 'cpu' | 'webgpu',
  ) {}

  /** The weights (and frozen tensors) every later call uses. */
  setWeights(weights: NamedArrays): void {
    this.weights = weights;
    this.version++;
  }

  private bucket(B: number, largest: number): number {
    let b = 1;
    while (b < B) b *= 2;
    return Math.min(b, Math.max(B, largest));
  }

  private async executorFor(B: number): Promise<Executor> {
    let p = this.programs.get(B);
    if (!p) {
      const program = buildDmmProgram(this.config, this.dims, {
        batchSize: B,
        training: false,
        target: this.executor === 'webgpu' ? 'gpu' : 'cpu',
      });
      const ex = this.executor === 'webgpu' ? await WebGpuExecutor.create(program) : new CpuExecutor(program);
      p = { ex, version: -1 };
      this.programs.set(B, p);
    }
    if (p.version !== this.version) {
      if (!this.weights) throw new Error('Error in EngineForward: setWeights must come before the first call.');
      writeWeights(p.ex, this.weights);
      p.version = this.version;
    }
    return p.ex;
  }

  /**
   * Actions at the last timestep [B, a] for B windows of K steps. `largest`: the most rows this evaluation
   * will ask for at once (the exact-size program is built for it, so full calls are not padded).
   */
  async lastActions(w: WindowBatch, B: number, largest = B): Promise<Float32Array> {
    const K = this.config.contextLength;
    const { stateDim: s, actDim: a } = this.dims;
    const size = this.bucket(B, largest);
    const ex = await this.executorFor(size);
    const i = ex.program.inputs;
    const pad = (x: Float32Array, per: number) => {
      if (size === B) return x;
      const out = new Float32Array(size * per);
      out.set(x);
      return out;
    };
    ex.write(i.states, pad(w.states, K * s));
    ex.write(i.actions, pad(w.actions, K * a));
    ex.write(i.returnsToGo, pad(w.returnsToGo, K));
    ex.write(i.mask, pad(w.mask, K));
    ex.run();
    const pred = await ex.read(ex.program.outputs.pred); // [size, K, a]
    const out = new Float32Array(B * a);
    for (let b = 0; b < B; b++) out.set(pred.subarray((b * K + K - 1) * a, (b * K + K) * a), b * a);
    return out;
  }

  dispose(): void {
    for (const p of this.programs.values()) p.ex.dispose();
    this.programs.clear();
  }
}
