/**
 * The CPU executor's selective scan: the kit's WebAssembly SIMD scan (src/ops/scan/simd.ts, token-major, the
 * kernel the tfjs path runs on cpu/wasm) on the launch's buffers. The adapter gathers the launch's operands
 * from the arena (δ = W_dt·δ_low, B and C out of x_proj's output, z out of in_proj's), calls the kernel in its
 * own module memory, and scatters the results back, so every output of kernels/scan.ts's launch is written:
 * forward out, ρ and o; backward ∂u, ∂ρ, ∂z, ∂B | ∂C (one group) and the ∂A_log, ∂D, ∂b_dt sums (one slice).
 */
import { fusedScanBackward, fusedScanForward, simdScanUsable } from '../../ops/scan/simd';
import { rowAddr, type Rows } from '../program';
import type { ScanBackwardSpec, ScanSpec } from '../kernels/scan';
import { packFloats, runProduct, type GemmExports, type Product } from './gemm';

function gather(mem: Float32Array, rows: Rows, count: number, cols: number, col0 = 0): Float32Array {
  const out = new Float32Array(count * cols);
  for (let t = 0; t < count; t++) {
    const o = rowAddr(rows, t) + col0;
    out.set(mem.subarray(o, o + cols), t * cols);
  }
  return out;
}

function scatter(mem: Float32Array, rows: Rows, count: number, cols: number, src: Float32Array): void {
  for (let t = 0; t < count; t++) mem.set(src.subarray(t * cols, (t + 1) * cols), rowAddr(rows, t));
}

/**
 * δ = δ_low·W_dtᵀ ([T, E]) as a blocked SIMD product (cpu/gemm.ts) into the shared buffer at `at` (its packing
 * buffers after it), tables in the launch's own scratch. Null when no SIMD product runs here (then JS sums it).
 */
function deltaProduct(
  k: GemmExports | null,
  mem: Float32Array,
  s: ScanSpec,
  scratch: number,
  at: number,
  base: number,
) {
  if (!k || s.E % 4 !== 0) return null;
  const { E, R } = s;
  const T = s.B * s.L;
  const i32 = new Int32Array(mem.buffer);
  const T4 = Math.ceil(T / 4) * 4;
  const E8 = Math.ceil(E / 8) * 8;
  const pAm = scratch;
  const pCm = pAm + T4;
  const pK4 = pCm + T4;
  const pBn = pK4 + R;
  for (let t = 0; t < T4; t++) {
    i32[pAm + t] = 4 * (base + rowAddr(s.xd, Math.min(t, T - 1)));
    i32[pCm + t] = 4 * (at + Math.min(t, T - 1) * E); // padding rows recompute the last row's δ
  }
  for (let r = 0; r < R; r++) i32[pK4 + r] = 4 * r;
  for (let d = 0; d < E8; d++) i32[pBn + d] = 4 * (base + s.wdt + Math.min(d, E - 1) * R);
  const t: Product = { G: T4 / 4, P: Math.floor(E / 8), half: E % 8 === 4, K: R, pAm, pAk: pK4, pCm, b: { pBn, pK4 } };
  const delta = mem.subarray(at, at + T * E);
  return () => {
    runProduct(k, t, at + T * E);
    return delta;
  };
}

/** Scratch floats of a scan launch of its own (the δ product's tables) and of the shared buffers. */
export function scanScratch(s: ScanSpec): number {
  const T4 = Math.ceil((s.B * s.L) / 4) * 4;
  return 2 * T4 + s.R + Math.ceil(s.E / 8) * 8 + 16;
}
export function scanSharedScratch(s: ScanSpec): number {
  return s.B * s.L * s.E + packFloats(s.B * s.L, s.E, s.R);
}

/** The scan's inputs in the SIMD kernel's token-major layout (δ from `delta` when the SIMD product runs). */
function operands(mem: Float32Array, s: ScanSpec, deltaOf: (() => Float32Array) | null) {
  const { B, L, E, N, R } = s;
  const T = B * L;
  const xd = gather(mem, s.xd, T, R + 2 * N);
  const delta = deltaOf ? deltaOf() : new Float32Array(T * E);
  const Bm = new Float32Array(T * N);
  const Cm = new Float32Array(T * N);
  const wdt = mem.subarray(s.wdt, s.wdt + E * R);
  for (let t = 0; t < T; t++) {
    const x = t * (R + 2 * N);
    if (!deltaOf)
      for (let d = 0; d < E; d++) {
        let acc = 0;
        for (let r = 0; r < R; r++) acc += wdt[d * R + r] * xd[x + r];
        delta[t * E + d] = acc;
      }
    Bm.set(xd.subarray(x + R, x + R + N), t * N);
    Cm.set(xd.subarray(x + R + N, x + R + 2 * N), t * N);
  }
  const A = new Float32Array(E * N);
  for (let i = 0; i < E * N; i++) A[i] = -Math.exp(mem[s.alog + i]);
  return {
    u: gather(mem, s.u, T, E),
    delta,
    A,
    B: Bm,
    C: Cm,
    D: mem.slice(s.dskip, s.dskip + E),
    deltaBias: mem.slice(s.bdt, s.bdt + E),
    z: gather(mem, s.z, T, E),
  };
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Null when the SIMD scan does not take this state size (the kernel's JavaScript runs then). */
/**
 * The scan launch over packed run `view` (the arena from its base); `k`, `full`, `scratch`, `shared`, `base`: the
 * SIMD product for δ, over the whole memory (float indices).
 */
export function scanForwardFastPath(
  mem: Float32Array,
  s: ScanSpec,
  k: GemmExports | null = null,
  full?: Float32Array,
  scratch = 0,
  shared = 0,
  base = 0,
): (() => void) | null {
  const dims = { batch: s.B, dim: s.E, len: s.L, nState: s.N };
  if (!simdScanUsable(dims)) return null;
  const T = s.B * s.L;
  const deltaOf = full ? deltaProduct(k, full, s, scratch, shared, base) : null;
  return () => {
    const x = operands(mem, s, deltaOf);
    const o = new Float32Array(T * s.E);
    fusedScanForward({ ...x, z: undefined }, dims, true, o, true); // o = y + D·u; the gate below
    for (let t = 0; t < T; t++) {
      const out = rowAddr(s.out, t);
      const zo = t * s.E;
      for (let d = 0; d < s.E; d++) {
        const z = x.z[zo + d];
        mem[out + d] = o[zo + d] * z * sigmoid(z);
      }
      if (s.rho) {
        const r = rowAddr(s.rho, t);
        for (let d = 0; d < s.E; d++) mem[r + d] = x.delta[zo + d] + x.deltaBias[d];
      }
    }
    if (s.o) scatter(mem, s.o, T, s.E, o);
  };
}

export function scanBackwardFastPath(
  mem: Float32Array,
  s: ScanBackwardSpec,
  k: GemmExports | null = null,
  full?: Float32Array,
  scratch = 0,
  shared = 0,
  base = 0,
): (() => void) | null {
  const dims = { batch: s.B, dim: s.E, len: s.L, nState: s.N };
  if (!simdScanUsable(dims) || s.groupChannels < s.E || s.batchSlices !== 1) return null;
  const { E, N } = s;
  const T = s.B * s.L;
  const deltaOf = full ? deltaProduct(k, full, s, scratch, shared, base) : null;
  return () => {
    const x = operands(mem, s, deltaOf);
    const g = {
      u: new Float32Array(T * E),
      delta: new Float32Array(T * E),
      A: new Float32Array(E * N),
      B: new Float32Array(T * N),
      C: new Float32Array(T * N),
      D: new Float32Array(E),
      z: new Float32Array(T * E),
      deltaBias: new Float32Array(E),
    };
    fusedScanBackward(x, dims, true, gather(mem, s.dout, T, E), g, true);
    scatter(mem, s.du, T, E, g.u);
    scatter(mem, s.drho, T, E, g.delta);
    scatter(mem, s.dz, T, E, g.z);
    for (let t = 0; t < T; t++) {
      mem.set(g.B.subarray(t * N, (t + 1) * N), s.dbc + t * 2 * N);
      mem.set(g.C.subarray(t * N, (t + 1) * N), s.dbc + t * 2 * N + N);
    }
    for (let i = 0; i < E * N; i++) mem[s.dalog + i] = g.A[i] * x.A[i]; // ∂A_log = ∂A·A (A = −exp(A_log))
    mem.set(g.D, s.dd);
    mem.set(g.deltaBias, s.dbdt);
  };
}
