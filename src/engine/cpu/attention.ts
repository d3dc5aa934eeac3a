/**
 * The CPU executor's causal single-head attention (kernels/attention.ts's launches): per sequence, the five
 * matrix products run on the blocked SIMD product (cpu/gemm.ts `runProduct`), and the masking, softmax and
 * attention dropout between them in JavaScript over float32 rows:
 *
 *   forward    S = Q·Kᵀ (into scratch), the mask and softmax row by row (P saved, P̃ = Drop(P) into scratch), O = P̃·V
 *   backward   ∂P = ∂O·Vᵀ (into scratch), ∂S row by row (into the launch's ∂S region), ∂Q = ∂S·K, ∂K = ∂Sᵀ·Q,
 *              ∂V = P̃ᵀ·∂O
 *
 * Each product's output is a sequential float32 sum (the kernel's JavaScript sums in float64); the softmax and
 * ∂S follow the kernel's arithmetic. Every address table is built once, when the executor is.
 */
import { rowAddr, type Rows } from '../program';
import {
  MASKED_SCORE,
  type AttentionBackwardSpec,
  type AttentionShape,
  type AttentionSpec,
} from '../kernels/attention';
import { maskAt } from '../kernels/dropout';
import { packFloats, runProduct, type GemmExports, type Product } from './gemm';

const up = (n: number, m: number) => Math.ceil(n / m) * m;

/** Whether the SIMD path takes this shape (D a multiple of 4: the products' columns). */
export function attentionApplies(s: AttentionShape): boolean {
  return s.D % 4 === 0;
}

/** Scratch floats of one launch: S (or ∂P) and P̃ as [Lp4, Lp8] each, the tables, a sink row. */
export function attentionScratch(s: AttentionShape): number {
  const { B, L, D } = s;
  const rows = up(L, 4) * up(L, 8);
  const perSeq = 10 * up(L, 4) + 2 * up(L, 8) + 5 * L;
  return 2 * rows + B * perSeq + 4 * up(L, 4) + 2 * L + Math.max(L, D) + up(D, 8) + 64;
}

/** Packing floats its products need (shared with every other product's). */
export function attentionPackScratch(s: AttentionShape): number {
  const n = Math.max(up(s.L, 8), s.D);
  return packFloats(s.L, n, Math.max(s.L, s.D));
}

/** Bump allocation of int tables in scratch (float indices), filled as they are made. */
class Tables {
  constructor(
    private readonly i32: Int32Array,
    private top: number,
  ) {}
  /** A table of `n` byte addresses, entry i = 4·f(i). */
  make(n: number, f: (i: number) => number): number {
    const at = this.top;
    for (let i = 0; i < n; i++) this.i32[at + i] = 4 * f(i);
    this.top += n;
    return at;
  }
  /** Floats of scratch taken: an `n`-float buffer. */
  buffer(n: number): number {
    const at = this.top;
    this.top += n;
    return at;
  }
}

/** The shape's constants and the per-sequence row helpers, with the packed run's `base` added. */
function layout(s: AttentionShape, base: number) {
  const { L, D } = s;
  const Lp4 = up(L, 4);
  const Lp8 = up(L, 8);
  const row = (r: Rows, b: number, j: number) => base + rowAddr(r, b * L + Math.min(j, L - 1));
  const products = { D8: Math.floor(D / 8), half: D % 8 === 4 };
  return { L, D, Lp4, Lp8, row, ...products };
}

export function attentionForwardFastPath(
  k: GemmExports,
  mem: Float32Array,
  s: AttentionSpec,
  scratch: number,
  pack: number,
  base: number,
  ctl: Uint32Array,
): (() => void) | null {
  if (!attentionApplies(s)) return null;
  const { L, D, Lp4, Lp8, row, D8, half } = layout(s, base);
  const t = new Tables(new Int32Array(mem.buffer), scratch);
  const S = t.buffer(Lp4 * Lp8);
  const Pd = t.buffer(Lp4 * Lp8);
  const sink = t.buffer(up(D, 8) + 8);
  const k4 = t.make(Math.max(L, D), (i) => i);
  const sRows = t.make(Lp4, (i) => S + i * Lp8);
  const pdRows = t.make(Lp4, (i) => Pd + i * Lp8);
  const seqs = Array.from({ length: s.B }, (_, b) => {
    const q = t.make(Lp4, (i) => row(s.qkv, b, i));
    const key = t.make(Lp8, (j) => row(s.qkv, b, j) + D);
    const v = t.make(L, (j) => row(s.qkv, b, j) + 2 * D);
    const o = t.make(Lp4, (i) => (i < L ? row(s.out, b, i) : sink));
    const scores: Product = {
      G: Lp4 / 4,
      P: Lp8 / 8,
      half: false,
      K: D,
      pAm: q,
      pAk: k4,
      pCm: sRows,
      b: { pBn: key, pK4: k4 },
    };
    const out: Product = { G: Lp4 / 4, P: D8, half, K: L, pAm: pdRows, pAk: k4, pCm: o, b: { pBk: v } };
    return { scores, out };
  });
  const scale = Math.sqrt(D);
  const f32 = Math.fround;
  const pad = new Float64Array(L);
  const e = new Float64Array(L);
  return () => {
    for (let b = 0; b < s.B; b++) {
      runProduct(k, seqs[b].scores, pack);
      for (let j = 0; j < L; j++) pad[j] = (1 - mem[base + s.mask + b * (L / 3) + Math.floor(j / 3)]) * MASKED_SCORE;
      for (let i = 0; i < L; i++) {
        const si = S + i * Lp8;
        let max = -Infinity;
        for (let j = 0; j < L; j++) {
          const v = j <= i ? f32(pad[j] + f32(mem[si + j] / scale)) : f32(pad[j] + MASKED_SCORE);
          e[j] = v;
          if (v > max) max = v;
        }
        let sum = 0;
        for (let j = 0; j < L; j++) sum += e[j] = Math.exp(e[j] - max);
        const p = base + s.p + (b * L + i) * L;
        const pd = Pd + i * Lp8;
        for (let j = 0; j < L; j++) {
          mem[p + j] = e[j] / sum;
          mem[pd + j] = mem[p + j] * maskAt(ctl, s.dropout, (b * L + i) * L + j);
        }
      }
      runProduct(k, seqs[b].out, pack);
    }
  };
}

export function attentionBackwardFastPath(
  k: GemmExports,
  mem: Float32Array,
  s: AttentionBackwardSpec,
  scratch: number,
  pack: number,
  base: number,
  ctl: Uint32Array,
): (() => void) | null {
  if (!attentionApplies(s)) return null;
  const { L, D, Lp4, Lp8, row, D8, half } = layout(s, base);
  const t = new Tables(new Int32Array(mem.buffer), scratch);
  const dP = t.buffer(Lp4 * Lp8);
  const Pd = t.buffer(Lp4 * Lp8);
  const sink = t.buffer(up(D, 8) + 8);
  const k4 = t.make(Math.max(L, D), (i) => i);
  const dpRows = t.make(Lp4, (i) => dP + i * Lp8);
  const j4 = t.make(Lp4, (j) => Math.min(j, L - 1)); // A rows by k: column j of row i
  const pdByK = t.make(L, (i) => Pd + i * Lp8);
  const dsAt = (b: number, i: number) => base + s.ds + (b * L + Math.min(i, L - 1)) * L;
  const seqs = Array.from({ length: s.B }, (_, b) => {
    const g = t.make(Lp4, (i) => row(s.dout, b, i));
    const gByK = t.make(L, (i) => row(s.dout, b, i));
    const vByN = t.make(Lp8, (j) => row(s.qkv, b, j) + 2 * D);
    const dsByM = t.make(Lp4, (i) => dsAt(b, i));
    const dsByK = t.make(L, (i) => dsAt(b, i));
    const keyByK = t.make(L, (j) => row(s.qkv, b, j) + D);
    const qByK = t.make(L, (i) => row(s.qkv, b, i));
    const dq = t.make(Lp4, (i) => (i < L ? row(s.dqkv, b, i) : sink));
    const dk = t.make(Lp4, (i) => (i < L ? row(s.dqkv, b, i) + D : sink));
    const dv = t.make(Lp4, (i) => (i < L ? row(s.dqkv, b, i) + 2 * D : sink));
    const G = Lp4 / 4;
    const common = { G, P: D8, half, K: L };
    return {
      dp: { G, P: Lp8 / 8, half: false, K: D, pAm: g, pAk: k4, pCm: dpRows, b: { pBn: vByN, pK4: k4 } },
      dq: { ...common, pAm: dsByM, pAk: k4, pCm: dq, b: { pBk: keyByK } },
      dk: { ...common, pAm: j4, pAk: dsByK, pCm: dk, b: { pBk: qByK } },
      dv: { ...common, pAm: j4, pAk: pdByK, pCm: dv, b: { pBk: gByK } },
    } satisfies Record<string, Product>;
  });
  const scale = Math.sqrt(D);
  return () => {
    for (let b = 0; b < s.B; b++) {
      const q = seqs[b];
      runProduct(k, q.dp, pack);
      for (let i = 0; i < L; i++) {
        const p = base + s.p + (b * L + i) * L;
        const ds = dsAt(b, i);
        const dp = dP + i * Lp8;
        const pd = Pd + i * Lp8;
        let r = 0;
        for (let j = 0; j < L; j++) {
          const drop = maskAt(ctl, s.dropout, (b * L + i) * L + j);
          mem[pd + j] = mem[p + j] * drop;
          mem[ds + j] = mem[dp + j] * drop;
          r += mem[p + j] * mem[ds + j];
        }
        for (let j = 0; j < L; j++) mem[ds + j] = j <= i ? (mem[p + j] * (mem[ds + j] - r)) / scale : 0;
      }
      runProduct(k, q.dq, pack);
      runProduct(k, q.dk, pack);
      runProduct(k, q.dv, pack);
    }
  };
}
