/**
 * WGSL sources of the WebGPU selective scan (docs/spec.md §4). Sizes arrive as uniforms; what is baked into a
 * shader (and so into its key) is N, the block length T, the channels per workgroup CH, z on/off and
 * softplus on/off.
 *
 * Layout: one workgroup per (batch row b, group of CH channels); one thread per (channel, state n), so
 * the grid covers batch × channels × state. Each workgroup walks its sequence in blocks of T steps: a
 * block's u, Δ, B, C (…) are staged in workgroup memory with coalesced loads, every thread advances its
 * own h[b,d,n] through the T steps, and sums over n (y, ∂u, ∂Δ) and over the CH channels (∂B, ∂C) are
 * reductions in workgroup memory. Nothing is approximated: the blocks only tile the exact recurrence.
 *
 * The backward pass (three dispatches):
 *   pre:    replays the forward; writes ∂z, ∂o = G·SiLU(z) and h at the start of every segment of
 *           SB blocks (checkpoints, so the reverse pass needs O(L/(T·SB)) stored states per row);
 *   main:   segments in reverse; each is replayed from its checkpoint to get block-start states, then
 *           blocks in reverse: replay the block (h and Ā kept per thread), run the adjoint recurrence
 *           ĥ[l] = ∂y·C + Ā[l+1]·ĥ[l+1], write ∂u and ∂δ, and per-workgroup partial sums of ∂B, ∂C
 *           (over its CH channels), ∂A, ∂D, ∂β (over its sequence);
 *   reduce: sums the partials into ∂B, ∂C (over channel groups), ∂A, ∂D, ∂β (over the batch).
 * Ā·h[l−1] is taken as h[l] − Δ·B·u, so the reverse pass needs h[l] only.
 *
 * Workgroups beyond 65,535 fold into a 2-D dispatch; a workgroup recovers its linear index.
 */

/** Baked-in shape of one scan shader. */
export interface ScanShaderSpec {
  N: number;
  /** Block length T (steps staged per pass); 8 unless a benchmark asks for another. */
  block: number;
  hasZ: boolean;
  deltaSoftplus: boolean;
}

/** Block length T, channels per workgroup CH, blocks per checkpoint segment SB, threads per workgroup. */
export function scanTiling(N: number, block = 8): { T: number; CH: number; SB: number; WG: number } {
  // T ≤ N keeps CH·T ≤ CH·N = WG, so one thread per (channel, step) slot suffices.
  const T = Math.min(block, N);
  const CH = Math.max(1, Math.floor(128 / N));
  return { T, CH, SB: 8, WG: CH * N };
}

/** Uniform fields shared by all scan shaders (all u32). */
export const UNIFORM_FIELDS = [
  'batch',
  'dim',
  'len',
  'groups',
  'nwg',
  'nBlk',
  'nSeg',
  'offD',
  'offBias',
  'offC',
  'offCk',
  'offDB',
  'offDC',
  'offDA',
  'offDD',
  'offDBias',
  'total',
] as const;
export type ScanUniforms = Record<(typeof UNIFORM_FIELDS)[number], number>;

function header(spec: ScanShaderSpec, bindings: [string, 'read' | 'read_write'][]): string {
  const { N } = spec;
  const { T, CH, SB, WG } = scanTiling(N, spec.block);
  const decls = bindings.map(
    ([name, access], i) => `@group(0) @binding(${i}) var<storage, ${access}> ${name}: array<f32>;`,
  );
  return `
const N = ${N}u;
const T = ${T}u;
const CH = ${CH}u;
const SB = ${SB}u;
const WG = ${WG}u;
const NP = ${N + 1}u; // padded stride of the per-(channel, step) rows of workgroup sums
struct Uniforms { ${UNIFORM_FIELDS.map((f) => `${f}: u32`).join(', ')} };
${decls.join('\n')}
@group(0) @binding(${bindings.length}) var<uniform> U: Uniforms;

// softplus as PyTorch (threshold 20); log1p by series where 1 + x loses digits.
fn softplusF(r: f32) -> f32 {
  if (r > 20.0) { return r; }
  let x = exp(r);
  if (x < 1e-3) { return x * (1.0 - x * (0.5 - x / 3.0)); }
  return log(1.0 + x);
}
fn sigm(r: f32) -> f32 { return 1.0 / (1.0 + exp(-r)); }
fn stepOf(r: f32) -> f32 { return ${spec.deltaSoftplus ? 'softplusF(r)' : 'r'}; }
fn stepGrad(r: f32) -> f32 { return ${spec.deltaSoftplus ? 'select(sigm(r), 1.0, r > 20.0)' : '1.0'}; }
`;
}

/** Forward ('fwd': writes out) or backward pre-pass ('pre': writes ∂z, ∂o and checkpoints). */
export function forwardShader(spec: ScanShaderSpec, mode: 'fwd' | 'pre'): string {
  const { N, hasZ } = spec;
  const { T, CH, WG } = scanTiling(N, spec.block);
  const bindings: [string, 'read' | 'read_write'][] =
    mode === 'fwd'
      ? [
          ['outp', 'read_write'],
          ['u', 'read'],
          ['delta', 'read'],
          ['BC', 'read'],
          ['P', 'read'],
        ]
      : [
          ['ws1', 'read_write'],
          ['u', 'read'],
          ['delta', 'read'],
          ['BC', 'read'],
          ['P', 'read'],
          ['dy', 'read'],
        ];
  if (hasZ) bindings.push(['z', 'read']);
  if (hasZ && mode === 'pre') bindings.push(['dz', 'read_write']);
  const finish =
    mode === 'fwd'
      ? `outp[i] = ${hasZ ? 'o * z[i] * sigm(z[i])' : 'o'};`
      : hasZ
        ? `let zz = z[i]; let s = sigm(zz); let G = dy[i];
           dz[i] = G * o * s * (1.0 + zz * (1.0 - s));
           ws1[i] = G * zz * s;`
        : `ws1[i] = dy[i];`;
  return `${header(spec, bindings)}
var<workgroup> sDt: array<f32, ${CH * T}>;
var<workgroup> sU: array<f32, ${CH * T}>;
var<workgroup> sB: array<f32, ${N * T}>;
var<workgroup> sC: array<f32, ${N * T}>;
var<workgroup> part: array<f32, ${CH * T * (N + 1)}>;

@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let wg = wid.x + wid.y * nw.x;
  if (wg >= U.nwg) { return; }
  let b = wg / U.groups;
  let g = wg % U.groups;
  let ch = li / N;
  let n = li % N;
  let d = g * CH + ch;
  let live = d < U.dim;
  var a = 0.0;
  if (live) { a = P[d * N + n]; }
  var h = 0.0;
  for (var blk = 0u; blk < U.nBlk; blk++) {
    let l0 = blk * T;
    ${
      mode === 'pre'
        ? `if (live && blk % SB == 0u) { ws1[U.offCk + ((b * U.dim + d) * U.nSeg + blk / SB) * N + n] = h; }`
        : ''
    }
    for (var k = li; k < CH * T; k += WG) {
      let dd = g * CH + k / T;
      let l = l0 + k % T;
      var dt = 0.0;
      var uu = 0.0;
      if (dd < U.dim && l < U.len) {
        let i = (b * U.dim + dd) * U.len + l;
        dt = stepOf(delta[i] + P[U.offBias + dd]);
        uu = u[i];
      }
      sDt[k] = dt;
      sU[k] = uu;
    }
    for (var k = li; k < N * T; k += WG) {
      let l = l0 + k % T;
      var bv = 0.0;
      var cv = 0.0;
      if (l < U.len) {
        let j = (b * N + k / T) * U.len + l;
        bv = BC[j];
        cv = BC[U.offC + j];
      }
      sB[k] = bv;
      sC[k] = cv;
    }
    workgroupBarrier();
    for (var t = 0u; t < T; t++) {
      let dt = sDt[ch * T + t];
      h = exp(dt * a) * h + dt * sU[ch * T + t] * sB[n * T + t];
      part[(ch * T + t) * NP + n] = h * sC[n * T + t];
    }
    workgroupBarrier();
    for (var k = li; k < CH * T; k += WG) {
      let dd = g * CH + k / T;
      let l = l0 + k % T;
      if (dd < U.dim && l < U.len) {
        var y = 0.0;
        for (var m = 0u; m < N; m++) { y += part[k * NP + m]; }
        let i = (b * U.dim + dd) * U.len + l;
        let o = y + P[U.offD + dd] * sU[k];
        ${finish}
      }
    }
    workgroupBarrier();
  }
}
`;
}

/** The reverse pass: ∂u, ∂δ and the partial sums ws2 = [∂B part | ∂C part | ∂A part | ∂D part | ∂β part]. */
export function backwardMainShader(spec: ScanShaderSpec): string {
  const { N } = spec;
  const { T, CH, SB, WG } = scanTiling(N, spec.block);
  const bindings: [string, 'read' | 'read_write'][] = [
    ['du', 'read_write'],
    ['ddelta', 'read_write'],
    ['ws2', 'read_write'],
    ['u', 'read'],
    ['delta', 'read'],
    ['BC', 'read'],
    ['P', 'read'],
    ['ws1', 'read'],
  ];
  return `${header(spec, bindings)}
var<workgroup> sDt: array<f32, ${CH * T}>;
var<workgroup> sU: array<f32, ${CH * T}>;
var<workgroup> sG: array<f32, ${CH * T}>;
var<workgroup> sO: array<f32, ${CH * T}>;
var<workgroup> sB: array<f32, ${N * T}>;
var<workgroup> sC: array<f32, ${N * T}>;
var<workgroup> partA: array<f32, ${CH * T * (N + 1)}>;
var<workgroup> partB: array<f32, ${CH * T * (N + 1)}>;
var<workgroup> red: array<f32, ${2 * WG}>;

// Stage the block's Δ, u, softplus'(ρ), ∂o (per channel and step) and B, C (per state and step).
fn loadBlock(b: u32, g: u32, l0: u32, li: u32, withGrad: bool) {
  for (var k = li; k < CH * T; k += WG) {
    let dd = g * CH + k / T;
    let l = l0 + k % T;
    var dt = 0.0; var uu = 0.0; var sg = 0.0; var go = 0.0;
    if (dd < U.dim && l < U.len) {
      let i = (b * U.dim + dd) * U.len + l;
      let r = delta[i] + P[U.offBias + dd];
      dt = stepOf(r);
      uu = u[i];
      if (withGrad) { sg = stepGrad(r); go = ws1[i]; }
    }
    sDt[k] = dt; sU[k] = uu; sG[k] = sg; sO[k] = go;
  }
  for (var k = li; k < N * T; k += WG) {
    let l = l0 + k % T;
    var bv = 0.0; var cv = 0.0;
    if (l < U.len) {
      let j = (b * N + k / T) * U.len + l;
      bv = BC[j];
      cv = BC[U.offC + j];
    }
    sB[k] = bv; sC[k] = cv;
  }
}

@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let wg = wid.x + wid.y * nw.x;
  if (wg >= U.nwg) { return; }
  let b = wg / U.groups;
  let g = wg % U.groups;
  let ch = li / N;
  let n = li % N;
  let d = g * CH + ch;
  let live = d < U.dim;
  var a = 0.0;
  if (live) { a = P[d * N + n]; }
  var carry = 0.0;   // Ā[l+1]·ĥ[l+1]
  var dA = 0.0;
  var dDacc = 0.0;   // per (channel, step) slot li < CH·T
  var dBiasAcc = 0.0;
  var starts: array<f32, ${SB}>;
  var hist: array<f32, ${T}>;
  var abr: array<f32, ${T}>;
  var hhs: array<f32, ${T}>;
  for (var s1 = U.nSeg; s1 > 0u; s1--) {
    let s = s1 - 1u;
    // Replay the segment from its checkpoint to get each block's starting state.
    var h = 0.0;
    if (live) { h = ws1[U.offCk + ((b * U.dim + d) * U.nSeg + s) * N + n]; }
    for (var j = 0u; j < SB; j++) {
      let blk = s * SB + j;
      if (blk < U.nBlk) {
        starts[j] = h;
        loadBlock(b, g, blk * T, li, false);
        workgroupBarrier();
        for (var t = 0u; t < T; t++) {
          let dt = sDt[ch * T + t];
          h = exp(dt * a) * h + dt * sU[ch * T + t] * sB[n * T + t];
        }
        workgroupBarrier();
      }
    }
    for (var j1 = SB; j1 > 0u; j1--) {
      let j = j1 - 1u;
      let blk = s * SB + j;
      if (blk < U.nBlk) {
        let l0 = blk * T;
        loadBlock(b, g, l0, li, true);
        workgroupBarrier();
        var hb = starts[j];
        for (var t = 0u; t < T; t++) {
          let dt = sDt[ch * T + t];
          let ab = exp(dt * a);
          hb = ab * hb + dt * sU[ch * T + t] * sB[n * T + t];
          hist[t] = hb;
          abr[t] = ab;
        }
        for (var t1 = T; t1 > 0u; t1--) {
          let t = t1 - 1u;
          let c = ch * T + t;
          let dt = sDt[c];
          let uu = sU[c];
          let bv = sB[n * T + t];
          let hh = sO[c] * sC[n * T + t] + carry;
          let hv = hist[t];
          let prev = select(0.0, hv - dt * bv * uu, l0 + t > 0u); // Ā[l]·h[l−1]
          partA[c * NP + n] = hh * bv;
          partB[c * NP + n] = hh * (a * prev + bv * uu);
          dA += hh * dt * prev;
          hhs[t] = hh;
          carry = abr[t] * hh;
        }
        workgroupBarrier();
        if (li < CH * T) {
          let dd = g * CH + li / T;
          let l = l0 + li % T;
          if (dd < U.dim && l < U.len) {
            var su = 0.0;
            var sd = 0.0;
            for (var m = 0u; m < N; m++) { su += partA[li * NP + m]; sd += partB[li * NP + m]; }
            let i = (b * U.dim + dd) * U.len + l;
            let go = sO[li];
            du[i] = go * P[U.offD + dd] + sDt[li] * su;
            let dr = sd * sG[li];
            ddelta[i] = dr;
            dDacc += go * sU[li];
            dBiasAcc += dr;
          }
        }
        workgroupBarrier();
        for (var t = 0u; t < T; t++) {
          let c = ch * T + t;
          partA[c * NP + n] = select(0.0, hhs[t] * sDt[c] * sU[c], live);
          partB[c * NP + n] = select(0.0, sO[c] * hist[t], live);
        }
        workgroupBarrier();
        for (var k = li; k < N * T; k += WG) {
          let nn = k / T;
          let t = k % T;
          let l = l0 + t;
          if (l < U.len) {
            var sb = 0.0;
            var sc = 0.0;
            for (var c = 0u; c < CH; c++) { sb += partA[(c * T + t) * NP + nn]; sc += partB[(c * T + t) * NP + nn]; }
            let j2 = ((b * U.groups + g) * N + nn) * U.len + l;
            ws2[U.offDB + j2] = sb;
            ws2[U.offDC + j2] = sc;
          }
        }
        workgroupBarrier();
      }
    }
  }
  if (live) { ws2[U.offDA + (b * U.dim + d) * N + n] = dA; }
  red[li] = dDacc;
  red[WG + li] = dBiasAcc;
  workgroupBarrier();
  if (li < CH) {
    let dd = g * CH + li;
    if (dd < U.dim) {
      var s0 = 0.0;
      var s2 = 0.0;
      for (var t = 0u; t < T; t++) { s0 += red[li * T + t]; s2 += red[WG + li * T + t]; }
      ws2[U.offDD + b * U.dim + dd] = s0;
      ws2[U.offDBias + b * U.dim + dd] = s2;
    }
  }
}
`;
}

/** Sums the partials: one thread per element of [∂B | ∂C | ∂A | ∂D | ∂β]. */
export function backwardReduceShader(spec: ScanShaderSpec): string {
  const bindings: [string, 'read' | 'read_write'][] = [
    ['dB', 'read_write'],
    ['dC', 'read_write'],
    ['dA', 'read_write'],
    ['dD', 'read_write'],
    ['dBias', 'read_write'],
    ['ws2', 'read'],
  ];
  return `${header(spec, bindings)}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  var r = (wid.x + wid.y * nw.x) * 256u + li;
  if (r >= U.total) { return; }
  let bnl = U.batch * N * U.len;
  if (r < 2u * bnl) {
    let isC = r >= bnl;
    let q = select(r, r - bnl, isC);
    let b = q / (N * U.len);
    let rest = q % (N * U.len);
    let base = select(U.offDB, U.offDC, isC) + b * U.groups * N * U.len + rest;
    var s = 0.0;
    for (var g = 0u; g < U.groups; g++) { s += ws2[base + g * N * U.len]; }
    if (isC) { dC[q] = s; } else { dB[q] = s; }
    return;
  }
  r -= 2u * bnl;
  if (r < U.dim * N) {
    var s = 0.0;
    for (var b = 0u; b < U.batch; b++) { s += ws2[U.offDA + b * U.dim * N + r]; }
    dA[r] = s;
    return;
  }
  r -= U.dim * N;
  let isBias = r >= U.dim;
  let dd = select(r, r - U.dim, isBias);
  let base = select(U.offDD, U.offDBias, isBias);
  var s = 0.0;
  for (var b = 0u; b < U.batch; b++) { s += ws2[base + b * U.dim + dd]; }
  if (isBias) { dBias[dd] = s; } else { dD[dd] = s; }
}
`;
}
