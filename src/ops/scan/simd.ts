/**
 * The WebAssembly SIMD selective scan for the `cpu` and `wasm` backends: same signatures as the JS loops of
 * cpu.ts, which stay as the fallback (N not a multiple of 4 or above 64, or no WebAssembly SIMD here).
 * Set DMM_SCAN_CPU=js to force the JS loops (e.g. to time them against this kernel).
 *
 * Arithmetic is float32 (the JS loops use float64); the per-element work around the recurrence
 * (softplus of Δ, σ(z), transposes of B and C, and the float64 sums for ∂D and ∂Δ-bias) runs here in JS,
 * the (b, d, l, n) loops in simd-program.ts. The backward replays h and Ā per row like the JS loops do:
 * with the vector exp, recomputing is cheaper than carrying B·d·L·N floats from the forward.
 */
import { fusedScanBackward as jsBackward, fusedScanForward as jsForward, type ScanBuffers } from './cpu';
import type { ScanDims } from './reference';
import { SIMD_MAX_STATE, scanModuleBytes } from './simd-program';
import { f32View, instantiateModule, type WasmMemory } from '../../util/wasm-assembler';

export interface ScanExports {
  mem: WasmMemory;
  scan_fwd: (...args: number[]) => void;
  scan_bwd: (...args: number[]) => void;
  softplus4: (count: number, pR: number, pDt: number, pDsp: number) => void;
  sigmoid4: (count: number, pZ: number, pSg: number) => void;
  /** dst[b, j, i] = src[b, i, j] for src [batch, p, q] (byte pointers). */
  transpose: (batch: number, p: number, q: number, pSrc: number, pDst: number) => void;
}

const instances = new Map<number, ScanExports | null>();

/** The module instantiated for state size N (null where WebAssembly SIMD is missing); exported for the tests. */
export function exportsOrNull(nState = 16): ScanExports | null {
  const have = instances.get(nState);
  if (have !== undefined) return have;
  let made: ScanExports | null = null;
  try {
    made = instantiateModule<ScanExports>(scanModuleBytes(nState));
  } catch {
    made = null; // scanModuleBytes rejects this N
  }
  instances.set(nState, made);
  return made;
}

/** Whether the SIMD kernel runs for these dims (else the JS loops do). */
export function simdScanUsable(dims: ScanDims): boolean {
  const forced = typeof process !== 'undefined' ? process.env?.DMM_SCAN_CPU : undefined;
  const n = dims.nState;
  return forced !== 'js' && n % 4 === 0 && n <= SIMD_MAX_STATE && exportsOrNull(n) !== null;
}

/** Bump allocator over the module memory, reset per call; grows the memory when needed. */
class Arena {
  private top = 0;
  private readonly spans: [number, number][] = [];
  alloc(floats: number): number {
    const ptr = this.top;
    this.spans.push([ptr, floats]);
    this.top += Math.ceil(floats / 4) * 16; // 16-byte aligned
    return ptr;
  }
  /** Grows the memory to hold everything allocated and returns a fresh f32 view. */
  view(mem: WasmMemory): Float32Array {
    return f32View(mem, this.top);
  }
}

/**
 * dt = softplus(δ + bias) (or δ + bias without softplus) into `dt`, and softplus′ into `dsp` (1 without
 * softplus). `dt` and `dsp` are views of module memory at byte offsets pDt, pDsp.
 */
function deltaStep(
  w: ScanExports,
  x: ScanBuffers,
  dims: ScanDims,
  deltaSoftplus: boolean,
  m: Float32Array,
  pDt: number,
  pDsp: number,
  pTmp?: number,
): void {
  const { batch, dim, len } = dims;
  const { delta, deltaBias } = x;
  const size = batch * dim * len;
  const dt = m.subarray(pDt / 4, pDt / 4 + size);
  if (pTmp !== undefined) {
    // Token-major δ [B, L, d]: copied in, then transposed to [B, d, L] by the module.
    m.set(delta, pTmp / 4);
    w.transpose(batch, len, dim, pTmp, pDt);
    if (deltaBias) {
      for (let b = 0, i = 0; b < batch; b++) {
        for (let d = 0; d < dim; d++) {
          const bias = deltaBias[d];
          for (let l = 0; l < len; l++, i++) dt[i] += bias;
        }
      }
    }
  } else if (deltaBias) {
    for (let b = 0, i = 0; b < batch; b++) {
      for (let d = 0; d < dim; d++) {
        const bias = deltaBias[d];
        for (let l = 0; l < len; l++, i++) dt[i] = delta[i] + bias;
      }
    }
  } else dt.set(delta);
  if (deltaSoftplus) w.softplus4(size, pDt, pDt, pDsp);
  else m.fill(1, pDsp / 4, pDsp / 4 + size);
}

/** [B, N, L] → [B, L, N] (or back with `inverse`), into `dst` at float offset `off`. */
function transposeNL(src: Float32Array, dst: Float32Array, off: number, dims: ScanDims, inverse = false): void {
  const { batch, len, nState: N } = dims;
  for (let b = 0; b < batch; b++) {
    const base = b * N * len;
    for (let n = 0; n < N; n++) {
      for (let l = 0; l < len; l++) {
        if (inverse) dst[base + n * len + l] = src[off + base + l * N + n];
        else dst[off + base + l * N + n] = src[base + n * len + l];
      }
    }
  }
}

/**
 * out[b,d,l] = (Σ_n h·C + D·u) · SiLU(z). Falls back to the JS loops when the SIMD kernel cannot run.
 * `tokenMajor`: u, delta, z, out are [B, L, d] and B, C are [B, L, N] (the program's own B/C layout, so
 * they are copied as they are); the callers check simdScanUsable first, the JS loops take channel-major only.
 */
export function fusedScanForward(
  x: ScanBuffers,
  dims: ScanDims,
  deltaSoftplus: boolean,
  out: Float32Array,
  tokenMajor = false,
): void {
  if (!simdScanUsable(dims)) {
    if (tokenMajor) throw new Error('Error in fusedScanForward: token-major needs the SIMD kernel; transpose first.');
    return jsForward(x, dims, deltaSoftplus, out);
  }
  const w = exportsOrNull(dims.nState)!;
  const { batch, dim, len, nState: N } = dims;
  const size = batch * dim * len;
  const bc = batch * N * len;
  const a = new Arena();
  const [pU, pDt, pDsp, pSg, pA, pBt, pCt, pY, pH] = [size, size, size, size, dim * N, bc, bc, size, N].map((n) =>
    a.alloc(n),
  );
  // Token-major: inputs are copied into pTmp and transposed by the module; z keeps its own region.
  const pTmp = tokenMajor ? a.alloc(size) : undefined;
  const pZ = tokenMajor && x.z ? a.alloc(size) : pY;
  const m = a.view(w.mem);
  if (pTmp !== undefined) {
    m.set(x.u, pTmp / 4);
    w.transpose(batch, len, dim, pTmp, pU);
  } else m.set(x.u, pU / 4);
  deltaStep(w, x, dims, deltaSoftplus, m, pDt, pDsp, pTmp);
  if (x.z) {
    // z channel-major at pZ (pY, free until scan_fwd, when channel-major in); σ(z) from there into pSg.
    if (pTmp !== undefined) {
      m.set(x.z, pTmp / 4);
      w.transpose(batch, len, dim, pTmp, pZ);
    } else m.set(x.z, pZ / 4);
    w.sigmoid4(size, pZ, pSg);
  }
  const zc = x.z ? (tokenMajor ? m.subarray(pZ / 4, pZ / 4 + size) : x.z) : undefined;
  m.set(x.A, pA / 4);
  if (tokenMajor) {
    m.set(x.B, pBt / 4);
    m.set(x.C, pCt / 4);
  } else {
    transposeNL(x.B, m, pBt / 4, dims);
    transposeNL(x.C, m, pCt / 4, dims);
  }
  w.scan_fwd(batch, dim, len, N, pU, pDt, pA, pBt, pCt, pY, pH);
  const D = x.D;
  const u = pU / 4;
  const y = pY / 4;
  const sg = pSg / 4;
  // Channel-major result: into `out`, or for token-major into pTmp, then transposed by the module.
  const dst = pTmp !== undefined ? m.subarray(pTmp / 4, pTmp / 4 + size) : out;
  for (let b = 0, i = 0; b < batch; b++) {
    for (let d = 0; d < dim; d++) {
      const dSkip = D ? D[d] : 0;
      if (zc) {
        for (let l = 0; l < len; l++, i++) dst[i] = (m[y + i] + dSkip * m[u + i]) * zc[i] * m[sg + i];
      } else {
        for (let l = 0; l < len; l++, i++) dst[i] = m[y + i] + dSkip * m[u + i];
      }
    }
  }
  if (pTmp !== undefined) {
    w.transpose(batch, dim, len, pTmp, pU); // u is no longer needed
    out.set(m.subarray(pU / 4, pU / 4 + size));
  }
}

/** Gradients of Σ dy·out into `g` (same contract as cpu.ts's fusedScanBackward). */
export function fusedScanBackward(
  x: ScanBuffers,
  dims: ScanDims,
  deltaSoftplus: boolean,
  dy: Float32Array,
  g: ScanBuffers,
  tokenMajor = false,
): void {
  if (!simdScanUsable(dims)) {
    if (tokenMajor) throw new Error('Error in fusedScanBackward: token-major needs the SIMD kernel; transpose first.');
    return jsBackward(x, dims, deltaSoftplus, dy, g);
  }
  const w = exportsOrNull(dims.nState)!;
  const { batch, dim, len, nState: N } = dims;
  const size = batch * dim * len;
  const bc = batch * N * len;
  const a = new Arena();
  const sizes = {
    u: size,
    dt: size,
    dsp: size,
    z: x.z ? size : 4,
    sg: x.z ? size : 4,
    dy: size,
    A: dim * N,
    D: dim,
    Bt: bc,
    Ct: bc,
    gu: size,
    gdelta: size,
    gz: x.z ? size : 4,
    dOg: size,
    dA: dim * N,
    dBt: bc,
    dCt: bc,
    hs: (len + 1) * N,
    abar: len * N,
    carry: N,
  };
  const p = {} as Record<keyof typeof sizes, number>;
  for (const [k, n] of Object.entries(sizes)) p[k as keyof typeof sizes] = a.alloc(n);
  const pTmp = tokenMajor ? a.alloc(size) : undefined; // token-major: staging for the module's transposes
  const m = a.view(w.mem);
  const at = (k: keyof typeof sizes): Float32Array => m.subarray(p[k] / 4, p[k] / 4 + sizes[k]);
  // In: token-major u, z, dy transposed into module memory; B, C already in the program's layout.
  const load = (src: Float32Array, k: 'u' | 'z' | 'dy') => {
    if (pTmp === undefined) return at(k).set(src);
    m.set(src, pTmp / 4);
    w.transpose(batch, len, dim, pTmp, p[k]);
  };
  load(x.u, 'u');
  deltaStep(w, x, dims, deltaSoftplus, m, p.dt, p.dsp, pTmp);
  if (x.z) {
    load(x.z, 'z');
    w.sigmoid4(size, p.z, p.sg);
  }
  load(dy, 'dy');
  at('A').set(x.A);
  if (x.D) at('D').set(x.D);
  else at('D').fill(0);
  if (tokenMajor) {
    at('Bt').set(x.B);
    at('Ct').set(x.C);
  } else {
    transposeNL(x.B, m, p.Bt / 4, dims);
    transposeNL(x.C, m, p.Ct / 4, dims);
  }
  at('dA').fill(0);
  at('dBt').fill(0);
  at('dCt').fill(0);
  at('hs').fill(0, 0, N);
  w.scan_bwd(
    batch,
    dim,
    len,
    N,
    x.z ? 1 : 0,
    p.u,
    p.dt,
    p.dsp,
    p.z,
    p.sg,
    p.dy,
    p.A,
    p.D,
    p.Bt,
    p.Ct,
    p.gu,
    p.gdelta,
    p.gz,
    p.dOg,
    p.dA,
    p.dBt,
    p.dCt,
    p.hs,
    p.abar,
    p.carry,
  );
  const store = (k: 'gu' | 'gdelta' | 'gz', dst: Float32Array) => {
    if (pTmp === undefined) return dst.set(at(k));
    w.transpose(batch, dim, len, p[k], pTmp);
    dst.set(m.subarray(pTmp / 4, pTmp / 4 + size));
  };
  store('gu', g.u);
  store('gdelta', g.delta);
  if (g.z) store('gz', g.z);
  g.A.set(at('dA'));
  if (tokenMajor) {
    g.B.set(at('dBt'));
    g.C.set(at('dCt'));
  } else {
    transposeNL(m, g.B, p.dBt / 4, dims, true);
    transposeNL(m, g.C, p.dCt / 4, dims, true);
  }
  if (g.D || g.deltaBias) {
    const dOg = at('dOg');
    const gd = at('gdelta');
    const u = at('u'); // channel-major in either layout
    for (let d = 0; d < dim; d++) {
      let sD = 0;
      let sBias = 0;
      for (let b = 0; b < batch; b++) {
        for (let l = 0, i = (b * dim + d) * len; l < len; l++, i++) {
          sD += dOg[i] * u[i];
          sBias += gd[i];
        }
      }
      if (g.D) g.D[d] = sD;
      if (g.deltaBias) g.deltaBias[d] = sBias;
    }
  }
}
