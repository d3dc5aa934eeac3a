/**
 * What every model's engine program is built with: the arena and its launch list, the parameters (declared in
 * the tfjs model's registration order, then laid out as one flat block each of θ, g, m, v), the batch and step
 * regions, the dropout sites' key words, partial gradient slices, and the two launches every layer repeats
 * (LayerNorm forward and backward). models/blocks.ts builds the model pieces on it; models/dmm.ts and
 * models/decision-mamba.ts assemble them.
 *
 * Token rows: t = b·L + l over the L = 3K tokens (R_t, s_t, a_t) of each of the B windows.
 */
import type { EnvDims } from '../../models/sequence-model';
import { Arena, dense, type Launch, type Program, type Region, type Rows } from '../program';
import type { DropoutSpec } from '../kernels/dropout';
import { gemm, gpuSplits, type GemmSpec } from '../kernels/gemm';
import { layerNorm, layerNormBackward } from '../kernels/layer-norm';

export interface ProgramOptions {
  batchSize: number;
  /** A training step (forward, backward, AdamW) or the forward pass only (evaluation). */
  training: boolean;
  /** Which executor the program is laid out for: the GPU gets reduction slices that fill it. */
  target: 'cpu' | 'gpu';
  /** AdamW and clip settings (docs/spec.md §9). */
  weightDecay?: number;
  gradClip?: number;
}

/** Saved LayerNorm statistics of `rows` rows. */
export interface NormStats {
  mean: Region;
  rstd: Region;
}

const EPS = 1e-5;

export class ProgramBuilder {
  readonly arena = new Arena();
  readonly ctl = new Arena(1);
  readonly launches: Launch[] = [];
  readonly B: number;
  readonly K: number;
  readonly L: number;
  /** Token rows B·L, and timestep rows B·K. */
  readonly T: number;
  readonly BK: number;
  readonly S: number;
  readonly A: number;
  readonly gpu: boolean;
  readonly training: boolean;
  readonly params = new Map<string, Region>();
  readonly frozen = new Map<string, Region>();
  /** Offsets inside the flat parameter block. */
  readonly rel = new Map<string, number>();
  readonly shapes: [string, number[]][] = [];
  readonly untrained = new Set<string>();
  /** Floats of θ the optimiser updates: the trained parameters, first in θ. */
  trainedTotal = 0;
  readonly partials = new Map<string, { region: Region; slices: number; next: number }>();
  total = 0;
  theta?: Region;
  grad?: Region;
  mom1?: Region;
  mom2?: Region;
  inputs!: Record<string, Region>;
  ctlInputs: Record<string, Region> = {};
  step?: Region;
  private sites: string[] = [];
  private keys?: Region;
  private readonly memo = new Map<string, Region>();

  constructor(
    readonly D: number,
    K: number,
    dims: EnvDims,
    readonly opts: ProgramOptions,
  ) {
    this.B = opts.batchSize;
    this.K = K;
    this.L = 3 * K;
    this.T = this.B * this.L;
    this.BK = this.B * K;
    this.S = dims.stateDim;
    this.A = dims.actDim;
    this.gpu = opts.target === 'gpu';
    this.training = opts.training;
  }

  push<Spec>(kernel: { name: string }, spec: Spec, label: string): void {
    this.launches.push({ kernel: kernel as Launch['kernel'], spec, label });
  }

  /**
   * Declares a parameter (call in the model's registration order, before `layout`). `trained: false`: one the
   * loss never reaches (DT's wte and its state and return heads): it has no gradient, so, as in PyTorch, AdamW
   * leaves it alone (no decay, no moments) and the clip norm leaves it out. Such parameters sit after the
   * trained ones in θ, and the optimiser runs over the trained prefix only.
   */
  param(name: string, shape: number[], trained = true): void {
    this.shapes.push([name, shape]);
    if (!trained) this.untrained.add(name);
  }

  /** Declares a LayerNorm's `name`.weight and `name`.bias [D]. */
  layerNormParams(name: string): void {
    this.param(`${name}.weight`, [this.D]);
    this.param(`${name}.bias`, [this.D]);
  }

  /** Lays out θ (and g, m, v when training), then the batch, the step scalars and the dropout sites' keys. */
  layout(dropoutSites: string[], timesteps: boolean): void {
    const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
    this.total = this.shapes.reduce((s, [, sh]) => s + sizeOf(sh), 0);
    const block = (name: string, role: Region['role']) => this.arena.alloc(name, this.total, role);
    this.theta = block('params', 'param');
    this.trainedTotal = this.shapes.reduce((s, [n, sh]) => s + (this.untrained.has(n) ? 0 : sizeOf(sh)), 0);
    let trained = 0;
    let untrained = this.trainedTotal;
    for (const [name, shape] of this.shapes) {
      const size = sizeOf(shape);
      const o = this.untrained.has(name) ? (untrained += size) - size : (trained += size) - size;
      this.params.set(name, { name, offset: this.theta.offset + o, size, role: 'param', shape });
      this.rel.set(name, o);
    }
    if (this.training) {
      this.grad = block('grads', 'grad');
      this.mom1 = block('adam.m', 'adam');
      this.mom2 = block('adam.v', 'adam');
    }
    // The batch and the step scalars are adjacent: the session writes them in one span (session.ts).
    const { BK, S, A } = this;
    this.inputs = {
      states: this.arena.alloc('batch.states', BK * S, 'batch'),
      actions: this.arena.alloc('batch.actions', BK * A, 'batch'),
      returnsToGo: this.arena.alloc('batch.returnsToGo', BK, 'batch'),
      mask: this.arena.alloc('batch.mask', BK, 'batch'),
    };
    this.step = this.arena.alloc('step', 3, 'step');
    this.sites = dropoutSites;
    this.keys = this.ctl.alloc('dropoutKeys', 2 * dropoutSites.length, 'step');
    if (timesteps) this.ctlInputs = { timesteps: this.ctl.alloc('batch.timesteps', BK, 'batch') };
  }

  /** The dropout of `site` with rate p in a training program (undefined at evaluation or p = 0). */
  dropout(site: string, p: number): DropoutSpec | undefined {
    const i = this.sites.indexOf(site);
    if (i < 0) throw new Error(`Error in ProgramBuilder.dropout: site '${site}' must be declared in layout().`);
    return this.training && p > 0 ? { p, key: this.keys!.offset + 2 * i } : undefined;
  }

  W(name: string): number {
    const p = this.params.get(name);
    if (!p) throw new Error(`Error in ProgramBuilder.W: no parameter '${name}'.`);
    return p.offset;
  }

  /** A frozen tensor (not trained, not in θ). */
  frozenTensor(name: string, shape: number[]): Region {
    const r = {
      ...this.arena.alloc(
        name,
        shape.reduce((a, b) => a * b, 1),
        'frozen',
        shape,
      ),
      name,
    };
    this.frozen.set(name, r);
    return r;
  }

  act(name: string, size: number): Region {
    return this.arena.alloc(name, size, 'act');
  }

  /** An activation buffer shared by every layer (backward scratch): allocated on first use. */
  shared(name: string, size: number): Region {
    let r = this.memo.get(name);
    if (!r) this.memo.set(name, (r = this.act(name, size)));
    return r;
  }

  /** The T token rows of a [T, cols] buffer. */
  tok(r: Region, cols: number): Rows {
    return dense(r.offset, this.T, cols);
  }

  /** The token rows of type `type` (R, s or a: 0, 1, 2) of a [T, cols] buffer: B·K rows. */
  typeRows(r: Region, cols: number, type: number): Rows {
    return { off: r.offset + type * cols, g: this.K, gs: this.L * cols, rs: 3 * cols };
  }

  stats(name: string, rows: number): NormStats {
    return { mean: this.act(`${name}.mean`, rows), rstd: this.act(`${name}.rstd`, rows) };
  }

  /**
   * Partial gradient slices: parameter `name`'s gradient is the sum of its `slices · times` slices (gradReduce);
   * each call returns the offset of its next `slices`. `times`: how many launches contribute (shared LNs).
   */
  partial(name: string, slices: number, times = 1): number {
    const size = this.params.get(name)!.size;
    let p = this.partials.get(name);
    if (!p) {
      p = {
        region: this.arena.alloc(`partial:${name}`, size * slices * times, 'partial'),
        slices: slices * times,
        next: 0,
      };
      this.partials.set(name, p);
    }
    const off = p.region.offset + p.next * size;
    p.next += slices;
    return off;
  }

  /** Reduction slices of a weight-gradient product (GPU: enough to fill the device). */
  splits(M: number, N: number, K: number): number {
    return this.gpu ? gpuSplits(M, N, K) : 1;
  }

  /** Batch slices of per-sequence parameter sums (scan, conv). */
  get batchSlices(): number {
    return this.gpu ? this.B : 1;
  }

  /** Weight gradient C[M, N] = Σ_t A(t)ᵀ·B(t) over `Kk` token rows into `name`'s next partial slices. */
  weightGrad(name: string, M: number, N: number, Kk: number, a: Rows, b: Rows | 'ones', label: string, times = 1) {
    const s = this.splits(M, N, Kk);
    const off = this.partial(name, s, times);
    this.push<GemmSpec>(
      gemm,
      {
        M,
        N,
        K: Kk,
        a: { rows: a, major: 'k' },
        b: b === 'ones' ? { ones: true } : { rows: b, major: 'k' },
        out: dense(off, M, N),
        splits: s,
        sliceStride: M * N,
      },
      label,
    );
  }

  /** y = LN(x) over `rows` rows with parameters `name`.weight / .bias, saving `st`; dropout on y. */
  layerNorm(name: string, rows: number, x: Rows, y: Rows, st: NormStats, label: string, dropout?: DropoutSpec) {
    this.push(
      layerNorm,
      {
        rows,
        D: this.D,
        x,
        y,
        gamma: this.W(`${name}.weight`),
        beta: this.W(`${name}.bias`),
        mean: st.mean.offset,
        rstd: st.rstd.offset,
        eps: EPS,
        dropout,
      },
      label,
    );
  }

  /** dx = LN′(dy) (+ residual), and the parameter gradients into `name`'s partial slices. */
  layerNormBackward(
    name: string,
    rows: number,
    x: Rows,
    st: NormStats,
    dy: Rows,
    dx: Rows,
    label: string,
    extra: { residual?: Rows; dropout?: DropoutSpec; times?: number } = {},
  ) {
    const s = this.gpu ? Math.ceil(rows / 64) : 1;
    this.push(
      layerNormBackward,
      {
        rows,
        D: this.D,
        x,
        mean: st.mean.offset,
        rstd: st.rstd.offset,
        gamma: this.W(`${name}.weight`),
        dy,
        dx,
        residual: extra.residual,
        dropout: extra.dropout,
        dgamma: this.partial(`${name}.weight`, s, extra.times),
        dbeta: this.partial(`${name}.bias`, s, extra.times),
        splits: s,
        sliceStride: this.D,
      },
      label,
    );
  }

  /** The finished program (outputs from blocks.ts's head and optimiser). */
  program(key: string, outputs: Program['outputs'], adam?: Program['adam']): Program {
    return Object.freeze({
      key,
      arena: this.arena,
      ctl: this.ctl,
      launches: this.launches,
      params: this.params,
      frozen: this.frozen,
      inputs: this.inputs,
      ctlInputs: this.ctlInputs,
      dropoutSites: this.sites,
      outputs,
      training: this.training,
      adam,
    });
  }
}
