/**
 * What both executors offer (cpu/executor.ts, webgpu/executor.ts), and the per-step scalars they write:
 * the dropout stream keys of step k (the tfjs path's `deriveSeed(seed, 'dropout', k)`, site 'embd') and
 * AdamW's decay, bias-corrected step size and √(1 − β₂ᵏ) at the warm-up learning rate (docs/spec.md §9), computed
 * in float64 as PyTorch's Python floats are.
 */
import { deriveSeed, dropoutStream } from '../util/rng';
import type { Program, Region } from './program';

export interface Executor {
  readonly program: Program;
  readonly kind: 'cpu' | 'webgpu';
  /** Copies `data` into a region (floats; ctl regions take u32 words). */
  write(region: Region, data: ArrayLike<number>, ctl?: boolean): void;
  /** Runs every launch once, in order. The GPU executor only submits; results arrive on a later read. */
  run(): void;
  /** A region's current contents. */
  read(region: Region): Promise<Float32Array>;
  /** Waits until every submitted run has finished (a no-op on the CPU). */
  finish(): Promise<void>;
  dispose(): void;
}

/** The scalars of optimiser step k (1-based) written before it runs. */
export interface StepScalars {
  floats: Float32Array; // decay, stepSize, bc2Sqrt
  keys: Uint32Array; // dropout stream of site 'embd'
}

export function stepScalars(program: Program, seed: number, k: number, learningRate: number): StepScalars {
  const adam = program.adam ?? { beta1: 0.9, beta2: 0.999, weightDecay: 0 };
  const stepSize = learningRate / (1 - Math.pow(adam.beta1, k));
  const bc2Sqrt = Math.sqrt(1 - Math.pow(adam.beta2, k));
  const decay = 1 - learningRate * adam.weightDecay;
  const [k0, k1] = dropoutStream(deriveSeed(seed, 'dropout', k), 'embd');
  return { floats: Float32Array.of(decay, stepSize, bc2Sqrt), keys: Uint32Array.of(k0, k1) };
}

/** Writes step k's scalars (training programs). */
export function writeStep(ex: Executor, s: StepScalars): void {
  ex.write(ex.program.arena.get('step'), s.floats);
  ex.write(ex.program.ctl.get('dropoutKeys'), s.keys, true);
}
