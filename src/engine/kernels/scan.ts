/**
 * The selective scan of DMM's Mamba block (docs/spec.md §3.3, §4), forward and backward, on the token rows of the
 * step's buffers, with dt_proj folded in: ρ[t, d] = Σ_r W_dt[d, r]·δ_low[t, r] + b_dt[d], Δ = softplus(ρ),
 *
 *   h[n] ← exp(Δ·A[d, n])·h[n] + Δ·B[t, n]·u[t, d],  A = −exp(A_log);  y = Σ_n h[n]·C[t, n]
 *   o = y + D[d]·u;  out = o·SiLU(z)
 *
 * over the L tokens of each sequence (t = b·L + l). δ_low, B and C are the column blocks of x_proj's output
 * [T, r + 2N], as the official code splits it. The forward saves ρ and o; the backward replays h per thread
 * and runs the adjoint recurrence ĥ[l] = ∂o·C + Ā[l+1]·ĥ[l+1] of docs/spec.md §4, writing ∂u, ∂ρ, ∂z, and partial
 * sums of ∂B, ∂C (over channel groups), ∂A_log, ∂D and ∂b_dt (over the batch rows) that later kernels sum.
 *
 * GPU: one workgroup per (batch row, group of CH channels), one thread per (channel, state n); sums over n
 * (y, ∂u, ∂Δ) and over channels (∂B, ∂C) are reductions in workgroup memory over blocks of steps. A thread
 * keeps its sequence's h and Δ in private arrays (L ≤ a few hundred tokens in every experiment).
 */
import { rowAddr, type FloatArray, type GpuDispatch, type Kernel, type Rows } from '../program';
import { ENTRY_ARGS, GRID_ID, HEADER, foldGrid, rowFn } from './wgsl';

export interface ScanSpec {
  B: number;
  L: number;
  E: number;
  N: number;
  /** dt rank r. */
  R: number;
  u: Rows;
  /** x_proj output rows [T, r + 2N]: δ_low | B | C. */
  xd: Rows;
  wdt: number;
  bdt: number;
  alog: number;
  dskip: number;
  z: Rows;
  out: Rows;
  /** Saved for the backward pass (training programs). */
  rho?: Rows;
  o?: Rows;
}

export interface ScanBackwardSpec extends ScanSpec {
  rho: Rows;
  o: Rows;
  dout: Rows;
  du: Rows;
  drho: Rows;
  dz: Rows;
  /** ∂B | ∂C per group of `groupChannels` channels: [⌈E / groupChannels⌉, T, 2N]. */
  dbc: number;
  groupChannels: number;
  /** Partial sums per batch slice (slices = 1 or B): ∂A_log [slices, E·N], ∂D and ∂b_dt [slices, E]. */
  batchSlices: number;
  dalog: number;
  dd: number;
  dbdt: number;
}

/** Channels per GPU workgroup: 256 threads of (channel, state). */
export function scanChannels(N: number): number {
  return Math.max(1, Math.floor(256 / N));
}

const softplus = (r: number) => (r > 20 ? r : Math.log1p(Math.exp(r)));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

function rhoAt(mem: FloatArray, s: ScanSpec, t: number, d: number): number {
  const xo = rowAddr(s.xd, t);
  let rho = mem[s.bdt + d];
  for (let r = 0; r < s.R; r++) rho += mem[s.wdt + d * s.R + r] * mem[xo + r];
  return rho;
}

function runForward(mem: FloatArray, _ctl: Uint32Array, s: ScanSpec): void {
  const { B, L, E, N, R } = s;
  const h = new Float64Array(N);
  const a = new Float64Array(N);
  for (let b = 0; b < B; b++)
    for (let d = 0; d < E; d++) {
      h.fill(0);
      for (let n = 0; n < N; n++) a[n] = -Math.exp(mem[s.alog + d * N + n]);
      for (let l = 0; l < L; l++) {
        const t = b * L + l;
        const xo = rowAddr(s.xd, t);
        const rho = rhoAt(mem, s, t, d);
        const dt = softplus(rho);
        const u = mem[rowAddr(s.u, t) + d];
        let y = 0;
        for (let n = 0; n < N; n++) {
          h[n] = Math.exp(dt * a[n]) * h[n] + dt * mem[xo + R + n] * u;
          y += h[n] * mem[xo + R + N + n];
        }
        const o = y + mem[s.dskip + d] * u;
        const z = mem[rowAddr(s.z, t) + d];
        mem[rowAddr(s.out, t) + d] = o * z * sigmoid(z);
        if (s.rho) mem[rowAddr(s.rho, t) + d] = rho;
        if (s.o) mem[rowAddr(s.o, t) + d] = o;
      }
    }
}

function runBackward(mem: FloatArray, _ctl: Uint32Array, s: ScanBackwardSpec): void {
  const { B, L, E, N, R } = s;
  const T = B * L;
  const hs = new Float64Array(L * N);
  const ds = new Float64Array(L);
  const a = new Float64Array(N);
  const hh = new Float64Array(N);
  const aNext = new Float64Array(N);
  const dA = new Float64Array(N);
  mem.fill(0, s.dbc, s.dbc + Math.ceil(E / s.groupChannels) * T * 2 * N);
  mem.fill(0, s.dalog, s.dalog + s.batchSlices * E * N);
  mem.fill(0, s.dd, s.dd + s.batchSlices * E);
  mem.fill(0, s.dbdt, s.dbdt + s.batchSlices * E);
  for (let b = 0; b < B; b++) {
    const slice = s.batchSlices === 1 ? 0 : b;
    for (let d = 0; d < E; d++) {
      for (let n = 0; n < N; n++) a[n] = -Math.exp(mem[s.alog + d * N + n]);
      for (let n = 0; n < N; n++) hh[n] = 0;
      // Replay the forward recurrence.
      for (let l = 0; l < L; l++) {
        const t = b * L + l;
        const xo = rowAddr(s.xd, t);
        const dt = softplus(mem[rowAddr(s.rho, t) + d]);
        const u = mem[rowAddr(s.u, t) + d];
        ds[l] = dt;
        for (let n = 0; n < N; n++) {
          hh[n] = Math.exp(dt * a[n]) * hh[n] + dt * mem[xo + R + n] * u;
          hs[l * N + n] = hh[n];
        }
      }
      hh.fill(0);
      aNext.fill(0);
      dA.fill(0);
      let dD = 0;
      let dBias = 0;
      const bc = s.dbc + Math.floor(d / s.groupChannels) * T * 2 * N;
      for (let l = L - 1; l >= 0; l--) {
        const t = b * L + l;
        const xo = rowAddr(s.xd, t);
        const dt = ds[l];
        const u = mem[rowAddr(s.u, t) + d];
        const z = mem[rowAddr(s.z, t) + d];
        const G = mem[rowAddr(s.dout, t) + d];
        const sz = sigmoid(z);
        const dO = G * z * sz;
        const o = mem[rowAddr(s.o, t) + d];
        mem[rowAddr(s.dz, t) + d] = G * o * sz * (1 + z * (1 - sz));
        let du = 0;
        let dDelta = 0;
        for (let n = 0; n < N; n++) {
          const Bn = mem[xo + R + n];
          const Cn = mem[xo + R + N + n];
          hh[n] = dO * Cn + aNext[n] * hh[n];
          const aBar = Math.exp(dt * a[n]);
          const hp = l > 0 ? hs[(l - 1) * N + n] : 0;
          du += dt * hh[n] * Bn;
          dDelta += hh[n] * (a[n] * aBar * hp + Bn * u);
          dA[n] += hh[n] * dt * aBar * hp;
          mem[bc + t * 2 * N + n] += hh[n] * dt * u;
          mem[bc + t * 2 * N + N + n] += dO * hs[l * N + n];
          aNext[n] = aBar;
        }
        const rho = mem[rowAddr(s.rho, t) + d];
        const drho = dDelta * (rho > 20 ? 1 : sigmoid(rho));
        mem[rowAddr(s.du, t) + d] = du + dO * mem[s.dskip + d];
        mem[rowAddr(s.drho, t) + d] = drho;
        dD += dO * u;
        dBias += drho;
      }
      for (let n = 0; n < N; n++) mem[s.dalog + slice * E * N + d * N + n] += dA[n] * a[n];
      mem[s.dd + slice * E + d] += dD;
      mem[s.dbdt + slice * E + d] += dBias;
    }
  }
}

/** Steps per reduction block. */
const TB_FWD = 8;
const TB_BWD = 2;
/** Steps per block of the backward pass's replay. */
const TB_REPLAY = 8;

function common(s: ScanSpec): string {
  return `${HEADER}${rowFn('rowU', s.u)}${rowFn('rowXd', s.xd)}${rowFn('rowZ', s.z)}
const L = ${s.L}u;
const E = ${s.E}u;
const N = ${s.N}u;
const R = ${s.R}u;
const CH = ${scanChannels(s.N)}u;
const GROUPS = ${Math.ceil(s.E / scanChannels(s.N))}u;
fn rhoAt(t: u32, d: u32) -> f32 {
  let xo = rowXd(t);
  var rho = M[${s.bdt}u + d];
  for (var r = 0u; r < R; r++) { rho += M[${s.wdt}u + d * R + r] * M[xo + i32(r)]; }
  return rho;
}
`;
}

function wgslForward(s: ScanSpec): GpuDispatch[] {
  const TB = TB_FWD;
  const CH = scanChannels(s.N);
  const groups = Math.ceil(s.E / CH);
  const save = `${s.rho ? `M[rowRho(t) + i32(d2)] = rho;` : ''}${s.o ? `M[rowO(t) + i32(d2)] = o;` : ''}`;
  const code = `${common(s)}${rowFn('rowOut', s.out)}${s.rho ? rowFn('rowRho', s.rho) : ''}${s.o ? rowFn('rowO', s.o) : ''}
var<workgroup> part: array<f32, ${CH * TB * s.N}>;
// Staged per block: ρ, Δ and u of each (channel, step), B and C of each (state, step).
var<workgroup> sRho: array<f32, ${CH * TB}>;
var<workgroup> sDt: array<f32, ${CH * TB}>;
var<workgroup> sU: array<f32, ${CH * TB}>;
var<workgroup> sB: array<f32, ${s.N * TB}>;
var<workgroup> sC: array<f32, ${s.N * TB}>;
@compute @workgroup_size(${CH * s.N})
fn main(${ENTRY_ARGS}) {
  ${GRID_ID}
  if (wg >= ${s.B * groups}u) { return; }
  let b = wg / GROUPS;
  let g = wg % GROUPS;
  let ch = li / N;
  let n = li % N;
  let d = g * CH + ch;
  let live = d < E;
  var a = 0.0;
  if (live) { a = -exp(M[${s.alog}u + d * N + n]); }
  var h = 0.0;
  for (var l0 = 0u; l0 < L; l0 += ${TB}u) {
    for (var j = li; j < CH * ${TB}u; j += CH * N) {
      let d2 = g * CH + j / ${TB}u;
      let l = l0 + j % ${TB}u;
      if (d2 < E && l < L) {
        let t = b * L + l;
        let rho = rhoAt(t, d2);
        sRho[j] = rho;
        sDt[j] = softplusF(rho);
        sU[j] = M[rowU(t) + i32(d2)];
      }
    }
    for (var j = li; j < N * ${TB}u; j += CH * N) {
      let l = l0 + j % ${TB}u;
      if (l < L) {
        let xo = rowXd(b * L + l);
        sB[j] = M[xo + i32(R + j / ${TB}u)];
        sC[j] = M[xo + i32(R + N + j / ${TB}u)];
      }
    }
    workgroupBarrier();
    for (var tt = 0u; tt < ${TB}u; tt++) {
      var v = 0.0;
      if (live && l0 + tt < L) {
        let k = ch * ${TB}u + tt;
        let dt = sDt[k];
        h = exp(dt * a) * h + dt * sB[n * ${TB}u + tt] * sU[k];
        v = h * sC[n * ${TB}u + tt];
      }
      part[(ch * ${TB}u + tt) * N + n] = v;
    }
    workgroupBarrier();
    for (var j = li; j < CH * ${TB}u; j += CH * N) {
      let ch2 = j / ${TB}u;
      let l = l0 + j % ${TB}u;
      let d2 = g * CH + ch2;
      if (d2 < E && l < L) {
        let t = b * L + l;
        var y = 0.0;
        for (var m = 0u; m < N; m++) { y += part[j * N + m]; }
        let u = sU[j];
        let o = y + M[${s.dskip}u + d2] * u;
        let z = M[rowZ(t) + i32(d2)];
        M[rowOut(t) + i32(d2)] = o * z * sigm(z);
        let rho = sRho[j];
        ${save}
      }
    }
    workgroupBarrier();
  }
}
`;
  return [{ code, workgroups: foldGrid(s.B * groups) }];
}

/**
 * The backward pass on the GPU. A thread's h, Δ and Ā of every step would live in dynamically indexed private
 * arrays, which the GPU keeps in slow local memory; instead the replay keeps h only at the start of each block of
 * TR steps, and the reverse pass recomputes the block's h and Ā (the same operations, so the same values) into
 * registers: the block's steps are unrolled here, so every private index is a constant.
 */
function wgslBackward(s: ScanBackwardSpec): GpuDispatch[] {
  const TB = TB_BWD;
  const TR = TB_REPLAY;
  const CH = scanChannels(s.N);
  const groups = Math.ceil(s.E / CH);
  if (s.groupChannels !== CH || s.batchSlices !== s.B)
    throw new Error(
      `Error in scanBackward: the GPU kernel needs groupChannels ${CH} and batchSlices ${s.B}, got ${s.groupChannels} and ${s.batchSlices}.`,
    );
  const WG = CH * s.N;
  const T = s.B * s.L;
  const blocks = Math.ceil(s.L / TR);
  // The block's forward recurrence from its checkpoint, step by step (tt a constant in each copy).
  const recompute = Array.from(
    { length: TR },
    (_, tt) => `
    if (l0 + ${tt}u < L) {
      let dt = sDt[ch * TR + ${tt}u];
      ab[${tt}] = exp(dt * a);
      h = ab[${tt}] * h + dt * sB[n * TR + ${tt}u] * sU[ch * TR + ${tt}u];
    }
    hb[${tt}] = h;`,
  ).join('');
  // One sub-block of TB steps of the adjoint recurrence, its partial sums to workgroup memory, and their sums.
  const reverse = Array.from({ length: TR / TB }, (_, k) => TR / TB - 1 - k)
    .map((sb) => {
      const steps = Array.from({ length: TB }, (_, k) => TB - 1 - k)
        .map((q) => {
          const tt = sb * TB + q;
          const hp = tt === 0 ? 'h0' : `hb[${tt - 1}]`;
          return `
      {
        var cu = 0.0; var cd = 0.0; var cb = 0.0; var cc = 0.0;
        if (live && l0 + ${tt}u < L) {
          let k = ch * TR + ${tt}u;
          let dt = sDt[k];
          let u = sU[k];
          let dO = sDo[k];
          let Bn = sB[n * TR + ${tt}u];
          hh = dO * sC[n * TR + ${tt}u] + aNext * hh;
          let aBar = ab[${tt}];
          let hp = ${hp};
          cu = dt * hh * Bn;
          cd = hh * (a * aBar * hp + Bn * u);
          dA += hh * dt * aBar * hp;
          cb = hh * dt * u;
          cc = dO * hb[${tt}];
          aNext = aBar;
        }
        sDu[(ch * TB + ${q}u) * N + n] = cu;
        sDd[(ch * TB + ${q}u) * N + n] = cd;
        sDB[(${q}u * N + n) * CH + ch] = cb;
        sDC[(${q}u * N + n) * CH + ch] = cc;
      }`;
        })
        .join('');
      return `${steps}
      workgroupBarrier();
      sums(l0 + ${sb * TB}u, ${sb * TB}u, b, g, li);
      workgroupBarrier();`;
    })
    .join('');
  const code = `${common(s)}${rowFn('rowRho', s.rho)}${rowFn('rowO', s.o)}${rowFn('rowG', s.dout)}${rowFn(
    'rowDu',
    s.du,
  )}${rowFn('rowDrho', s.drho)}${rowFn('rowDz', s.dz)}
const TB = ${TB}u;
const TR = ${TR}u;
var<workgroup> sDu: array<f32, ${CH * TB * s.N}>;
var<workgroup> sDd: array<f32, ${CH * TB * s.N}>;
var<workgroup> sDB: array<f32, ${CH * TB * s.N}>;
var<workgroup> sDC: array<f32, ${CH * TB * s.N}>;
// Staged per block of TR steps: Δ, ∂o = G·SiLU(z), ∂Δ/∂ρ and u of each (channel, step); B and C of each (state, step).
var<workgroup> sDt: array<f32, ${CH * TR}>;
var<workgroup> sDo: array<f32, ${CH * TR}>;
var<workgroup> sDr: array<f32, ${CH * TR}>;
var<workgroup> sU: array<f32, ${CH * TR}>;
var<workgroup> sB: array<f32, ${s.N * TR}>;
var<workgroup> sC: array<f32, ${s.N * TR}>;
// Per (channel, step of the sub-block): this group's ∂D and ∂b_dt terms, summed over the steps at the end.
var<workgroup> sDD: array<f32, ${CH * TB}>;
var<workgroup> sDBias: array<f32, ${CH * TB}>;

// Block l0's Δ and u (and for the reverse pass ∂o, ρ's softplus slope and C) into workgroup memory. The
// reverse pass also writes ∂z here: it needs no recurrence, and the stage's loads run on every thread.
fn stage(l0: u32, b: u32, g: u32, li: u32, reverse: bool) {
  for (var j = li; j < CH * TR; j += ${WG}u) {
    let d2 = g * CH + j / TR;
    let l = l0 + j % TR;
    if (d2 < E && l < L) {
      let t = b * L + l;
      let rho = M[rowRho(t) + i32(d2)];
      sDt[j] = softplusF(rho);
      sU[j] = M[rowU(t) + i32(d2)];
      if (reverse) {
        let z = M[rowZ(t) + i32(d2)];
        let G = M[rowG(t) + i32(d2)];
        let sz = sigm(z);
        sDo[j] = G * z * sz;
        M[rowDz(t) + i32(d2)] = G * M[rowO(t) + i32(d2)] * sz * (1.0 + z * (1.0 - sz));
        sDr[j] = select(sigm(rho), 1.0, rho > 20.0);
      }
    }
  }
  for (var j = li; j < N * TR; j += ${WG}u) {
    let l = l0 + j % TR;
    if (l < L) {
      let xo = rowXd(b * L + l);
      sB[j] = M[xo + i32(R + j / TR)];
      if (reverse) { sC[j] = M[xo + i32(R + N + j / TR)]; }
    }
  }
}

// The sums of one sub-block (steps l1 … l1 + TB − 1, staged at k1 …): over n per (channel, step), giving ∂u
// and ∂ρ, and this thread's ∂D, ∂b_dt terms; over the group's channels per (step, state), giving ∂B and ∂C.
fn sums(l1: u32, k1: u32, b: u32, g: u32, li: u32) {
  if (li < CH * TB) {
    let c = li / TB;
    let q = li % TB;
    let d2 = g * CH + c;
    let l = l1 + q;
    if (d2 < E && l < L) {
      let t = b * L + l;
      var du = 0.0; var dd = 0.0;
      for (var m = 0u; m < N; m++) { du += sDu[(c * TB + q) * N + m]; dd += sDd[(c * TB + q) * N + m]; }
      let k = c * TR + k1 + q;
      let dO = sDo[k];
      let drho = dd * sDr[k];
      M[rowDu(t) + i32(d2)] = du + dO * M[${s.dskip}u + d2];
      M[rowDrho(t) + i32(d2)] = drho;
      sDD[li] += dO * sU[k];
      sDBias[li] += drho;
    }
  }
  for (var j = li; j < TB * N; j += ${WG}u) {
    let q = j / N;
    let m = j % N;
    let l = l1 + q;
    if (l < L) {
      var sb = 0.0; var sc = 0.0;
      for (var c = 0u; c < CH; c++) { sb += sDB[j * CH + c]; sc += sDC[j * CH + c]; }
      let o = ${s.dbc}u + (g * ${T}u + b * L + l) * ${2 * s.N}u + m;
      M[o] = sb;
      M[o + N] = sc;
    }
  }
}

@compute @workgroup_size(${WG})
fn main(${ENTRY_ARGS}) {
  ${GRID_ID}
  if (wg >= ${s.B * groups}u) { return; }
  let b = wg / GROUPS;
  let g = wg % GROUPS;
  let ch = li / N;
  let n = li % N;
  let d = g * CH + ch;
  let live = d < E;
  let slice = ${s.batchSlices === 1 ? '0u' : 'b'};
  var a = 0.0;
  if (live) { a = -exp(M[${s.alog}u + d * N + n]); }
  if (li < CH * TB) { sDD[li] = 0.0; sDBias[li] = 0.0; }
  // Replay of the forward recurrence: h at the start of every block of TR steps.
  var hc: array<f32, ${blocks}>;
  var h = 0.0;
  for (var blk = 0u; blk < ${blocks}u; blk++) {
    let l0 = blk * TR;
    hc[blk] = h;
    stage(l0, b, g, li, false);
    workgroupBarrier();
    if (live) {
      for (var tt = 0u; tt < TR; tt++) {
        if (l0 + tt < L) {
          let dt = sDt[ch * TR + tt];
          h = exp(dt * a) * h + dt * sB[n * TR + tt] * sU[ch * TR + tt];
        }
      }
    }
    workgroupBarrier();
  }
  var hh = 0.0;
  var aNext = 0.0;
  var dA = 0.0;
  var hb: array<f32, ${TR}>;
  var ab: array<f32, ${TR}>;
  for (var blk = ${blocks}u; blk > 0u; blk--) {
    let l0 = (blk - 1u) * TR;
    stage(l0, b, g, li, true);
    workgroupBarrier();
    let h0 = hc[blk - 1u];
    h = h0;${recompute}
${reverse}
  }
  if (live) { M[${s.dalog}u + slice * ${s.E * s.N}u + d * N + n] = dA * a; }
  if (li < CH && g * CH + li < E) {
    var dD = 0.0; var dBias = 0.0;
    for (var q = 0u; q < TB; q++) { dD += sDD[li * TB + q]; dBias += sDBias[li * TB + q]; }
    M[${s.dd}u + slice * E + g * CH + li] = dD;
    M[${s.dbdt}u + slice * E + g * CH + li] = dBias;
  }
}
`;
  return [{ code, workgroups: foldGrid(s.B * groups) }];
}

export const scanForward: Kernel<ScanSpec> = { name: 'scanForward', run: runForward, wgsl: wgslForward };
export const scanBackward: Kernel<ScanBackwardSpec> = { name: 'scanBackward', run: runBackward, wgsl: wgslBackward };
