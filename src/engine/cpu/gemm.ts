/**
 * The CPU executor's matrix product (kernels/gemm.ts's launches) as WebAssembly SIMD over the arena's memory.
 *
 * Blocked as BLAS does it, so each operand is read from cache rather than memory: the reduction runs in blocks of
 * KC k's; per block, B's KC × N block is packed into 8-column panels ([panel][k][8], contiguous) and then, per MC
 * rows, A's MC × KC block into 4-row slivers ([sliver][k][4]). The micro-kernel keeps a 4 × 8 tile of C in eight
 * f32x4 accumulators and sweeps, for each B panel (in L1), every A sliver of the block (in L2). Packing reads the
 * operands through address tables built once per launch, so one kernel serves every layout:
 *   A(m, k) at tabAm[m] + tabAk[k] (bytes): rows by m (forward, input gradients) tabAm = row addresses and
 *   tabAk = 4k; rows by k (weight gradients, Σ over tokens) tabAm = 4m and tabAk = row addresses.
 *   B(k, n..n+7) at tabBk[k] + 4n (rows by k); B rows by n (a PyTorch weight in x·Wᵀ): tabBn[n] + 4k.
 *   C(m, n..) at tabCm[m] + 4n; rows past M (the last sliver's padding) point at a sink row in scratch.
 * Each output is one sequential float32 sum over k, a multiply then an add per term (no FMA), as the reference:
 * a later k block resumes from the partial sums stored by the earlier one. Bias and epilogues run in SIMD too
 * (cpu/epilogue.ts); columns past the last multiple of 4 in JS. The attention and the scan's δ reuse the driver
 * (`runProduct`) with their own tables.
 */
import {
  FuncBuilder,
  I32,
  OP,
  SIMD,
  V128,
  assembleModule,
  instantiateModule,
  whileLt,
} from '../../util/wasm-assembler';
import { rowAddr as rowIn, type Rows } from '../program';
import { epilogueAt, sliceChunk, type GemmSpec } from '../kernels/gemm';
import { activation, activationGrad } from '../kernels/activation';
import { maskAt } from '../kernels/dropout';
import { dropoutThreshold } from '../../util/rng';
import { epilogueKernels, type EpilogueExports } from './epilogue';

/** Reduction block (k's per packed block) and row block (rows of A per packed block). */
const KC = 256;
const MC = 64;

export interface GemmExports {
  /** kernel8 / kernel4(G, P, kc, pA, pB, pCm, nb0, acc): P panels × G slivers of C, 8 (4) columns a panel. */
  kernel8(...args: number[]): void;
  kernel4(...args: number[]): void;
  /** packRows4 / packRows8(G, kc, pRows, pK, dst): G groups of 4 (8) rows × kc, interleaved by k. */
  packRows4(...args: number[]): void;
  packRows8(...args: number[]): void;
  /** packB8 / packB4(P, kc, pBk, nb0, dst): P panels of kc × 8 (4) columns from rows by k. */
  packB8(...args: number[]): void;
  packB4(...args: number[]): void;
  /** The bias and epilogues in SIMD (cpu/epilogue.ts), over the same memory. */
  ep: EpilogueExports | null;
}

const i32Params = (names: string[]) => names.map((p): [string, typeof I32] => [p, I32]);
const locals = (f: FuncBuilder, names: string[], type: typeof I32 | typeof V128 = I32) =>
  names.forEach((n) => f.local(n, type));

/** The 4 row addresses of sliver g from table `tab`: tab[4g + i] → dst_i. */
function rowsOf(f: FuncBuilder, tab: string, dst: string) {
  for (let i = 0; i < 4; i++)
    f.get(tab)
      .get('g')
      .i32(4)
      .op(OP.i32Shl)
      .op(OP.i32Add)
      .op(OP.i32Load, 2, i * 4)
      .set(`${dst}${i}`);
}

/**
 * The micro-kernel: for panel p < P (B at pB + p·kc·32, C columns nb0 + 32p bytes on) and sliver g < G (A at
 * pA + g·kc·16, C rows tabCm[4g..4g+3]), C_tile (+)= Σ_k A(·, k)·B(k, ·). `acc` resumes from C's stored sums.
 */
function kernelFunc(name: string, vectors: 1 | 2): FuncBuilder {
  const f = new FuncBuilder(name, i32Params(['G', 'P', 'kc', 'pA', 'pB', 'pCm', 'nb0', 'acc']));
  locals(f, ['p', 'g', 'k', 'nb', 'pa', 'pb', 'pbp', 'cm0', 'cm1', 'cm2', 'cm3']);
  const acc = Array.from({ length: 4 * vectors }, (_, i) => `c${i}`);
  locals(f, [...acc, 'b0', 'b1', 'a'], V128);
  const cAt = (i: number) => f.get(`cm${i}`).get('nb').op(OP.i32Add);
  f.i32(0).set('p');
  whileLt(
    f,
    'p',
    () => f.get('P'),
    () => {
      f.get('nb0').get('p').i32(5).op(OP.i32Shl).op(OP.i32Add).set('nb');
      f.get('pB').get('p').get('kc').op(OP.i32Mul).i32(5).op(OP.i32Shl).op(OP.i32Add).set('pbp');
      f.get('pA').set('pa');
      f.i32(0).set('g');
      whileLt(
        f,
        'g',
        () => f.get('G'),
        () => {
          rowsOf(f, 'pCm', 'cm');
          f.get('acc').op(OP.if, 0x40);
          for (let i = 0; i < 4; i++)
            for (let j = 0; j < vectors; j++)
              cAt(i)
                .loadV(16 * j)
                .set(acc[i * vectors + j]);
          f.op(OP.else);
          for (const c of acc) f.f32(0).simd(SIMD.f32x4Splat).set(c);
          f.op(OP.end);
          f.get('pbp').set('pb');
          f.i32(0).set('k');
          whileLt(
            f,
            'k',
            () => f.get('kc'),
            () => {
              f.get('pb').loadV(0).set('b0');
              if (vectors === 2) f.get('pb').loadV(16).set('b1');
              for (let i = 0; i < 4; i++) {
                f.get('pa')
                  .loadSplat(4 * i)
                  .set('a');
                for (let j = 0; j < vectors; j++) {
                  const c = acc[i * vectors + j];
                  f.get(c)
                    .get('a')
                    .get(j === 0 ? 'b0' : 'b1')
                    .simd(SIMD.f32x4Mul)
                    .simd(SIMD.f32x4Add)
                    .set(c);
                }
              }
              f.get('pa').i32(16).op(OP.i32Add).set('pa');
              f.get('pb').i32(32).op(OP.i32Add).set('pb');
            },
          );
          for (let i = 0; i < 4; i++)
            for (let j = 0; j < vectors; j++)
              cAt(i)
                .get(acc[i * vectors + j])
                .storeV(16 * j);
        },
      );
    },
  );
  return f;
}

/**
 * packRows4 / packRows8(G, kc, pRows, pK, dst): dst[g][k][r] = mem[tabRows[R·g + r] + tabK[k]] for g < G, k < kc,
 * R = 4 or 8: A's 4-row slivers (tabRows = A's rows by m, tabK = 4k; or tabRows = 4m, tabK = A's rows by k),
 * and the 8-column panels of a B read by n (tabRows = B's rows by n, tabK = 4k).
 */
function packRowsFunc(R: 4 | 8): FuncBuilder {
  const f = new FuncBuilder(`packRows${R}`, i32Params(['G', 'kc', 'pRows', 'pK', 'dst']));
  const rows = Array.from({ length: R }, (_, r) => `r${r}`);
  locals(f, ['g', 'k', 'pk', 'ak', ...rows]);
  f.i32(0).set('g');
  whileLt(
    f,
    'g',
    () => f.get('G'),
    () => {
      for (let r = 0; r < R; r++)
        f.get('pRows')
          .get('g')
          .i32(R === 4 ? 4 : 5)
          .op(OP.i32Shl)
          .op(OP.i32Add)
          .op(OP.i32Load, 2, r * 4)
          .set(rows[r]);
      f.get('pK').set('pk');
      f.i32(0).set('k');
      whileLt(
        f,
        'k',
        () => f.get('kc'),
        () => {
          f.get('pk').op(OP.i32Load, 2, 0).set('ak');
          for (let r = 0; r < R; r++)
            f.get('dst')
              .get(rows[r])
              .get('ak')
              .op(OP.i32Add)
              .op(OP.f32Load, 2, 0)
              .op(OP.f32Store, 2, 4 * r);
          f.get('dst')
            .i32(4 * R)
            .op(OP.i32Add)
            .set('dst');
          f.get('pk').i32(4).op(OP.i32Add).set('pk');
        },
      );
    },
  );
  return f;
}

/** packB: dst[p][k][0..w) = B(k, n0 + 8p ..) for p < P, k < kc (w = 8 or 4; panels are 8 wide either way). */
function packBFunc(name: string, vectors: 1 | 2): FuncBuilder {
  const f = new FuncBuilder(name, i32Params(['P', 'kc', 'pBk', 'nb0', 'dst']));
  locals(f, ['p', 'k', 'pk', 'bk', 'nb']);
  f.i32(0).set('p');
  whileLt(
    f,
    'p',
    () => f.get('P'),
    () => {
      f.get('nb0').get('p').i32(5).op(OP.i32Shl).op(OP.i32Add).set('nb');
      f.get('pBk').set('pk');
      f.i32(0).set('k');
      whileLt(
        f,
        'k',
        () => f.get('kc'),
        () => {
          f.get('pk').op(OP.i32Load, 2, 0).get('nb').op(OP.i32Add).set('bk');
          for (let j = 0; j < vectors; j++)
            f.get('dst')
              .get('bk')
              .loadV(16 * j)
              .storeV(16 * j);
          f.get('dst').i32(32).op(OP.i32Add).set('dst');
          f.get('pk').i32(4).op(OP.i32Add).set('pk');
        },
      );
    },
  );
  return f;
}

const cache = new WeakMap<object, GemmExports | null>();

/** The kernels instantiated over `memory` (null where this runtime lacks WebAssembly SIMD). */
export function gemmKernels(memory: { buffer: ArrayBuffer }): GemmExports | null {
  if (!cache.has(memory)) {
    const funcs = [
      kernelFunc('kernel8', 2),
      kernelFunc('kernel4', 1),
      packRowsFunc(4),
      packRowsFunc(8),
      packBFunc('packB8', 2),
      packBFunc('packB4', 1),
    ];
    const bytes = assembleModule(funcs, 1, { importMemory: true });
    const g = instantiateModule<Omit<GemmExports, 'ep'>>(bytes, { env: { mem: memory } });
    cache.set(memory, g ? { ...g, ep: epilogueKernels(memory) } : null);
  }
  return cache.get(memory)!;
}

/**
 * One product C (+)= A·B over address tables already in memory (float indices into it; entries are bytes):
 * G slivers of 4 rows (tabAm, tabCm: 4G entries), P full 8-column panels and optionally a `half` 4-column one,
 * K terms (tabAk: K entries). B either rows by k (tabBk: K row addresses) or rows by n (tabBn: 8 entries per
 * panel, half included; tabK4: 4k for k < K). `nb0`: C's first column in bytes.
 */
export interface Product {
  G: number;
  P: number;
  half: boolean;
  K: number;
  pAm: number;
  pAk: number;
  pCm: number;
  b: { pBk: number } | { pBn: number; pK4: number };
  nb0?: number;
}

/** Floats of the shared packing buffers a product of these sizes needs (rows, columns, reduction). */
export function packFloats(M: number, N: number, K: number): number {
  const kc = Math.min(KC, K);
  return Math.min(MC, 4 * Math.ceil(M / 4)) * kc + kc * 8 * Math.ceil(N / 8) + 16;
}

/**
 * Runs product `t` with the packing buffers at float index `pack`: per KC-deep block of k, B's panels are
 * packed, then per MC rows A's slivers, and the micro-kernel sweeps them; a later block resumes C's sums.
 */
export function runProduct(k: GemmExports, t: Product, pack: number): void {
  const mc = Math.min(MC, 4 * t.G);
  const pAp = pack;
  const pBp = pAp + mc * Math.min(KC, t.K);
  const panels = t.P + (t.half ? 1 : 0);
  const nb0 = t.nb0 ?? 0;
  for (let kb = 0; kb < t.K; kb += KC) {
    const kc = Math.min(KC, t.K - kb);
    const more = kb > 0 ? 1 : 0;
    const halfB = 4 * (pBp + t.P * kc * 8);
    if ('pBk' in t.b) {
      if (t.P > 0) k.packB8(t.P, kc, 4 * (t.b.pBk + kb), nb0, 4 * pBp);
      if (t.half) k.packB4(1, kc, 4 * (t.b.pBk + kb), nb0 + 32 * t.P, halfB);
    } else k.packRows8(panels, kc, 4 * t.b.pBn, 4 * (t.b.pK4 + kb), 4 * pBp);
    for (let m0 = 0; m0 < 4 * t.G; m0 += mc) {
      const G = Math.min(mc, 4 * t.G - m0) / 4;
      k.packRows4(G, kc, 4 * (t.pAm + m0), 4 * (t.pAk + kb), 4 * pAp);
      if (t.P > 0) k.kernel8(G, t.P, kc, 4 * pAp, 4 * pBp, 4 * (t.pCm + m0), nb0, more);
      if (t.half) k.kernel4(G, 1, kc, 4 * pAp, halfB, 4 * (t.pCm + m0), nb0 + 32 * t.P, more);
    }
  }
}

/** Floats of executor scratch one launch needs of its own: its address tables and the sink row. */
export function gemmScratch(s: GemmSpec): number {
  return 2 * Math.ceil(s.M / 4) * 4 + 3 * s.K + 8 * Math.ceil(s.N / 8) + s.N + 8 + 2 * s.M + 32;
}

/** Floats of the packing buffers (one, shared by every launch: launches run one after another). */
export function gemmPackScratch(s: GemmSpec): number {
  return gemmApplies(s) ? packFloats(s.M, s.N, s.K) : 0;
}

/** Whether the SIMD kernel takes this launch (not N < 4 or B all ones: those run smallGemmFastPath). */
export function gemmApplies(s: GemmSpec): boolean {
  return !('ones' in s.b) && s.N >= 4;
}

/** A bias gradient, Σ_k A(k, m) into [M, 1] (B all ones, A rows by k, no bias or epilogue). */
function isColumnSum(s: GemmSpec): boolean {
  return 'ones' in s.b && s.N === 1 && s.a.major === 'k' && s.bias === undefined && !s.epilogue;
}

/**
 * A runner for a launch the SIMD kernel does not take (N < 4, B all ones), over one packed run's view of the
 * arena: the kernel's JavaScript with every row address computed once, the same float64 sums in the same
 * order. Column sums (bias gradients) run token row by token row.
 */
export function smallGemmFastPath(mem: Float32Array, ctl: Uint32Array, s: GemmSpec): (() => void) | null {
  if (gemmApplies(s)) return null;
  const S = s.splits ?? 1;
  const chunk = sliceChunk(s.K, S);
  const aByM = s.a.major === 'm';
  const aRows = Int32Array.from({ length: aByM ? s.M : s.K }, (_, i) => rowIn(s.a.rows, i));
  if (isColumnSum(s)) {
    const cRows = Int32Array.from({ length: s.M }, (_, m) => rowIn(s.out, m));
    const acc = new Float64Array(s.M);
    return () => {
      for (let slice = 0; slice < S; slice++) {
        acc.fill(0);
        for (let k = slice * chunk; k < Math.min(s.K, (slice + 1) * chunk); k++) {
          const r = aRows[k];
          for (let m = 0; m < s.M; m++) acc[m] += mem[r + m];
        }
        const so = slice * (s.sliceStride ?? 0);
        for (let m = 0; m < s.M; m++) mem[cRows[m] + so] = acc[m];
      }
    };
  }
  const b = 'ones' in s.b ? null : s.b;
  const bByK = b?.major === 'k';
  const bRows = b ? Int32Array.from({ length: bByK ? s.K : s.N }, (_, i) => rowIn(b.rows, i)) : null;
  return () => {
    for (let slice = 0; slice < S; slice++) {
      const k1 = Math.min(s.K, (slice + 1) * chunk);
      for (let m = 0; m < s.M; m++)
        for (let n = 0; n < s.N; n++) {
          let acc = 0;
          for (let k = slice * chunk; k < k1; k++) {
            const av = aByM ? mem[aRows[m] + k] : mem[aRows[k] + m];
            acc += bRows === null ? av : av * (bByK ? mem[bRows[k] + n] : mem[bRows[n] + k]);
          }
          epilogueAt(mem, ctl, s, m, n, acc, slice);
        }
    }
  };
}

/**
 * A runner for one gemm launch on the SIMD kernel, or null when its shape does not suit it (N < 4, B all
 * ones); the executor then runs the kernel's JavaScript. `scratch` (absolute float index) holds its tables,
 * `pack` the packing buffers it shares with every other launch.
 */
export function gemmFastPath(
  k: GemmExports,
  mem: Float32Array,
  s: GemmSpec,
  scratch: number,
  pack: number,
  base = 0,
  ctl: Uint32Array = new Uint32Array(0),
): (() => void) | null {
  if (!gemmApplies(s)) return null;
  const S = s.splits ?? 1;
  const chunk = sliceChunk(s.K, S);
  const M4 = Math.ceil(s.M / 4);
  const N8 = s.N - (s.N % 8);
  const N4 = s.N - (s.N % 4);
  const i32 = new Int32Array(mem.buffer);
  // Tables (byte addresses), in scratch floats: Am and Cm [4·M4], Ak [K], Bk or K4 [K], Bn [8 per panel], sink.
  const pAm = scratch;
  const pCm = pAm + 4 * M4;
  const pAk = pCm + 4 * M4;
  const pBk = pAk + s.K;
  const pK4 = pBk + s.K;
  const pBn = pK4 + s.K;
  const sink = pBn + 8 * Math.ceil(s.N / 8);
  const b = s.b as { rows: Rows; major: 'k' | 'n' }; // gemmApplies: not all ones
  const aByM = s.a.major === 'm';
  /** Addresses of a packed run's copy of the arena start at `base` (pack.ts). */
  const rowAddr = (r: Rows, i: number) => rowIn(r, i) + base;
  // Padding rows (of the last sliver, the last panel) read the last real row (in bounds); C's go to the sink.
  for (let m = 0; m < 4 * M4; m++)
    i32[pAm + m] = 4 * (aByM ? rowAddr(s.a.rows, Math.min(m, s.M - 1)) : Math.min(m, s.M - 1));
  for (let n = 0; n < 8 * Math.ceil(s.N / 8); n++)
    if (b.major === 'n') i32[pBn + n] = 4 * rowAddr(b.rows, Math.min(n, s.N - 1));
  for (let kk = 0; kk < s.K; kk++) {
    i32[pAk + kk] = 4 * (aByM ? kk : rowAddr(s.a.rows, kk));
    i32[pK4 + kk] = 4 * kk;
    if (b.major === 'k') i32[pBk + kk] = 4 * rowAddr(b.rows, kk);
  }
  // Row addresses for the JS remainder and epilogue loops, computed once.
  const aRows = Int32Array.from({ length: aByM ? s.M : s.K }, (_, i) => rowAddr(s.a.rows, i));
  const bRows = Int32Array.from({ length: b.major === 'k' ? s.K : s.N }, (_, i) => rowAddr(b.rows, i));
  const cRows = Int32Array.from({ length: s.M }, (_, m) => rowAddr(s.out, m));
  const e = s.epilogue ?? { kind: 'store' as const };
  const rRows =
    e.kind === 'add' || e.kind === 'silu-grad' ? Int32Array.from({ length: s.M }, (_, m) => rowAddr(e.r, m)) : null;
  const xRows =
    e.kind === 'silu-split' || e.kind === 'act'
      ? Int32Array.from({ length: s.M }, (_, m) => rowAddr(e.s, m))
      : e.kind === 'silu-grad' || e.kind === 'act-grad'
        ? Int32Array.from({ length: s.M }, (_, m) => rowAddr(e.z, m))
        : null;
  const act = e.kind === 'act' ? activation(e.fn) : undefined;
  const actGrad = e.kind === 'act-grad' ? activationGrad(e.fn) : undefined;
  const remainder = (m: number, n0: number, k0: number, k1: number, o: number) => {
    for (let n = n0; n < s.N; n++) {
      let acc = 0;
      for (let kk = k0; kk < k1; kk++) {
        const av = aByM ? mem[aRows[m] + kk] : mem[aRows[kk] + m];
        const bv = b.major === 'k' ? mem[bRows[kk] + n] : mem[bRows[n] + kk];
        acc = Math.fround(acc + Math.fround(av * bv));
      }
      mem[o + n] = acc;
    }
  };
  /** Bias and epilogue on the stored sums of row m from column n0 on (the same arithmetic as epilogueAt). */
  const finish = (m: number, o: number, n0: number) => {
    const N = s.N;
    if (s.bias !== undefined) for (let n = n0; n < N; n++) mem[o + n] += mem[base + s.bias + n];
    switch (e.kind) {
      case 'add': {
        const r = rRows![m];
        if (e.dropout)
          for (let n = n0; n < N; n++) mem[o + n] = mem[r + n] + mem[o + n] * maskAt(ctl, e.dropout, m * N + n);
        else for (let n = n0; n < N; n++) mem[o + n] += mem[r + n];
        break;
      }
      case 'act': {
        const x = xRows![m];
        for (let n = n0; n < N; n++) mem[x + n] = act!(mem[o + n]);
        break;
      }
      case 'act-grad': {
        const zr = xRows![m];
        for (let n = n0; n < N; n++) mem[o + n] *= actGrad!(mem[zr + n]);
        break;
      }
      case 'silu-split': {
        const x = xRows![m];
        for (let n = n0 === 0 ? 0 : e.cols - (e.cols % 4); n < e.cols; n++) {
          const v = mem[o + n];
          mem[x + n] = v / (1 + Math.exp(-v));
        }
        break;
      }
      case 'silu-grad': {
        const r = rRows![m];
        const zr = xRows![m];
        for (let n = n0; n < N; n++) {
          const z = mem[zr + n];
          const sg = 1 / (1 + Math.exp(-z));
          mem[o + n] = (mem[o + n] + mem[r + n]) * sg * (1 + z * (1 - sg));
        }
        break;
      }
    }
  };
  const ep = k.ep;
  const pRm = sink + s.N + 8;
  const pXm = pRm + s.M;
  if (ep) {
    if (rRows) for (let m = 0; m < s.M; m++) i32[pRm + m] = 4 * rRows[m];
    if (xRows) for (let m = 0; m < s.M; m++) i32[pXm + m] = 4 * xRows[m];
  }
  const drop = e.kind === 'add' ? e.dropout : undefined;
  const thr = drop ? dropoutThreshold(drop.p) | 0 : 0;
  const factor = drop ? Math.fround(1 / (1 - drop.p)) : 0;
  /** The bias and epilogue of columns [0, N4) of every row, in SIMD (single-slice products: no epilogue else). */
  const finishSimd = (ep: EpilogueExports) => {
    const [M, nb, C] = [s.M, 4 * N4, 4 * pCm];
    if (s.bias !== undefined) ep.bias(M, nb, C, 4 * (base + s.bias));
    switch (e.kind) {
      case 'add':
        ep.add(
          M,
          nb,
          C,
          4 * pRm,
          drop ? 1 : 0,
          drop ? ctl[drop.key] : 0,
          drop ? ctl[drop.key + 1] : 0,
          thr,
          factor,
          s.N,
        );
        break;
      case 'act':
        ep.act(M, nb, C, 4 * pXm, e.fn === 'gelu' ? 1 : 0);
        break;
      case 'act-grad':
        ep.actGrad(M, nb, C, 4 * pXm, e.fn === 'gelu' ? 1 : 0);
        break;
      case 'silu-split':
        ep.siluSplit(M, 4 * (e.cols - (e.cols % 4)), C, 4 * pXm);
        break;
      case 'silu-grad':
        ep.siluGrad(M, nb, C, 4 * pRm, 4 * pXm);
        break;
    }
  };
  return () => {
    for (let slice = 0; slice < S; slice++) {
      const k0 = slice * chunk;
      const k1 = Math.max(k0, Math.min(s.K, k0 + chunk)); // a trailing slice may be empty: it sums to 0
      const so = slice * (s.sliceStride ?? 0);
      for (let m = 0; m < 4 * M4; m++) i32[pCm + m] = 4 * (m < s.M ? cRows[m] + so : sink);
      if (k1 === k0) for (let m = 0; m < s.M; m++) mem.fill(0, cRows[m] + so, cRows[m] + so + N4);
      const t: Product = {
        G: M4,
        P: N8 / 8,
        half: N4 > N8,
        K: k1 - k0,
        pAm,
        pAk: pAk + k0,
        pCm,
        b: b.major === 'k' ? { pBk: pBk + k0 } : { pBn, pK4: pK4 + k0 },
      };
      if (k1 > k0) runProduct(k, t, pack);
      // The remainder in JS: columns past N4; then the epilogue (SIMD up to N4 where it runs).
      const simd = ep !== null && S === 1;
      if (simd) finishSimd(ep);
      for (let m = 0; m < s.M; m++) {
        const o = cRows[m] + so;
        remainder(m, N4, k0, k1, o);
        finish(m, o, simd ? N4 : 0);
      }
    }
  };
}
