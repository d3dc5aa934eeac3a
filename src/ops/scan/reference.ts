/**
 * Float64 plain-JS reference of the selective scan, forward and backward, written line by line from
 * docs/spec.md §4. Every other path (fused CPU/wasm kernel, WGSL kernels, composite tfjs ops) is
 * checked against it, and it is checked against central finite differences.
 *
 * Glossary: B batch, d channels, L sequence length, N state size; u, δ, z [B,d,L]; A [d,N];
 * B, C [B,N,L]; D, β (delta bias) [d]. Row-major flat arrays.
 */

/** Sizes of one scan call. */
export interface ScanDims {
  batch: number;
  dim: number;
  len: number;
  nState: number;
}

/** Inputs as flat arrays; D, z and deltaBias are optional (absent = no skip, no gate, no bias). */
export interface ScanArrays {
  u: ArrayLike<number>;
  delta: ArrayLike<number>;
  A: ArrayLike<number>;
  B: ArrayLike<number>;
  C: ArrayLike<number>;
  D?: ArrayLike<number>;
  z?: ArrayLike<number>;
  deltaBias?: ArrayLike<number>;
}

export interface ScanGrads {
  u: Float64Array;
  delta: Float64Array;
  A: Float64Array;
  B: Float64Array;
  C: Float64Array;
  D?: Float64Array;
  z?: Float64Array;
  deltaBias?: Float64Array;
}

/** softplus as PyTorch computes it (threshold 20): ρ if ρ > 20 else log1p(exp ρ). */
export function softplus(x: number): number {
  return x > 20 ? x : Math.log1p(Math.exp(x));
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** Δ[b,d,l] (after bias and softplus) and ρ, shared by forward and backward. */
function discretisation(
  x: ScanArrays,
  dims: ScanDims,
  deltaSoftplus: boolean,
): { rho: Float64Array; dt: Float64Array } {
  const { batch, dim, len } = dims;
  const rho = new Float64Array(batch * dim * len);
  const dt = new Float64Array(rho.length);
  for (let b = 0; b < batch; b++)
    for (let d = 0; d < dim; d++)
      for (let l = 0; l < len; l++) {
        const i = (b * dim + d) * len + l;
        const r = x.delta[i] + (x.deltaBias ? x.deltaBias[d] : 0);
        rho[i] = r;
        dt[i] = deltaSoftplus ? softplus(r) : r;
      }
  return { rho, dt };
}

/** All hidden states h[b,d,l,n] and the pre-gate output o = y + D·u. */
function forwardStates(x: ScanArrays, dims: ScanDims, dt: Float64Array): { h: Float64Array; o: Float64Array } {
  const { batch, dim, len, nState: N } = dims;
  const h = new Float64Array(batch * dim * len * N);
  const o = new Float64Array(batch * dim * len);
  for (let b = 0; b < batch; b++)
    for (let d = 0; d < dim; d++)
      for (let l = 0; l < len; l++) {
        const i = (b * dim + d) * len + l;
        let y = 0;
        for (let n = 0; n < N; n++) {
          const prev = l > 0 ? h[(i - 1) * N + n] : 0;
          const bn = x.B[(b * N + n) * len + l];
          const hv = Math.exp(dt[i] * x.A[d * N + n]) * prev + dt[i] * bn * x.u[i];
          h[i * N + n] = hv;
          y += hv * x.C[(b * N + n) * len + l];
        }
        o[i] = y + (x.D ? x.D[d] * x.u[i] : 0);
      }
  return { h, o };
}

/** out[b,d,l] = (y + D·u) · SiLU(z), or y + D·u without z (docs/spec.md §4, forward). */
export function scanForwardReference(x: ScanArrays, dims: ScanDims, deltaSoftplus = true): Float64Array {
  const { dt } = discretisation(x, dims, deltaSoftplus);
  const { o } = forwardStates(x, dims, dt);
  if (!x.z) return o;
  const out = new Float64Array(o.length);
  for (let i = 0; i < o.length; i++) out[i] = o[i] * x.z[i] * sigmoid(x.z[i]);
  return out;
}

/** Gradients of Σ G·out with respect to every input (docs/spec.md §4, backward), given G = ∂ℒ/∂out. */
export function scanBackwardReference(
  x: ScanArrays,
  dims: ScanDims,
  G: ArrayLike<number>,
  deltaSoftplus = true,
): ScanGrads {
  const { batch, dim, len, nState: N } = dims;
  const { rho, dt } = discretisation(x, dims, deltaSoftplus);
  const { h, o } = forwardStates(x, dims, dt);
  const size = batch * dim * len;
  const g: ScanGrads = {
    u: new Float64Array(size),
    delta: new Float64Array(size),
    A: new Float64Array(dim * N),
    B: new Float64Array(batch * N * len),
    C: new Float64Array(batch * N * len),
  };
  if (x.D) g.D = new Float64Array(dim);
  if (x.z) g.z = new Float64Array(size);
  if (x.deltaBias) g.deltaBias = new Float64Array(dim);
  const dO = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    if (x.z) {
      const s = sigmoid(x.z[i]);
      g.z![i] = G[i] * o[i] * s * (1 + x.z[i] * (1 - s));
      dO[i] = G[i] * x.z[i] * s;
    } else {
      dO[i] = G[i];
    }
  }
  const hHat = new Float64Array(N);
  for (let b = 0; b < batch; b++)
    for (let d = 0; d < dim; d++) {
      hHat.fill(0);
      for (let l = len - 1; l >= 0; l--) {
        const i = (b * dim + d) * len + l;
        let sumHB = 0;
        let dDt = 0;
        for (let n = 0; n < N; n++) {
          const bc = (b * N + n) * len + l;
          const a = x.A[d * N + n];
          // ĥ[l] = ∂y[l]·C[l] + Ā[l+1]·ĥ[l+1]
          const next = l + 1 < len ? Math.exp(dt[i + 1] * a) * hHat[n] : 0;
          const hh = dO[i] * x.C[bc] + next;
          hHat[n] = hh;
          const prev = l > 0 ? h[(i - 1) * N + n] : 0;
          const abar = Math.exp(dt[i] * a);
          g.C[bc] += dO[i] * h[i * N + n];
          sumHB += hh * x.B[bc];
          dDt += hh * (a * abar * prev + x.B[bc] * x.u[i]);
          g.A[d * N + n] += hh * dt[i] * abar * prev;
          g.B[bc] += hh * dt[i] * x.u[i];
        }
        g.u[i] = dO[i] * (x.D ? x.D[d] : 0) + dt[i] * sumHB;
        if (g.D) g.D[d] += dO[i] * x.u[i];
        const dRho = deltaSoftplus ? (rho[i] > 20 ? dDt : dDt * sigmoid(rho[i])) : dDt;
        g.delta[i] = dRho;
        if (g.deltaBias) g.deltaBias[d] += dRho;
      }
    }
  return g;
}
