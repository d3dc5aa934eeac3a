/**
 * The evaluator's model call on the fused engine: the action at the last timestep of each window (docs/spec.md §10),
 * for the B episodes still running. A forward-only program exists per batch size bucket (powers of two up to
 * the largest batch asked for, and that batch itself), built on first use; a call pads its windows to the
 * bucket (rows are independent, so the padding rows change nothing) and reads back the predictions.
 *
 * With `runs` > 1 it serves R packed runs' evaluations at once (evaluation at GPU speed): each run's
 * evaluator calls `lastActions(…, run)` as usual, and the calls wait until every run still evaluating has asked;
 * then one packed program (pack.ts) computes all of them in one dispatch sequence and one read-back. Runs the
 * GPU binding cannot hold in one program are split over several. A run's answer is the one it gets alone.
 */
import type { EnvDims } from '../models';
import { check } from '../util/check';
import { CpuExecutor } from './cpu/executor';
import type { Executor } from './executor';
import { asEngineModel, buildProgram, type EngineModel, type EngineModelLike } from './models';
import { maxPackedRuns } from './pack';
import type { Program } from './program';
import { writeWeights, type NamedArrays } from './weights';
import { GPU_BINDING_BYTES, WebGpuExecutor } from './webgpu/executor';

/** One batch of evaluation windows, as the evaluator holds them ([B, K, ·] row-major). */
export interface WindowBatch {
  states: Float32Array;
  actions: Float32Array;
  returnsToGo: Float32Array;
  mask: Float32Array;
  /** [B, K] (the models with a timestep embedding read them). */
  timesteps?: Int32Array;
}

interface Call {
  w: WindowBatch;
  B: number;
  size: number;
  resolve(actions: Float32Array): void;
  reject(err: unknown): void;
}

/** The executors of one batch size: the i-th holds runs [i·perProgram, (i+1)·perProgram). */
interface Bucket {
  perProgram: number;
  executors: Executor[];
  /** The weights version each run's copy holds. */
  versions: number[];
}

export class EngineForward {
  private readonly buckets = new Map<number, Bucket>();
  private readonly weights: (NamedArrays | undefined)[];
  private readonly versions: number[];
  private readonly calls = new Map<number, Call>();
  private readonly open: Set<number>;
  /** Packed model calls made and their milliseconds (write, run, read back), for progress lines. */
  readonly stats = { calls: 0, ms: 0 };

  readonly model: EngineModel;

  constructor(
    model: EngineModelLike,
    readonly dims: EnvDims,
    readonly executor: 'cpu' | 'webgpu',
    readonly runs = 1,
    /** Most runs per packed program (default: what one GPU binding holds; all on the CPU). Tests split with it. */
    private readonly runsPerProgram?: number,
  ) {
    check(Number.isInteger(runs) && runs >= 1, () => `Error in EngineForward: runs must be ≥ 1, got ${runs}.`);
    this.model = asEngineModel(model);
    this.weights = Array.from({ length: runs }, () => undefined);
    this.versions = Array.from({ length: runs }, () => 0);
    this.open = new Set(this.weights.keys());
  }

  /** Run `run`'s weights (and frozen tensors), used by its later calls. */
  setWeights(weights: NamedArrays, run = 0): void {
    this.weights[run] = weights;
    this.versions[run]++;
  }

  /** Every run takes part in the next calls again (the start of an evaluation round). */
  openAll(): void {
    for (let r = 0; r < this.runs; r++) this.open.add(r);
  }

  /** Run `run` asks nothing more this round (its evaluation ended): the others' calls stop waiting for it. */
  close(run: number): void {
    this.open.delete(run);
    this.flushWhenComplete();
  }

  private bucket(B: number, largest: number): number {
    let b = 1;
    while (b < B) b *= 2;
    return Math.min(b, Math.max(B, largest));
  }

  private program(B: number): Program {
    return buildProgram(this.model, this.dims, {
      batchSize: B,
      training: false,
      target: this.executor === 'webgpu' ? 'gpu' : 'cpu',
    });
  }

  private async bucketFor(size: number): Promise<Bucket> {
    let b = this.buckets.get(size);
    if (!b) {
      const first = this.program(size);
      // One storage binding holds every run of a program; more runs than fit go to further programs.
      const fit = this.executor === 'webgpu' ? Math.max(1, maxPackedRuns(first, GPU_BINDING_BYTES)) : this.runs;
      const perProgram = Math.min(this.runs, this.runsPerProgram ?? fit);
      const executors: Executor[] = [];
      for (let r0 = 0; r0 < this.runs; r0 += perProgram) {
        const n = Math.min(perProgram, this.runs - r0);
        const program = r0 === 0 ? first : this.program(size);
        executors.push(
          this.executor === 'webgpu'
            ? await WebGpuExecutor.create(program, undefined, n)
            : new CpuExecutor(program, { runs: n }),
        );
      }
      b = { perProgram, executors, versions: this.versions.map(() => -1) };
      this.buckets.set(size, b);
    }
    return b;
  }

  /**
   * Actions at the last timestep [B, a] for B windows of K steps of run `run`. `largest`: the most rows this
   * evaluation will ask for at once (the exact-size program is built for it, so full calls are not padded).
   */
  lastActions(w: WindowBatch, B: number, largest = B, run = 0): Promise<Float32Array> {
    check(
      !this.calls.has(run),
      () => `Error in EngineForward.lastActions: run ${run} must wait for its previous call, got a second one.`,
    );
    this.open.add(run); // a closed run's next call (its next evaluation) opens it again
    return new Promise((resolve, reject) => {
      this.calls.set(run, { w, B, size: this.bucket(B, largest), resolve, reject });
      this.flushWhenComplete();
    });
  }

  private flushWhenComplete(): void {
    if (this.calls.size > 0 && this.calls.size >= this.open.size) {
      const calls = [...this.calls];
      this.calls.clear();
      this.compute(calls).catch((err) => calls.forEach(([, c]) => c.reject(err)));
    }
  }

  /** Every waiting run's call at the largest of their buckets (padding rows change nothing). */
  private async compute(calls: [number, Call][]): Promise<void> {
    const t0 = performance.now();
    const K = this.model.config.contextLength;
    const { stateDim: s, actDim: a } = this.dims;
    const size = Math.max(...calls.map(([, c]) => c.size));
    const b = await this.bucketFor(size);
    const pad = (x: Float32Array, per: number) => {
      if (x.length === size * per) return x;
      const out = new Float32Array(size * per);
      out.set(x);
      return out;
    };
    const byProgram = new Map<number, [number, Call][]>();
    for (const [run, c] of calls) {
      const g = Math.floor(run / b.perProgram);
      byProgram.set(g, [...(byProgram.get(g) ?? []), [run, c]]);
      const ex = b.executors[g];
      const local = run - g * b.perProgram;
      if (b.versions[run] !== this.versions[run]) {
        const weights = this.weights[run];
        if (!weights) throw new Error('Error in EngineForward: setWeights must come before the first call.');
        writeWeights(ex, weights, local);
        b.versions[run] = this.versions[run];
      }
      const i = ex.program.inputs;
      ex.write(i.states, pad(c.w.states, K * s), false, local);
      ex.write(i.actions, pad(c.w.actions, K * a), false, local);
      ex.write(i.returnsToGo, pad(c.w.returnsToGo, K), false, local);
      ex.write(i.mask, pad(c.w.mask, K), false, local);
      const ts = ex.program.ctlInputs.timesteps;
      if (ts) {
        check(
          c.w.timesteps !== undefined,
          () => `Error in EngineForward: ${this.model.name} embeds timesteps, so windows must carry them, got none.`,
        );
        const t = new Int32Array(size * K);
        t.set(c.w.timesteps!);
        ex.write(ts, t, true, local);
      }
    }
    for (const g of byProgram.keys()) b.executors[g].run();
    await Promise.all(
      [...byProgram].map(async ([g, group]) => {
        const ex = b.executors[g];
        const preds = await ex.readRuns(
          ex.program.outputs.pred, // [size, K, a]
          group.map(([run]) => run - g * b.perProgram),
        );
        group.forEach(([, c], j) => {
          const out = new Float32Array(c.B * a);
          for (let r = 0; r < c.B; r++) out.set(preds[j].subarray((r * K + K - 1) * a, (r * K + K) * a), r * a);
          c.resolve(out);
        });
      }),
    );
    this.stats.calls++;
    this.stats.ms += performance.now() - t0;
  }

  dispose(): void {
    for (const b of this.buckets.values()) for (const ex of b.executors) ex.dispose();
    this.buckets.clear();
  }
}
