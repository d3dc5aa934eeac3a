/**
 * LayerNorm over rows of D channels (docs/spec.md §2.12: biased variance, eps 1e-5), forward and backward, with the
 * input dropout (docs/spec.md §2.6) as an optional epilogue, since in every model it directly follows embed_ln.
 *
 *   forward:  x̂ = (x − μ)·rstd, rstd = 1/√(var + eps);  y = (x̂·γ + β)·mask;  saves μ and rstd per row
 *   backward: g = dy·mask·γ;  dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) (+ a residual gradient);
 *             dγ = Σ dy·x̂ and dβ = Σ dy over the rows, as partial sums over `splits` row slices
 *
 * GPU: one 64-thread workgroup per row (two reductions in workgroup memory); the parameter sums are a second
 * dispatch, one thread per (channel, slice).
 */
import { rowAddr, type FloatArray, type GpuDispatch, type Kernel, type Rows } from '../program';
import { maskAt, maskWgsl, type DropoutSpec } from './dropout';
import { ENTRY_ARGS, GRID_ID, HEADER, f32Lit, foldGrid, rowFn } from './wgsl';

export interface LayerNormSpec {
  rows: number;
  D: number;
  x: Rows;
  y: Rows;
  gamma: number;
  beta: number;
  /** Saved per row for the backward pass. */
  mean: number;
  rstd: number;
  eps: number;
  dropout?: DropoutSpec;
}

export interface LayerNormBackwardSpec {
  rows: number;
  D: number;
  /** The forward input and its saved statistics. */
  x: Rows;
  mean: number;
  rstd: number;
  gamma: number;
  /** Gradient of the (dropped-out) output, and where dx goes (dx = residual + LN′ when `residual` is set). */
  dy: Rows;
  dx: Rows;
  residual?: Rows;
  dropout?: DropoutSpec;
  /** Partial sums of dγ and dβ: slice s of `splits` at dgamma + s·sliceStride (and dbeta + s·sliceStride). */
  dgamma: number;
  dbeta: number;
  splits: number;
  sliceStride: number;
}

function runForward(mem: FloatArray, ctl: Uint32Array, s: LayerNormSpec): void {
  for (let r = 0; r < s.rows; r++) {
    const xo = rowAddr(s.x, r);
    const yo = rowAddr(s.y, r);
    let sum = 0;
    for (let c = 0; c < s.D; c++) sum += mem[xo + c];
    const mean = sum / s.D;
    let v = 0;
    for (let c = 0; c < s.D; c++) v += (mem[xo + c] - mean) ** 2;
    const rstd = 1 / Math.sqrt(v / s.D + s.eps);
    mem[s.mean + r] = mean;
    mem[s.rstd + r] = rstd;
    for (let c = 0; c < s.D; c++) {
      const y = (mem[xo + c] - mean) * rstd * mem[s.gamma + c] + mem[s.beta + c];
      mem[yo + c] = y * maskAt(ctl, s.dropout, r * s.D + c);
    }
  }
}

function runBackward(mem: FloatArray, ctl: Uint32Array, s: LayerNormBackwardSpec): void {
  const { D } = s;
  const g = new Float64Array(D);
  const xh = new Float64Array(D);
  const per = Math.ceil(s.rows / s.splits);
  for (let k = 0; k < s.splits; k++)
    for (let c = 0; c < D; c++) {
      mem[s.dgamma + k * s.sliceStride + c] = 0;
      mem[s.dbeta + k * s.sliceStride + c] = 0;
    }
  for (let r = 0; r < s.rows; r++) {
    const xo = rowAddr(s.x, r);
    const dyo = rowAddr(s.dy, r);
    const mean = mem[s.mean + r];
    const rstd = mem[s.rstd + r];
    const slice = Math.floor(r / per) * s.sliceStride;
    let mg = 0;
    let mgx = 0;
    for (let c = 0; c < D; c++) {
      const dy = mem[dyo + c] * maskAt(ctl, s.dropout, r * D + c);
      xh[c] = (mem[xo + c] - mean) * rstd;
      g[c] = dy * mem[s.gamma + c];
      mg += g[c];
      mgx += g[c] * xh[c];
      mem[s.dgamma + slice + c] += dy * xh[c];
      mem[s.dbeta + slice + c] += dy;
    }
    mg /= D;
    mgx /= D;
    const dxo = rowAddr(s.dx, r);
    const ro = s.residual ? rowAddr(s.residual, r) : 0;
    for (let c = 0; c < D; c++) {
      const dx = rstd * (g[c] - mg - xh[c] * mgx);
      mem[dxo + c] = s.residual ? mem[ro + c] + dx : dx;
    }
  }
}

/** Tree sum of `red[0..64)` into red[0] (every thread of the workgroup calls it). */
const REDUCE64 = `
fn reduce64(li: u32) {
  for (var w = 32u; w > 0u; w >>= 1u) {
    workgroupBarrier();
    if (li < w) { red[li] += red[li + w]; red2[li] += red2[li + w]; }
  }
  workgroupBarrier();
}`;

function wgslForward(s: LayerNormSpec): GpuDispatch[] {
  const code = `${HEADER}${rowFn('rowX', s.x)}${rowFn('rowY', s.y)}${maskWgsl(s.dropout)}
var<workgroup> red: array<f32, 64>;
var<workgroup> red2: array<f32, 64>;
${REDUCE64}
@compute @workgroup_size(64)
fn main(${ENTRY_ARGS}) {
  ${GRID_ID}
  if (wg >= ${s.rows}u) { return; }
  let xo = rowX(wg);
  var a = 0.0;
  for (var c = li; c < ${s.D}u; c += 64u) { a += M[xo + i32(c)]; }
  red[li] = a; red2[li] = 0.0;
  reduce64(li);
  let mean = red[0] / ${s.D}.0;
  workgroupBarrier();
  var v = 0.0;
  for (var c = li; c < ${s.D}u; c += 64u) { let e = M[xo + i32(c)] - mean; v += e * e; }
  red[li] = v;
  reduce64(li);
  let rstd = 1.0 / sqrt(red[0] / ${s.D}.0 + ${f32Lit(s.eps)});
  if (li == 0u) { M[${s.mean}u + wg] = mean; M[${s.rstd}u + wg] = rstd; }
  let yo = rowY(wg);
  for (var c = li; c < ${s.D}u; c += 64u) {
    let y = (M[xo + i32(c)] - mean) * rstd * M[${s.gamma}u + c] + M[${s.beta}u + c];
    M[yo + i32(c)] = y * maskAt(wg * ${s.D}u + c);
  }
}
`;
  return [{ code, workgroups: foldGrid(s.rows) }];
}

function wgslBackward(s: LayerNormBackwardSpec): GpuDispatch[] {
  const fns = `${HEADER}${rowFn('rowX', s.x)}${rowFn('rowDy', s.dy)}${rowFn('rowDx', s.dx)}${
    s.residual ? rowFn('rowR', s.residual) : ''
  }${maskWgsl(s.dropout)}`;
  const rowsCode = `${fns}
var<workgroup> red: array<f32, 64>;
var<workgroup> red2: array<f32, 64>;
${REDUCE64}
@compute @workgroup_size(64)
fn main(${ENTRY_ARGS}) {
  ${GRID_ID}
  if (wg >= ${s.rows}u) { return; }
  let xo = rowX(wg);
  let dyo = rowDy(wg);
  let mean = M[${s.mean}u + wg];
  let rstd = M[${s.rstd}u + wg];
  var a = 0.0;
  var b = 0.0;
  for (var c = li; c < ${s.D}u; c += 64u) {
    let g = M[dyo + i32(c)] * maskAt(wg * ${s.D}u + c) * M[${s.gamma}u + c];
    a += g;
    b += g * (M[xo + i32(c)] - mean) * rstd;
  }
  red[li] = a; red2[li] = b;
  reduce64(li);
  let mg = red[0] / ${s.D}.0;
  let mgx = red2[0] / ${s.D}.0;
  let dxo = rowDx(wg);
  for (var c = li; c < ${s.D}u; c += 64u) {
    let g = M[dyo + i32(c)] * maskAt(wg * ${s.D}u + c) * M[${s.gamma}u + c];
    let xh = (M[xo + i32(c)] - mean) * rstd;
    let dx = rstd * (g - mg - xh * mgx);
    M[dxo + i32(c)] = ${s.residual ? 'M[rowR(wg) + i32(c)] + dx' : 'dx'};
  }
}
`;
  const per = Math.ceil(s.rows / s.splits);
  const paramsCode = `${fns}
@compute @workgroup_size(64)
fn main(${ENTRY_ARGS}) {
  let c = wid.x * 64u + lid.x;
  let k = wid.y;
  if (c >= ${s.D}u) { return; }
  var dg = 0.0;
  var db = 0.0;
  let r1 = min(${s.rows}u, (k + 1u) * ${per}u);
  for (var r = k * ${per}u; r < r1; r++) {
    let dy = M[rowDy(r) + i32(c)] * maskAt(r * ${s.D}u + c);
    dg += dy * (M[rowX(r) + i32(c)] - M[${s.mean}u + r]) * M[${s.rstd}u + r];
    db += dy;
  }
  M[${s.dgamma}u + k * ${s.sliceStride}u + c] = dg;
  M[${s.dbeta}u + k * ${s.sliceStride}u + c] = db;
}
`;
  return [
    { code: rowsCode, workgroups: foldGrid(s.rows) },
    { code: paramsCode, workgroups: [Math.ceil(s.D / 64), s.splits, 1] },
  ];
}

export const layerNorm: Kernel<LayerNormSpec> = { name: 'layerNorm', run: runForward, wgsl: wgslForward };
export const layerNormBackward: Kernel<LayerNormBackwardSpec> = {
  name: 'layerNormBackward',
  run: runBackward,
  wgsl: wgslBackward,
};
