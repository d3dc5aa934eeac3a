/**
 * The engine's matrix product, C(m, n) = Σ_k A(m, k)·B(k, n) (+ bias[n]), with an epilogue. Every product of
 * a DMM step is one of these: forward x·Wᵀ (A rows by m, B = a PyTorch weight [out, in] with rows by n), input
 * gradients dY·W (B rows by k), weight gradients dYᵀ·X (A and B both token rows by k, the reduction over the
 * B·L tokens split into slices summed later by the optimiser's gradient pass).
 *
 * The DSM window product is this product on a strided view (docs/spec.md §3.2): with k − 1 zero rows before each
 * sequence, the window of token i, [U_{i−k+1}; …; U_i], is k·D contiguous floats starting at row i, so A's rows
 * are k·D long but D apart. Its input gradient uses the same view over dY padded after each sequence.
 *
 * GPU: a tiled kernel, 16 × 16 threads with TM × TN outputs each, BK-deep tiles of A and B in workgroup memory,
 * the split index in the grid's z. Each output is one sequential float32 sum over k (per slice).
 */
import { rowAddr, type FloatArray, type GpuDispatch, type Kernel, type Rows } from '../program';
import { activation, activationGrad, activationWgsl, type Activation } from './activation';
import { maskAt, maskWgsl, type DropoutSpec } from './dropout';
import { ENTRY_ARGS, HEADER, rowFn } from './wgsl';

/** A(m, k): rows by m (`m`: mem[row(m) + k]) or by k (`k`: mem[row(k) + m]). */
export interface OperandA {
  rows: Rows;
  major: 'm' | 'k';
}
/** B(k, n): rows by k (`k`: mem[row(k) + n]), rows by n (`n`: mem[row(n) + k]), or all ones (column sums). */
export type OperandB = { rows: Rows; major: 'k' | 'n' } | { ones: true };

export type Epilogue =
  /** C = acc */
  | { kind: 'store' }
  /** C = R(m, n) + acc·mask(m·N + n): a residual connection, the branch optionally dropped out. */
  | { kind: 'add'; r: Rows; dropout?: DropoutSpec }
  /** C = acc, and S(m, n) = SiLU(acc) for n < cols: Mamba's in_proj, x = SiLU(x) on the first half. */
  | { kind: 'silu-split'; cols: number; s: Rows }
  /** C = (acc + R(m, n))·SiLU′(Z(m, n)): the gradient through x = SiLU(x_pre), with a second term R. */
  | { kind: 'silu-grad'; r: Rows; z: Rows }
  /** C = acc, and S(m, n) = act(acc): an MLP's first layer, keeping the pre-activation for the backward pass. */
  | { kind: 'act'; fn: Activation; s: Rows }
  /** C = acc·act′(Z(m, n)): the gradient through S = act(Z). */
  | { kind: 'act-grad'; fn: Activation; z: Rows };

export interface GemmSpec {
  M: number;
  N: number;
  K: number;
  a: OperandA;
  b: OperandB;
  /** C(m, n) of slice s at row(m) + n + s·sliceStride. */
  out: Rows;
  /** Reduction slices (weight gradients); each sums its own range of k. Default 1. */
  splits?: number;
  sliceStride?: number;
  /** Arena offset of a bias vector [N] added to every row. */
  bias?: number;
  epilogue?: Epilogue;
}

/** The reduction range of slice s: k ∈ [s·chunk, min(K, (s+1)·chunk)). */
export function sliceChunk(K: number, splits: number): number {
  return Math.ceil(K / splits / 16) * 16;
}

/**
 * The GPU tiling's three knobs. `bench/engine.ts --gemm-tuning` sweeps them on the host at hand; the defaults are
 * the best whole-step rate of the sweep on the H200 (docs/engine.md, Speed; bench/results/h200-2026-12-03-tuning/).
 */
export interface GemmTuning {
  /** Workgroups a weight-gradient product should fill, by splitting its reduction over tokens. */
  splitWorkgroups: number;
  /** Largest per-thread tile side (TM, TN ≤ this; 16 × 16 threads, so tiles of up to 16·maxTile square). */
  maxTile: number;
  /** Fewer workgroups than this (over all packed runs) and TM halves, trading arithmetic density for occupancy. */
  minWorkgroups: number;
}
export const DEFAULT_GEMM_TUNING: Readonly<GemmTuning> = Object.freeze({
  splitWorkgroups: 1024,
  maxTile: 4,
  minWorkgroups: 128,
});
let tuning: GemmTuning = { ...DEFAULT_GEMM_TUNING };

/** Sets the knobs for programs built from now on (benchmarks only; `{}` restores the defaults); returns them. */
export function setGemmTuning(t: Partial<GemmTuning>): Readonly<GemmTuning> {
  tuning = { ...DEFAULT_GEMM_TUNING, ...t };
  if (![1, 2, 4, 8].includes(tuning.maxTile))
    throw new Error(`Error in setGemmTuning: maxTile must be 1, 2, 4 or 8, got ${tuning.maxTile}.`);
  return { ...tuning };
}

/** How many reduction slices a weight-gradient product gets on the GPU: enough workgroups to fill it. */
export function gpuSplits(M: number, N: number, K: number): number {
  const { BM, BN } = tiling(M, N, 1);
  const tiles = Math.ceil(M / BM) * Math.ceil(N / BN);
  const want = Math.ceil(tuning.splitWorkgroups / tiles);
  return Math.max(1, Math.min(want, Math.floor(K / 128)));
}

function aAt(mem: FloatArray, a: OperandA, m: number, k: number): number {
  return a.major === 'm' ? mem[rowAddr(a.rows, m) + k] : mem[rowAddr(a.rows, k) + m];
}
function bAt(mem: FloatArray, b: OperandB, k: number, n: number): number {
  if ('ones' in b) return 1;
  return b.major === 'k' ? mem[rowAddr(b.rows, k) + n] : mem[rowAddr(b.rows, n) + k];
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Applies the epilogue to one output value (shared by the reference and the CPU executor's fast path). */
export function epilogueAt(
  mem: FloatArray,
  ctl: Uint32Array,
  spec: GemmSpec,
  m: number,
  n: number,
  acc: number,
  slice = 0,
): void {
  const e = spec.epilogue ?? { kind: 'store' };
  const o = rowAddr(spec.out, m) + n + slice * (spec.sliceStride ?? 0);
  const v = spec.bias !== undefined ? acc + mem[spec.bias + n] : acc;
  switch (e.kind) {
    case 'store':
      mem[o] = v;
      break;
    case 'add':
      mem[o] = mem[rowAddr(e.r, m) + n] + v * maskAt(ctl, e.dropout, m * spec.N + n);
      break;
    case 'silu-split':
      mem[o] = v;
      if (n < e.cols) mem[rowAddr(e.s, m) + n] = v * sigmoid(v);
      break;
    case 'silu-grad': {
      const t = v + mem[rowAddr(e.r, m) + n];
      const z = mem[rowAddr(e.z, m) + n];
      const s = sigmoid(z);
      mem[o] = t * s * (1 + z * (1 - s));
      break;
    }
    case 'act':
      mem[o] = v;
      mem[rowAddr(e.s, m) + n] = activation(e.fn)(v);
      break;
    case 'act-grad':
      mem[o] = v * activationGrad(e.fn)(mem[rowAddr(e.z, m) + n]);
      break;
  }
}

function run(mem: FloatArray, ctl: Uint32Array, spec: GemmSpec): void {
  const S = spec.splits ?? 1;
  const chunk = sliceChunk(spec.K, S);
  for (let s = 0; s < S; s++) {
    const k0 = s * chunk;
    const k1 = Math.min(spec.K, k0 + chunk);
    for (let m = 0; m < spec.M; m++)
      for (let n = 0; n < spec.N; n++) {
        let acc = 0;
        for (let k = k0; k < k1; k++) acc += aAt(mem, spec.a, m, k) * bAt(mem, spec.b, k, n);
        epilogueAt(mem, ctl, spec, m, n, acc, s);
      }
  }
}

/** Tile shape: TM × TN outputs per thread, 16 × 16 threads. */
function tiling(M: number, N: number, splits: number, runs = 1): { TM: number; TN: number; BM: number; BN: number } {
  let TN = 1;
  while (TN < tuning.maxTile && N > 16 * TN) TN *= 2;
  const tilesN = Math.ceil(N / (16 * TN));
  let TM = tuning.maxTile;
  // Smaller tiles until the grid (over all packed runs) has workgroups for the GPU's ~130 multiprocessors.
  while (TM > 1 && Math.ceil(M / (16 * TM)) * tilesN * splits * runs < tuning.minWorkgroups) TM /= 2;
  return { TM, TN, BM: 16 * TM, BN: 16 * TN };
}

function wgsl(spec: GemmSpec, ctx?: { runs: number }): GpuDispatch[] {
  const S = spec.splits ?? 1;
  const { TM, TN, BM, BN } = tiling(spec.M, spec.N, S, ctx?.runs);
  // Reduction depth per tile: 16, or 8 for 128-wide tiles, so A's and B's tiles stay within WebGPU's default
  // 16 KiB of workgroup memory.
  const BK = Math.max(BM, BN) > 64 ? 8 : 16;
  const chunk = sliceChunk(spec.K, S);
  const e = spec.epilogue ?? { kind: 'store' };
  const ones = 'ones' in spec.b;
  const fns = [rowFn('rowA', spec.a.rows), rowFn('rowC', spec.out)];
  if (!('ones' in spec.b)) fns.push(rowFn('rowB', spec.b.rows));
  if (e.kind === 'add') fns.push(rowFn('rowR', e.r));
  if (e.kind === 'silu-split') fns.push(rowFn('rowS', e.s));
  if (e.kind === 'silu-grad') fns.push(rowFn('rowR', e.r), rowFn('rowZ', e.z));
  if (e.kind === 'add') fns.push(maskWgsl(e.dropout));
  if (e.kind === 'act') fns.push(rowFn('rowS', e.s), activationWgsl(e.fn));
  if (e.kind === 'act-grad') fns.push(rowFn('rowZ', e.z), activationWgsl(e.fn));
  const aLoad =
    spec.a.major === 'm'
      ? `let mi = i / ${BK}u; let ki = i % ${BK}u; let m = m0 + mi; let k = k0 + ki;
         var v = 0.0; if (m < ${spec.M}u && k < k1) { v = M[rowA(m) + i32(k)]; }`
      : `let ki = i / ${BM}u; let mi = i % ${BM}u; let m = m0 + mi; let k = k0 + ki;
         var v = 0.0; if (m < ${spec.M}u && k < k1) { v = M[rowA(k) + i32(m)]; }`;
  const bLoad = ones
    ? `let ki = i / ${BN}u; let ni = i % ${BN}u; let n = n0 + ni; let k = k0 + ki;
       var v = 0.0; if (n < ${spec.N}u && k < k1) { v = 1.0; }`
    : (spec.b as { major: string }).major === 'k'
      ? `let ki = i / ${BN}u; let ni = i % ${BN}u; let n = n0 + ni; let k = k0 + ki;
         var v = 0.0; if (n < ${spec.N}u && k < k1) { v = M[rowB(k) + i32(n)]; }`
      : `let ni = i / ${BK}u; let ki = i % ${BK}u; let n = n0 + ni; let k = k0 + ki;
         var v = 0.0; if (n < ${spec.N}u && k < k1) { v = M[rowB(n) + i32(k)]; }`;
  const bias = spec.bias !== undefined ? `v = v + M[${spec.bias}u + n];` : '';
  const store = {
    store: `M[o] = v;`,
    add: `M[o] = M[rowR(m) + i32(n)] + v * maskAt(m * ${spec.N}u + n);`,
    'silu-split': `M[o] = v;${e.kind === 'silu-split' ? ` if (n < ${e.cols}u) { M[rowS(m) + i32(n)] = v * sigm(v); }` : ''}`,
    'silu-grad': `let t = v + M[rowR(m) + i32(n)]; let z = M[rowZ(m) + i32(n)]; let s = sigm(z);
                  M[o] = t * s * (1.0 + z * (1.0 - s));`,
    act: `M[o] = v; M[rowS(m) + i32(n)] = act(v);`,
    'act-grad': `M[o] = v * actGrad(M[rowZ(m) + i32(n)]);`,
  }[e.kind];
  const tilesM = Math.ceil(spec.M / BM);
  const tilesN = Math.ceil(spec.N / BN);
  // Tile rows in workgroup memory, padded by two floats where consecutive threads store down a column (A by
  // m, B by n): unpadded, a warp's stores stride a multiple of 32 floats and hit one bank 16 times; with the
  // pad, its 16 k's take the even (or odd) banks, the two rows of the warp the others.
  const AS = spec.a.major === 'm' ? BM + 2 : BM;
  const BS = !ones && (spec.b as { major: string }).major === 'n' ? BN + 2 : BN;
  const code = `${HEADER}${fns.join('')}
var<workgroup> As: array<f32, ${BK * AS}>;
var<workgroup> Bs: array<f32, ${BK * BS}>;
@compute @workgroup_size(16, 16)
fn main(${ENTRY_ARGS}) {
  let tx = lid.x;
  let ty = lid.y;
  let tid = ty * 16u + tx;
  let m0 = wid.x * ${BM}u;
  let n0 = wid.y * ${BN}u;
  let s = wid.z;
  let kBegin = s * ${chunk}u;
  let k1 = min(${spec.K}u, kBegin + ${chunk}u);
  var acc: array<f32, ${TM * TN}>;
  for (var k0 = kBegin; k0 < k1; k0 += ${BK}u) {
    for (var i = tid; i < ${BM * BK}u; i += 256u) { ${aLoad} As[ki * ${AS}u + mi] = v; }
    for (var i = tid; i < ${BN * BK}u; i += 256u) { ${bLoad} Bs[ki * ${BS}u + ni] = v; }
    workgroupBarrier();
    for (var kk = 0u; kk < ${BK}u; kk++) {
      var av: array<f32, ${TM}>;
      for (var p = 0u; p < ${TM}u; p++) { av[p] = As[kk * ${AS}u + ty + 16u * p]; }
      for (var q = 0u; q < ${TN}u; q++) {
        let bv = Bs[kk * ${BS}u + tx + 16u * q];
        for (var p = 0u; p < ${TM}u; p++) { acc[p * ${TN}u + q] += av[p] * bv; }
      }
    }
    workgroupBarrier();
  }
  for (var p = 0u; p < ${TM}u; p++) {
    for (var q = 0u; q < ${TN}u; q++) {
      let m = m0 + ty + 16u * p;
      let n = n0 + tx + 16u * q;
      if (m < ${spec.M}u && n < ${spec.N}u) {
        var v = acc[p * ${TN}u + q];
        ${bias}
        let o = rowC(m) + i32(n) + i32(s) * ${spec.sliceStride ?? 0};
        ${store}
      }
    }
  }
}
`;
  return [{ code, workgroups: [tilesM, tilesN, S] }];
}

export const gemm: Kernel<GemmSpec> = { name: 'gemm', run, wgsl };
