/**
 * What both executors offer (cpu/executor.ts, webgpu/executor.ts), and the per-step scalars they write: the dropout
 * stream keys of step k (the tfjs path's `deriveSeed(seed, 'dropout', k)`, each of the program's sites) and AdamW's
 * decay, bias-corrected step size and √(1 − β₂ᵏ) at the warm-up learning rate (docs/spec.md §9), computed in float64 as
 * PyTorch's Python floats are.
 */
import { deriveSeed, dropoutStream } from '../util/rng';
import type { Packing } from './pack';
import type { Program, Region } from './program';

export interface Executor {
  readonly program: Program;
  readonly kind: 'cpu' | 'webgpu';
  /** Packed runs (pack.ts): every launch processes this many copies of the program's arena. */
  readonly packing: Packing;
  /** Copies `data` into a region of packed run `run` (floats; ctl regions take u32 words). */
  write(region: Region, data: ArrayLike<number>, ctl?: boolean, run?: number): void;
  /** Runs every launch once, in order (for every packed run). The GPU executor only submits. */
  run(): void;
  /** A region's current contents in packed run `run`. */
  read(region: Region, run?: number): Promise<Float32Array>;
  /** A region of each of `runs`, in one read-back (the packed evaluator reads every run's actions at once). */
  readRuns(region: Region, runs: readonly number[]): Promise<Float32Array[]>;
  /** Waits until every submitted run has finished (a no-op on the CPU). */
  finish(): Promise<void>;
  dispose(): void;
}

/** The scalars of optimiser step k (1-based) written before it runs. */
export interface StepScalars {
  floats: Float32Array; // decay, stepSize, bc2Sqrt
  keys: Uint32Array; // the dropout streams of the program's sites, two words each
}

export function stepScalars(
  program: Program,
  seed: number,
  k: number,
  learningRate: number,
  weightDecay = program.adam?.weightDecay ?? 0,
): StepScalars {
  const adam = { beta1: 0.9, beta2: 0.999, ...program.adam, weightDecay };
  const stepSize = learningRate / (1 - Math.pow(adam.beta1, k));
  const bc2Sqrt = Math.sqrt(1 - Math.pow(adam.beta2, k));
  const decay = 1 - learningRate * adam.weightDecay;
  const dropoutSeed = deriveSeed(seed, 'dropout', k);
  const keys = Uint32Array.from(program.dropoutSites.flatMap((site) => dropoutStream(dropoutSeed, site)));
  return { floats: Float32Array.of(decay, stepSize, bc2Sqrt), keys };
}

/** Writes step k's scalars (training programs) for packed run `run`. */
export function writeStep(ex: Executor, s: StepScalars, run = 0): void {
  ex.write(ex.program.arena.get('step'), s.floats, false, run);
  ex.write(ex.program.ctl.get('dropoutKeys'), s.keys, true, run);
}
