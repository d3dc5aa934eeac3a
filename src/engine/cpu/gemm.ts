/**
 * The CPU executor's matrix product (kernels/gemm.ts's launches) as WebAssembly SIMD over the arena's memory.
 *
 * One kernel serves every operand layout through address tables the executor builds once per launch:
 *   A(m, k) at tabAm[m] + tabAk[k] (bytes), B(k, n..n+3) a vector at tabBk[k] + 4n, C(m, n..) at tabCm[m] + 4n.
 * Rows by m (forward, input gradients): tabAm = row addresses, tabAk = 4k. Rows by k (weight gradients,
 * Σ over tokens): tabAm = 4m, tabAk = row addresses. B rows by n (a PyTorch weight in x·Wᵀ) are transposed
 * into scratch first (weights are small). Register tile: 4 rows × 8 columns (8 f32x4 accumulators); each
 * output is one sequential float32 sum over k, a multiply then an add per term (no FMA), as the reference.
 * Columns past the last multiple of 4, rows past the last multiple of 4, bias and epilogues run in JS.
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

export interface GemmExports {
  /** gemm8 / gemm4(M4, n0, nEnd, K, pAm, pAk, pBk, pCm): row groups of 4, columns [n0, nEnd) in steps of 8 / 4. */
  gemm8(...args: number[]): void;
  gemm4(...args: number[]): void;
}

function gemmFunc(name: string, vectors: 1 | 2): FuncBuilder {
  const f = new FuncBuilder(
    name,
    ['M4', 'n0', 'nEnd', 'K', 'pAm', 'pAk', 'pBk', 'pCm'].map((p): [string, typeof I32] => [p, I32]),
  );
  for (const v of [
    'g',
    'n',
    'k',
    'nb',
    'pk',
    'pbk',
    'ak',
    'bk',
    'am0',
    'am1',
    'am2',
    'am3',
    'cm0',
    'cm1',
    'cm2',
    'cm3',
  ])
    f.local(v, I32);
  const acc = Array.from({ length: 4 * vectors }, (_, i) => {
    f.local(`c${i}`, V128);
    return `c${i}`;
  });
  for (const v of ['b0', 'b1', 'a']) f.local(v, V128);
  const width = 4 * vectors;
  f.i32(0).set('g');
  whileLt(
    f,
    'g',
    () => f.get('M4'),
    () => {
      // Row addresses of this group of 4 rows: tab[4g + i].
      for (let i = 0; i < 4; i++) {
        for (const [tab, dst] of [
          ['pAm', `am${i}`],
          ['pCm', `cm${i}`],
        ]) {
          f.get(tab)
            .get('g')
            .i32(4)
            .op(OP.i32Shl)
            .op(OP.i32Add)
            .op(OP.i32Load, 2, i * 4)
            .set(dst);
        }
      }
      f.get('n0').set('n');
      whileLt(
        f,
        'n',
        () => f.get('nEnd'),
        () => {
          f.get('n').i32(2).op(OP.i32Shl).set('nb');
          for (const c of acc) f.f32(0).simd(SIMD.f32x4Splat).set(c);
          f.get('pAk').set('pk');
          f.get('pBk').set('pbk');
          f.i32(0).set('k');
          whileLt(
            f,
            'k',
            () => f.get('K'),
            () => {
              f.get('pk').op(OP.i32Load, 2, 0).set('ak');
              f.get('pbk').op(OP.i32Load, 2, 0).get('nb').op(OP.i32Add).set('bk');
              f.get('bk').loadV(0).set('b0');
              if (vectors === 2) f.get('bk').loadV(16).set('b1');
              for (let i = 0; i < 4; i++) {
                f.get(`am${i}`).get('ak').op(OP.i32Add).op(OP.f32Load, 2, 0).simd(SIMD.f32x4Splat).set('a');
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
              f.get('pk').i32(4).op(OP.i32Add).set('pk');
              f.get('pbk').i32(4).op(OP.i32Add).set('pbk');
            },
          );
          for (let i = 0; i < 4; i++)
            for (let j = 0; j < vectors; j++) {
              f.get(`cm${i}`)
                .get('nb')
                .op(OP.i32Add)
                .get(acc[i * vectors + j])
                .storeV(16 * j);
            }
        },
        width,
      );
    },
  );
  return f;
}

const cache = new WeakMap<object, GemmExports | null>();

/** The kernels instantiated over `memory` (null where this runtime lacks WebAssembly SIMD). */
export function gemmKernels(memory: { buffer: ArrayBuffer }): GemmExports | null {
  if (!cache.has(memory)) {
    const bytes = assembleModule([gemmFunc('gemm8', 2), gemmFunc('gemm4', 1)], 1, { importMemory: true });
    cache.set(memory, instantiateModule<GemmExports>(bytes, { env: { mem: memory } }));
  }
  return cache.get(memory)!;
}

/** Floats of executor scratch one launch needs: the four address tables and a transposed B. */
export function gemmScratch(s: GemmSpec): number {
  const tables = 2 * Math.ceil(s.M / 4) * 4 + 2 * s.K + 16;
  const bt = !('ones' in s.b) && s.b.major === 'n' ? s.K * s.N : 0;
  return tables + bt + 16;
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
 * ones); the executor then runs the kernel's JavaScript. `scratch` (absolute float index) holds its tables.
 */
export function gemmFastPath(
  k: GemmExports,
  mem: Float32Array,
  s: GemmSpec,
  scratch: number,
  base = 0,
  ctl: Uint32Array = new Uint32Array(0),
): (() => void) | null {
  if (!gemmApplies(s)) return null;
  const S = s.splits ?? 1;
  const chunk = sliceChunk(s.K, S);
  const M4 = Math.floor(s.M / 4);
  const N8 = s.N - (s.N % 8);
  const N4 = s.N - (s.N % 4);
  const i32 = new Int32Array(mem.buffer);
  // Tables (byte addresses), in scratch floats: Am [4·M4], Cm [4·M4 per slice], Ak [K], Bk [K].
  const pAm = scratch;
  const pCm = pAm + 4 * M4;
  const pAk = pCm + 4 * M4;
  const pBk = pAk + s.K;
  const pBt = pBk + s.K;
  const b = s.b as { rows: Rows; major: 'k' | 'n' }; // gemmApplies: not all ones
  const aByM = s.a.major === 'm';
  /** Addresses of a packed run's copy of the arena start at `base` (pack.ts). */
  const rowAddr = (r: Rows, i: number) => rowIn(r, i) + base;
  for (let m = 0; m < 4 * M4; m++) i32[pAm + m] = 4 * (aByM ? rowAddr(s.a.rows, m) : m);
  for (let kk = 0; kk < s.K; kk++) {
    i32[pAk + kk] = 4 * (aByM ? kk : rowAddr(s.a.rows, kk));
    i32[pBk + kk] = 4 * (b.major === 'k' ? rowAddr(b.rows, kk) : pBt + kk * s.N);
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
  /** Bias and epilogue on the stored sums of row m (the same arithmetic as epilogueAt). */
  const finish = (m: number, o: number) => {
    const N = s.N;
    if (s.bias !== undefined) for (let n = 0; n < N; n++) mem[o + n] += mem[base + s.bias + n];
    switch (e.kind) {
      case 'add': {
        const r = rRows![m];
        if (e.dropout)
          for (let n = 0; n < N; n++) mem[o + n] = mem[r + n] + mem[o + n] * maskAt(ctl, e.dropout, m * N + n);
        else for (let n = 0; n < N; n++) mem[o + n] += mem[r + n];
        break;
      }
      case 'act': {
        const x = xRows![m];
        for (let n = 0; n < N; n++) mem[x + n] = act!(mem[o + n]);
        break;
      }
      case 'act-grad': {
        const zr = xRows![m];
        for (let n = 0; n < N; n++) mem[o + n] *= actGrad!(mem[zr + n]);
        break;
      }
      case 'silu-split': {
        const x = xRows![m];
        for (let n = 0; n < e.cols; n++) {
          const v = mem[o + n];
          mem[x + n] = v / (1 + Math.exp(-v));
        }
        break;
      }
      case 'silu-grad': {
        const r = rRows![m];
        const zr = xRows![m];
        for (let n = 0; n < N; n++) {
          const z = mem[zr + n];
          const sg = 1 / (1 + Math.exp(-z));
          mem[o + n] = (mem[o + n] + mem[r + n]) * sg * (1 + z * (1 - sg));
        }
        break;
      }
    }
  };
  return () => {
    if (b.major === 'n')
      for (let n = 0; n < s.N; n++) {
        const r = bRows[n];
        for (let kk = 0; kk < s.K; kk++) mem[pBt + kk * s.N + n] = mem[r + kk];
      }
    for (let slice = 0; slice < S; slice++) {
      const k0 = slice * chunk;
      const k1 = Math.max(k0, Math.min(s.K, k0 + chunk)); // a trailing slice may be empty: it sums to 0
      const so = slice * (s.sliceStride ?? 0);
      for (let m = 0; m < 4 * M4; m++) i32[pCm + m] = 4 * (cRows[m] + so);
      if (M4 > 0) {
        if (N8 > 0) k.gemm8(M4, 0, N8, k1 - k0, 4 * pAm, 4 * (pAk + k0), 4 * (pBk + k0), 4 * pCm);
        if (N4 > N8) k.gemm4(M4, N8, N4, k1 - k0, 4 * pAm, 4 * (pAk + k0), 4 * (pBk + k0), 4 * pCm);
      }
      // The remainder in JS: rows past 4·M4 (all columns) and columns past N4 (all rows); then the epilogue.
      for (let m = 0; m < s.M; m++) {
        const o = cRows[m] + so;
        remainder(m, m < 4 * M4 ? N4 : 0, k0, k1, o);
        finish(m, o);
      }
    }
  };
}
