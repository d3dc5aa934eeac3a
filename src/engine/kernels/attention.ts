/**
 * Decision Transformer's causal single-head self-attention over the L = 3K tokens of each sequence
 * (docs/spec.md §6.1), forward and backward, on Q | K | V as the three column blocks of c_attn's output:
 *
 *   S_ij = q_i·k_j / √D;  S̃_ij = S_ij·keep_ij + bias_ij,  bias = −1e4·(1 − keep) − 1e4·(1 − m_j)
 *          (future scores REPLACED by −1e4, padded keys j get −1e4 added: GPT-2's mask and DT's padding mask)
 *   P = softmax_j(S̃);  P̃ = Drop(P);  o_i = Σ_j P̃_ij·v_j
 *
 *   backward: ∂P_ij = (∂o_i·v_j)·drop_ij;  ∂S_ij = P_ij·(∂P_ij − Σ_j′ P_ij′·∂P_ij′)·keep_ij / √D
 *             ∂q_i = Σ_j ∂S_ij·k_j;  ∂k_j = Σ_i ∂S_ij·q_i;  ∂v_j = Σ_i P̃_ij·∂o_i
 *
 * S̃ is rounded to float32 as the tfjs path rounds it (S̃ sits at −1e4, where float32 steps are 1e-3 apart, for
 * padded queries, whose whole row is masked). Every j enters the softmax: a padded query attends to the future.
 * The token mask m_j is the step mask of token j's timestep. P (before dropout) is saved for the backward pass.
 *
 * GPU: forward a thread per score, per row (softmax) and per output; backward a thread per ∂P, per row and per
 * output column of ∂[q | k | v].
 */
import { rowAddr, type FloatArray, type GpuDispatch, type Kernel, type Rows } from '../program';
import { maskAt, maskWgsl, type DropoutSpec } from './dropout';
import { ENTRY_ARGS, GRID_ID, HEADER, f32Lit, foldGrid, rowFn } from './wgsl';

export const MASKED_SCORE = -1e4;

export interface AttentionShape {
  B: number;
  L: number;
  D: number;
  /** [T, 3D]: q, k, v column blocks. */
  qkv: Rows;
  /** The step mask [B·K] (floats), read per key timestep. */
  mask: number;
  /** P [B, L, L] before dropout. */
  p: number;
  /** The attention-probability dropout (index (b·L + i)·L + j). */
  dropout?: DropoutSpec;
}

export interface AttentionSpec extends AttentionShape {
  out: Rows;
}

export interface AttentionBackwardSpec extends AttentionShape {
  dout: Rows;
  /** Scratch [B, L, L] for ∂P, then ∂S. */
  ds: number;
  dqkv: Rows;
}

const f32 = Math.fround;

/** Row addresses of sequence b's L tokens in `r`, and its keys' padding term −1e4·(1 − m_j). */
function sequence(mem: FloatArray, s: AttentionShape, r: Rows, b: number, rows: Int32Array, pad?: Float64Array) {
  for (let j = 0; j < s.L; j++) {
    rows[j] = rowAddr(r, b * s.L + j);
    if (pad) pad[j] = (1 - mem[s.mask + b * (s.L / 3) + Math.floor(j / 3)]) * MASKED_SCORE;
  }
}

function runForward(mem: FloatArray, ctl: Uint32Array, s: AttentionSpec): void {
  const { B, L, D } = s;
  const scale = Math.sqrt(D);
  const row = new Float64Array(L);
  const pd = new Float64Array(L);
  const acc = new Float64Array(D);
  const rows = new Int32Array(L);
  const pad = new Float64Array(L);
  for (let b = 0; b < B; b++) {
    sequence(mem, s, s.qkv, b, rows, pad);
    for (let i = 0; i < L; i++) {
      const q = rows[i];
      let max = -Infinity;
      for (let j = 0; j < L; j++) {
        // S̃ = S·keep + bias, bias = −1e4·(1 − keep) + pad_j summed first (both exact in float32).
        let v = pad[j] + (j <= i ? 0 : MASKED_SCORE);
        if (j <= i) {
          const k = rows[j] + D;
          let dot = 0;
          for (let c = 0; c < D; c++) dot += mem[q + c] * mem[k + c];
          v += f32(f32(dot) / scale);
        }
        row[j] = f32(v);
        max = Math.max(max, row[j]);
      }
      let sum = 0;
      for (let j = 0; j < L; j++) sum += row[j] = Math.exp(row[j] - max);
      const p = s.p + (b * L + i) * L;
      for (let j = 0; j < L; j++) {
        mem[p + j] = row[j] / sum;
        pd[j] = mem[p + j] * maskAt(ctl, s.dropout, (b * L + i) * L + j);
      }
      acc.fill(0);
      for (let j = 0; j < L; j++) {
        const v = rows[j] + 2 * D;
        const w = pd[j];
        if (w !== 0) for (let c = 0; c < D; c++) acc[c] += w * mem[v + c];
      }
      const o = rowAddr(s.out, b * L + i);
      for (let c = 0; c < D; c++) mem[o + c] = acc[c];
    }
  }
}

function runBackward(mem: FloatArray, ctl: Uint32Array, s: AttentionBackwardSpec): void {
  const { B, L, D } = s;
  const scale = Math.sqrt(D);
  const pd = new Float64Array(L * L);
  const acc = new Float64Array(3 * D);
  const rows = new Int32Array(L);
  const grows = new Int32Array(L);
  for (let b = 0; b < B; b++) {
    const t0 = b * L;
    sequence(mem, s, s.qkv, b, rows);
    sequence(mem, s, s.dout, b, grows);
    for (let i = 0; i < L; i++) {
      const g = grows[i];
      const p = s.p + (t0 + i) * L;
      const ds = s.ds + (t0 + i) * L;
      let r = 0;
      for (let j = 0; j < L; j++) {
        const drop = maskAt(ctl, s.dropout, (t0 + i) * L + j);
        pd[i * L + j] = mem[p + j] * drop;
        const v = rows[j] + 2 * D;
        let dot = 0;
        for (let c = 0; c < D; c++) dot += mem[g + c] * mem[v + c];
        mem[ds + j] = dot * drop;
        r += mem[p + j] * mem[ds + j];
      }
      for (let j = 0; j < L; j++) mem[ds + j] = j <= i ? (mem[p + j] * (mem[ds + j] - r)) / scale : 0;
    }
    // ∂q_t = Σ_j ∂S_tj·k_j;  ∂k_t = Σ_i ∂S_it·q_i;  ∂v_t = Σ_i P̃_it·∂o_i (the terms in j order, as the WGSL).
    for (let t = 0; t < L; t++) {
      acc.fill(0);
      for (let j = 0; j < L; j++) {
        const other = rows[j];
        const g = grows[j];
        const dsq = mem[s.ds + (t0 + t) * L + j];
        const dsk = mem[s.ds + (t0 + j) * L + t];
        const p = pd[j * L + t];
        for (let c = 0; c < D; c++) {
          acc[c] += dsq * mem[other + D + c];
          acc[D + c] += dsk * mem[other + c];
          acc[2 * D + c] += p * mem[g + c];
        }
      }
      const dq = rowAddr(s.dqkv, t0 + t);
      for (let c = 0; c < 3 * D; c++) mem[dq + c] = acc[c];
    }
  }
}

/** WGSL helpers: the mask bias and the dropout factor of score (b, i, j). */
function helpers(s: AttentionShape): string {
  return `${rowFn('rowQkv', s.qkv)}${maskWgsl(s.dropout)}
fn biasAt(b: u32, i: u32, j: u32) -> f32 {
  let keep = select(0.0, 1.0, j <= i);
  let m = M[${s.mask}u + b * ${s.L / 3}u + j / 3u];
  return (1.0 - keep) * ${f32Lit(MASKED_SCORE)} + (1.0 - m) * ${f32Lit(MASKED_SCORE)};
}
fn dropAt(b: u32, i: u32, j: u32) -> f32 { return maskAt((b * ${s.L}u + i) * ${s.L}u + j); }
`;
}

function wgslForward(s: AttentionSpec): GpuDispatch[] {
  const { B, L, D } = s;
  const fns = `${HEADER}${helpers(s)}${rowFn('rowO', s.out)}`;
  const scores = `${fns}
@compute @workgroup_size(256)
fn main(${ENTRY_ARGS}) {
  ${GRID_ID}
  let idx = wg * 256u + li;
  if (idx >= ${B * L * L}u) { return; }
  let j = idx % ${L}u;
  let bi = idx / ${L}u;
  let i = bi % ${L}u;
  let b = bi / ${L}u;
  let q = rowQkv(b * ${L}u + i);
  let k = rowQkv(b * ${L}u + j) + ${D};
  var dot = 0.0;
  for (var c = 0; c < ${D}; c++) { dot += M[q + c] * M[k + c]; }
  let sc = dot / ${f32Lit(Math.sqrt(D))};
  M[${s.p}u + idx] = select(0.0, sc, j <= i) + biasAt(b, i, j);
}
`;
  const softmax = `${fns}
@compute @workgroup_size(64)
fn main(${ENTRY_ARGS}) {
  ${GRID_ID}
  let r = wg * 64u + li;
  if (r >= ${B * L}u) { return; }
  let p = ${s.p}u + r * ${L}u;
  var mx = M[p];
  for (var j = 1u; j < ${L}u; j++) { mx = max(mx, M[p + j]); }
  var sum = 0.0;
  for (var j = 0u; j < ${L}u; j++) { let e = exp(M[p + j] - mx); M[p + j] = e; sum += e; }
  for (var j = 0u; j < ${L}u; j++) { M[p + j] = M[p + j] / sum; }
}
`;
  const out = `${fns}
@compute @workgroup_size(256)
fn main(${ENTRY_ARGS}) {
  ${GRID_ID}
  let idx = wg * 256u + li;
  if (idx >= ${B * L * D}u) { return; }
  let c = idx % ${D}u;
  let t = idx / ${D}u;
  let i = t % ${L}u;
  let b = t / ${L}u;
  var acc = 0.0;
  for (var j = 0u; j < ${L}u; j++) {
    acc += M[${s.p}u + t * ${L}u + j] * dropAt(b, i, j) * M[rowQkv(b * ${L}u + j) + ${2 * D} + i32(c)];
  }
  M[rowO(t) + i32(c)] = acc;
}
`;
  return [
    { code: scores, workgroups: foldGrid(Math.ceil((B * L * L) / 256)) },
    { code: softmax, workgroups: foldGrid(Math.ceil((B * L) / 64)) },
    { code: out, workgroups: foldGrid(Math.ceil((B * L * D) / 256)) },
  ];
}

function wgslBackward(s: AttentionBackwardSpec): GpuDispatch[] {
  const { B, L, D } = s;
  const fns = `${HEADER}${helpers(s)}${rowFn('rowDo', s.dout)}${rowFn('rowDqkv', s.dqkv)}`;
  const dp = `${fns}
@compute @workgroup_size(256)
fn main(${ENTRY_ARGS}) {
  ${GRID_ID}
  let idx = wg * 256u + li;
  if (idx >= ${B * L * L}u) { return; }
  let j = idx % ${L}u;
  let bi = idx / ${L}u;
  let i = bi % ${L}u;
  let b = bi / ${L}u;
  let g = rowDo(b * ${L}u + i);
  let v = rowQkv(b * ${L}u + j) + ${2 * D};
  var dot = 0.0;
  for (var c = 0; c < ${D}; c++) { dot += M[g + c] * M[v + c]; }
  M[${s.ds}u + idx] = dot * dropAt(b, i, j);
}
`;
  const ds = `${fns}
@compute @workgroup_size(64)
fn main(${ENTRY_ARGS}) {
  ${GRID_ID}
  let r = wg * 64u + li;
  if (r >= ${B * L}u) { return; }
  let i = r % ${L}u;
  let p = ${s.p}u + r * ${L}u;
  let d = ${s.ds}u + r * ${L}u;
  var acc = 0.0;
  for (var j = 0u; j < ${L}u; j++) { acc += M[p + j] * M[d + j]; }
  for (var j = 0u; j < ${L}u; j++) {
    M[d + j] = select(0.0, M[p + j] * (M[d + j] - acc) / ${f32Lit(Math.sqrt(D))}, j <= i);
  }
}
`;
  const grads = `${fns}
@compute @workgroup_size(256)
fn main(${ENTRY_ARGS}) {
  ${GRID_ID}
  let idx = wg * 256u + li;
  if (idx >= ${B * L * 3 * D}u) { return; }
  let cc = idx % ${3 * D}u;
  let t = idx / ${3 * D}u;
  let l = t % ${L}u;
  let b = t / ${L}u;
  let t0 = b * ${L}u;
  var acc = 0.0;
  if (cc < ${D}u) {
    for (var j = 0u; j < ${L}u; j++) { acc += M[${s.ds}u + t * ${L}u + j] * M[rowQkv(t0 + j) + ${D} + i32(cc)]; }
  } else if (cc < ${2 * D}u) {
    let c = cc - ${D}u;
    for (var j = 0u; j < ${L}u; j++) { acc += M[${s.ds}u + (t0 + j) * ${L}u + l] * M[rowQkv(t0 + j) + i32(c)]; }
  } else {
    let c = cc - ${2 * D}u;
    for (var j = 0u; j < ${L}u; j++) {
      acc += M[${s.p}u + (t0 + j) * ${L}u + l] * dropAt(b, j, l) * M[rowDo(t0 + j) + i32(c)];
    }
  }
  M[rowDqkv(t) + i32(cc)] = acc;
}
`;
  return [
    { code: dp, workgroups: foldGrid(Math.ceil((B * L * L) / 256)) },
    { code: ds, workgroups: foldGrid(Math.ceil((B * L) / 64)) },
    { code: grads, workgroups: foldGrid(Math.ceil((B * L * 3 * D) / 256)) },
  ];
}

export const attention: Kernel<AttentionSpec> = { name: 'attention', run: runForward, wgsl: wgslForward };
export const attentionBackward: Kernel<AttentionBackwardSpec> = {
  name: 'attentionBackward',
  run: runBackward,
  wgsl: wgslBackward,
};
