/**
 * The fused CPU selective scan: typed-array loops, forward and backward, no tensor ops (docs/spec.md §4).
 * Used by the `cpu` and `wasm` backends' kernels (cpu-kernels.ts). Arithmetic runs in float64 (JS numbers)
 * on float32 storage.
 *
 * Why the backward recomputes h instead of saving it: the forward kernel returns only `out`, so the
 * backward replays the recurrence of one (b, d) row into a small scratch (L·N values, reused across rows
 * and calls) and then runs the reverse recurrence over it. One exp per (b, d, l, n) in each direction.
 * Ā·h[l−1] is taken as h[l] − Δ·B·u, so the reverse pass needs h[l] only.
 */
import type { ScanDims } from './reference';

export interface ScanBuffers {
  u: Float32Array;
  delta: Float32Array;
  A: Float32Array;
  B: Float32Array;
  C: Float32Array;
  D?: Float32Array;
  z?: Float32Array;
  deltaBias?: Float32Array;
}

export type ScanGradBuffers = ScanBuffers;

// exp for Ā = exp(Δ·A), the hot spot of both directions (one per (b, d, l, n)): V8's Math.exp costs about
// 4× this. exp(x) = 2^(k/64) · e^f with k = round(64x/ln 2), |f| ≤ ln2/128, e^f by a degree-4 polynomial;
// relative error below 1e-13 (test/ops/scan-cpu-kernel.test.ts), far under float32 rounding.
const EXP_K = 64 / Math.LN2;
const EXP_LN2_64 = Math.LN2 / 64;
const EXP_FRAC = Float64Array.from({ length: 64 }, (_, j) => Math.pow(2, j / 64));
const EXP_POW2 = Float64Array.from({ length: 2200 }, (_, i) => Math.pow(2, i - 1100));

export function fastExp(x: number): number {
  const xc = x > -745 ? (x < 709.7 ? x : 709.7) : x !== x ? x : -745;
  const kf = Math.floor(xc * EXP_K + 0.5);
  const f = xc - kf * EXP_LN2_64;
  const k = kf | 0;
  return EXP_POW2[(k >> 6) + 1100] * EXP_FRAC[k & 63] * (1 + f * (1 + f * (0.5 + f * (1 / 6 + f * (1 / 24)))));
}

// Scratch reused across calls (the models call the scan every training step at the same shapes).
let scratch = new Float64Array(0);
function getScratch(n: number): Float64Array {
  if (scratch.length < n) scratch = new Float64Array(Math.max(n, 2 * scratch.length));
  return scratch;
}

/** out[b,d,l] = (Σ_n h·C + D·u) · SiLU(z). */
export function fusedScanForward(x: ScanBuffers, dims: ScanDims, deltaSoftplus: boolean, out: Float32Array): void {
  const { batch, dim, len, nState: N } = dims;
  const { u, delta, A, B, C, D, z, deltaBias } = x;
  const h = getScratch(N);
  for (let b = 0; b < batch; b++) {
    const bcBase = b * N * len;
    for (let d = 0; d < dim; d++) {
      const base = (b * dim + d) * len;
      const aBase = d * N;
      const bias = deltaBias ? deltaBias[d] : 0;
      const dSkip = D ? D[d] : 0;
      h.fill(0, 0, N);
      for (let l = 0; l < len; l++) {
        const i = base + l;
        const r = delta[i] + bias;
        const dt = deltaSoftplus ? (r > 20 ? r : Math.log1p(Math.exp(r))) : r;
        const uu = u[i];
        const dtu = dt * uu;
        let y = 0;
        for (let n = 0, idx = bcBase + l; n < N; n++, idx += len) {
          const hv = fastExp(dt * A[aBase + n]) * h[n] + dtu * B[idx];
          h[n] = hv;
          y += hv * C[idx];
        }
        const o = y + dSkip * uu;
        if (z) {
          const zz = z[i];
          out[i] = (o * zz) / (1 + Math.exp(-zz));
        } else {
          out[i] = o;
        }
      }
    }
  }
}

/**
 * Gradients of Σ dy·out. `g` holds output buffers: u, delta, z [B,d,L] are written; A, B, C, D,
 * deltaBias are written after accumulating in float64.
 */
export function fusedScanBackward(
  x: ScanBuffers,
  dims: ScanDims,
  deltaSoftplus: boolean,
  dy: Float32Array,
  g: ScanGradBuffers,
): void {
  const { batch, dim, len, nState: N } = dims;
  const { u, delta, A, B, C, D, z, deltaBias } = x;
  const LN = len * N;
  const bcSize = batch * N * len;
  // scratch layout: hs [L·N] | abar [L·N] | carry [N] | dA [d·N] | dB [B·N·L] | dC [B·N·L] | dD [d] | dBias [d]
  const s = getScratch(2 * LN + N + dim * N + 2 * bcSize + 2 * dim);
  const oHs = 0;
  const oAbar = LN;
  const oCarry = 2 * LN;
  const oDA = oCarry + N;
  const oDB = oDA + dim * N;
  const oDC = oDB + bcSize;
  const oDD = oDC + bcSize;
  const oDBias = oDD + dim;
  s.fill(0, oDA, oDBias + dim);
  for (let b = 0; b < batch; b++) {
    const bcBase = b * N * len;
    for (let d = 0; d < dim; d++) {
      const base = (b * dim + d) * len;
      const aBase = d * N;
      const bias = deltaBias ? deltaBias[d] : 0;
      const dSkip = D ? D[d] : 0;
      // Replay the forward recurrence of this row: hs[l,n] = h[l,n], abar[l,n] = Ā[l,n].
      for (let l = 0; l < len; l++) {
        const i = base + l;
        const r = delta[i] + bias;
        const dt = deltaSoftplus ? (r > 20 ? r : Math.log1p(Math.exp(r))) : r;
        const dtu = dt * u[i];
        const row = oHs + l * N;
        const prevRow = row - N;
        for (let n = 0, idx = bcBase + l; n < N; n++, idx += len) {
          const ab = fastExp(dt * A[aBase + n]);
          s[oAbar + l * N + n] = ab;
          s[row + n] = (l > 0 ? ab * s[prevRow + n] : 0) + dtu * B[idx];
        }
      }
      // Reverse recurrence: ĥ[l] = ∂y[l]·C[l] + Ā[l+1]·ĥ[l+1]; carry[n] holds Ā[l+1]·ĥ[l+1].
      s.fill(0, oCarry, oCarry + N);
      let dDsum = 0;
      let dBiasSum = 0;
      for (let l = len - 1; l >= 0; l--) {
        const i = base + l;
        const r = delta[i] + bias;
        const dt = deltaSoftplus ? (r > 20 ? r : Math.log1p(Math.exp(r))) : r;
        const uu = u[i];
        const row = oHs + l * N;
        let dO = dy[i];
        if (z) {
          let y = 0;
          for (let n = 0, idx = bcBase + l; n < N; n++, idx += len) y += s[row + n] * C[idx];
          const o = y + dSkip * uu;
          const zz = z[i];
          const sg = 1 / (1 + Math.exp(-zz));
          g.z![i] = dO * o * sg * (1 + zz * (1 - sg));
          dO = dO * zz * sg;
        }
        let sumHB = 0;
        let dDt = 0;
        for (let n = 0, idx = bcBase + l; n < N; n++, idx += len) {
          const hh = dO * C[idx] + s[oCarry + n];
          const hv = s[row + n];
          const bn = B[idx];
          const prevTerm = l > 0 ? hv - dt * bn * uu : 0; // Ā[l]·h[l−1]
          s[oDC + idx] += dO * hv;
          sumHB += hh * bn;
          dDt += hh * (A[aBase + n] * prevTerm + bn * uu);
          s[oDA + aBase + n] += hh * dt * prevTerm;
          s[oDB + idx] += hh * dt * uu;
          s[oCarry + n] = s[oAbar + l * N + n] * hh;
        }
        g.u[i] = dO * dSkip + dt * sumHB;
        dDsum += dO * uu;
        const dRho = deltaSoftplus && r <= 20 ? dDt / (1 + Math.exp(-r)) : dDt;
        g.delta[i] = dRho;
        dBiasSum += dRho;
      }
      s[oDD + d] += dDsum;
      s[oDBias + d] += dBiasSum;
    }
  }
  for (let k = 0; k < dim * N; k++) g.A[k] = s[oDA + k];
  for (let k = 0; k < bcSize; k++) {
    g.B[k] = s[oDB + k];
    g.C[k] = s[oDC + k];
  }
  if (g.D) for (let k = 0; k < dim; k++) g.D[k] = s[oDD + k];
  if (g.deltaBias) for (let k = 0; k < dim; k++) g.deltaBias[k] = s[oDBias + k];
}
