/**
 * The fused engine's program: one flat float32 arena (every weight, gradient, optimiser moment, saved
 * activation and the batch, each a named region at a fixed offset) and a fixed list of kernel launches
 * over it. A program is built once per model configuration and batch size (src/engine/models/*.ts) and
 * run by an executor (cpu/executor.ts: one WebAssembly memory; webgpu/executor.ts: one GPU buffer),
 * step after step, with only the batch and a few step scalars written in between.
 *
 * A second, small u32 arena (`ctl`) holds integer step data (dropout stream keys), so no integer ever
 * travels through a float (a GPU may canonicalise NaN bit patterns).
 */
import { check } from '../util/check';

/** What a region holds; the trainer and checkpoints find weights and moments by role. */
export type Role = 'param' | 'frozen' | 'grad' | 'partial' | 'adam' | 'act' | 'batch' | 'step' | 'scratch';

export interface Region {
  name: string;
  /** Offset and length in floats (or u32 words for `ctl` regions). */
  offset: number;
  size: number;
  role: Role;
  /** PyTorch shape, for parameters. */
  shape?: number[];
}

/**
 * Rows of a matrix in the arena: row r starts at off + ⌊r/g⌋·gs + (r mod g)·rs, and its columns are
 * contiguous. One descriptor covers a plain matrix (g = rows, rs = columns), the token rows of a padded
 * sequence layout (gs = padded sequence length · D), the s-token rows of a [B, 3K, D] stream (rs = 3D), and
 * the overlapping k-token windows of the DSM (rs = D while a row is k·D long): docs/spec.md §3.2.
 */
export interface Rows {
  off: number;
  g: number;
  gs: number;
  rs: number;
}

export function rowAddr(r: Rows, i: number): number {
  return r.off + Math.floor(i / r.g) * r.gs + (i % r.g) * r.rs;
}

/** A dense row-major [rows, cols] matrix at `off`. */
export function dense(off: number, rows: number, cols: number): Rows {
  return { off, g: Math.max(1, rows), gs: Math.max(1, rows) * cols, rs: cols };
}

/** `rows` shifted by `cols` columns (the column block of a wider matrix). */
export function shiftCols(r: Rows, cols: number): Rows {
  return { ...r, off: r.off + cols };
}

/** A float array the kernels compute on: Float32Array in the executors, Float64Array in the reference. */
export type FloatArray = Float32Array | Float64Array;

/** One GPU dispatch of a kernel: WGSL source with every size and offset baked in, and its grid. */
export interface GpuDispatch {
  code: string;
  workgroups: [number, number, number];
}

export interface Kernel<S> {
  readonly name: string;
  /** Plain JavaScript over the arena: the float64 reference on a Float64Array, a CPU fallback on float32. */
  run(mem: FloatArray, ctl: Uint32Array, spec: S): void;
  /**
   * The same launch as WGSL dispatches over `M` (the arena, f32) and `C` (ctl, u32). `runs`: how many packed
   * runs each dispatch will serve (pack.ts), so a kernel can choose larger tiles when the grid grows R-fold.
   */
  wgsl(spec: S, ctx?: { runs: number }): GpuDispatch[];
}

export interface Launch<S = unknown> {
  kernel: Kernel<S>;
  spec: S;
  /** Where in the step this launch sits, e.g. `fwd.layer1.dsm`. */
  label: string;
}

/** Allocates regions; the arena is zero at creation, so regions that are never written stay zero (padding rows). */
export class Arena {
  readonly regions = new Map<string, Region>();
  size = 0;

  constructor(readonly align = 4) {}

  alloc(name: string, size: number, role: Role, shape?: number[]): Region {
    check(!this.regions.has(name), () => `Error in Arena.alloc: region names must be unique, got a second '${name}'.`);
    check(
      Number.isInteger(size) && size >= 0,
      () => `Error in Arena.alloc: size must be a non-negative integer, got ${size}.`,
    );
    const offset = Math.ceil(this.size / this.align) * this.align;
    const r: Region = { name, offset, size, role, shape };
    this.regions.set(name, r);
    this.size = offset + size;
    return r;
  }

  get(name: string): Region {
    const r = this.regions.get(name);
    check(r !== undefined, () => `Error in Arena.get: no region '${name}'.`);
    return r!;
  }

  byRole(role: Role): Region[] {
    return [...this.regions.values()].filter((r) => r.role === role);
  }
}

/** Per-step scalars the executor writes before each step (floats, in the arena's `step` region). */
export const STEP_FIELDS = ['decay', 'stepSize', 'bc2Sqrt'] as const;
/** Per-step integers (ctl words): two dropout key words per site of `Program.dropoutSites`, in order. */
export const CTL_FIELDS = ['dropoutKey0', 'dropoutKey1'] as const;

export interface Program {
  /** Human-readable identity: model, config, batch size. */
  readonly key: string;
  readonly arena: Arena;
  readonly ctl: Arena;
  readonly launches: Launch[];
  /** Trainable parameters by PyTorch name, in the model's registration order (regions of role param). */
  readonly params: Map<string, Region>;
  /** Frozen tensors by name (shared-frozen DSM). */
  readonly frozen: Map<string, Region>;
  /** The batch inputs the executor writes each step. */
  readonly inputs: Record<string, Region>;
  /** Integer batch inputs, in ctl words: `timesteps` [B·K] where the model embeds them. */
  readonly ctlInputs: Record<string, Region>;
  /**
   * The dropout sites (the tfjs path's site labels: 'embd', 'mlp.0', …) whose stream keys each step writes,
   * two ctl words each in region `dropoutKeys`.
   */
  readonly dropoutSites: readonly string[];
  /** Named results: the predicted actions, the loss, the gradient norm. */
  readonly outputs: Record<string, Region>;
  /** Whether the program takes an optimiser step (training) or only runs the forward pass. */
  readonly training: boolean;
  /** AdamW's constants (training programs): the per-step scalars are computed from them. */
  readonly adam?: { beta1: number; beta2: number; weightDecay: number };
}
