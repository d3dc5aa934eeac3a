/**
 * The end of a training step (docs/spec.md §9), on the flat gradient and parameter regions:
 *
 *   sumSlices   dst(t, j) = Σ_s src[s][t][j]: a launch's partial sums over channel groups (scan ∂B, ∂C)
 *   gradReduce  every parameter's gradient = the sum of its partial slices (weight gradients split over tokens,
 *               shared LayerNorms over layers), and Σ g² per 256-element chunk
 *   adamw       ‖g‖ from the chunk sums, c = min(0.25/(‖g‖ + 1e-6), 1), then PyTorch's AdamW update of every
 *               parameter with g·c, with the step's scalars (decay 1 − lr·wd, lr/(1 − β₁ᵏ), √(1 − β₂ᵏ)) read
 *               from the arena, so a step uploads only its batch and three floats
 *
 * On float32 memory the AdamW arithmetic rounds after every operation in the order of the tfjs path
 * (train/adamw-typed.ts), so the CPU executor follows it to float32 round-off.
 */
import { rowAddr, type FloatArray, type GpuDispatch, type Kernel, type Rows } from '../program';
import { ENTRY_ARGS, GRID_ID, HEADER, f32Lit, foldGrid, rowFn } from './wgsl';

export interface SumSlicesSpec {
  rows: number;
  cols: number;
  slices: number;
  /** src[s][t][j] at src + s·sliceStride + t·srcRowStride + j. */
  src: number;
  sliceStride: number;
  srcRowStride: number;
  dst: Rows;
}

function runSumSlices(mem: FloatArray, _ctl: Uint32Array, s: SumSlicesSpec): void {
  for (let t = 0; t < s.rows; t++)
    for (let j = 0; j < s.cols; j++) {
      let acc = 0;
      for (let k = 0; k < s.slices; k++) acc += mem[s.src + k * s.sliceStride + t * s.srcRowStride + j];
      mem[rowAddr(s.dst, t) + j] = acc;
    }
}

function wgslSumSlices(s: SumSlicesSpec): GpuDispatch[] {
  const n = s.rows * s.cols;
  const code = `${HEADER}${rowFn('rowDst', s.dst)}
@compute @workgroup_size(256)
fn main(${ENTRY_ARGS}) {
  ${GRID_ID}
  let i = wg * 256u + li;
  if (i >= ${n}u) { return; }
  let t = i / ${s.cols}u;
  let j = i % ${s.cols}u;
  var acc = 0.0;
  for (var k = 0u; k < ${s.slices}u; k++) { acc += M[${s.src}u + k * ${s.sliceStride}u + t * ${s.srcRowStride}u + j]; }
  M[rowDst(t) + i32(j)] = acc;
}
`;
  return [{ code, workgroups: foldGrid(Math.ceil(n / 256)) }];
}

/** One parameter's gradient: `size` values at grad + `start`, the sum of `slices` partials `size` apart. */
export interface GradSegment {
  start: number;
  size: number;
  partial: number;
  slices: number;
}

export interface GradReduceSpec {
  /** The flat gradient region [P] and its segments in order, covering it. */
  grad: number;
  total: number;
  segments: GradSegment[];
  /** Σ g² of each 256-element chunk: [⌈P / 256⌉]. */
  normPart: number;
}

export const NORM_CHUNK = 256;

function runGradReduce(mem: FloatArray, _ctl: Uint32Array, s: GradReduceSpec): void {
  for (const seg of s.segments)
    for (let i = 0; i < seg.size; i++) {
      let acc = 0;
      for (let k = 0; k < seg.slices; k++) acc += mem[seg.partial + k * seg.size + i];
      mem[s.grad + seg.start + i] = acc;
    }
  const chunks = Math.ceil(s.total / NORM_CHUNK);
  for (let c = 0; c < chunks; c++) {
    let sq = 0;
    for (let i = c * NORM_CHUNK; i < Math.min(s.total, (c + 1) * NORM_CHUNK); i++) sq += mem[s.grad + i] ** 2;
    mem[s.normPart + c] = sq;
  }
}

/** Tree sum over 256 threads of workgroup memory `red`, result in red[0]. */
const REDUCE256 = `
var<workgroup> red: array<f32, 256>;
fn reduce256(li: u32) {
  for (var w = 128u; w > 0u; w >>= 1u) {
    workgroupBarrier();
    if (li < w) { red[li] += red[li + w]; }
  }
  workgroupBarrier();
}`;

function wgslGradReduce(s: GradReduceSpec): GpuDispatch[] {
  const segs = s.segments;
  const arr = (f: (g: GradSegment) => number) =>
    `array<u32, ${segs.length}>(${segs.map((g) => `${f(g)}u`).join(', ')})`;
  const code = `${HEADER}${REDUCE256}
const NSEG = ${segs.length}u;
@compute @workgroup_size(256)
fn main(${ENTRY_ARGS}) {
  ${GRID_ID}
  let i = wg * 256u + li;
  var g = 0.0;
  if (i < ${s.total}u) {
    var starts = ${arr((x) => x.start)};
    var sizes = ${arr((x) => x.size)};
    var partials = ${arr((x) => x.partial)};
    var slices = ${arr((x) => x.slices)};
    var k = 0u;
    for (var q = 1u; q < NSEG; q++) { if (starts[q] <= i) { k = q; } }
    let off = i - starts[k];
    for (var j = 0u; j < slices[k]; j++) { g += M[partials[k] + j * sizes[k] + off]; }
    M[${s.grad}u + i] = g;
  }
  red[li] = g * g;
  reduce256(li);
  if (li == 0u) { M[${s.normPart}u + wg] = red[0]; }
}
`;
  return [{ code, workgroups: foldGrid(Math.ceil(s.total / 256)) }];
}

export interface AdamWSpec {
  total: number;
  param: number;
  grad: number;
  m: number;
  v: number;
  normPart: number;
  maxNorm: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Arena offset of the step scalars [decay, stepSize, bc2Sqrt] (program.ts STEP_FIELDS). */
  step: number;
  /** Where the global norm is written. */
  norm: number;
}

function runAdamW(mem: FloatArray, _ctl: Uint32Array, s: AdamWSpec): void {
  const fr = mem instanceof Float32Array ? Math.fround : (x: number) => x;
  let sq = 0;
  const chunks = Math.ceil(s.total / NORM_CHUNK);
  for (let c = 0; c < chunks; c++) sq += mem[s.normPart + c];
  const norm = Math.sqrt(sq);
  mem[s.norm] = norm;
  const coef = fr(Math.min(s.maxNorm / (norm + 1e-6), 1));
  const [b1, c1, b2, c2, eps] = [s.beta1, 1 - s.beta1, s.beta2, 1 - s.beta2, s.epsilon].map(fr);
  const decay = mem[s.step];
  const stepSize = mem[s.step + 1];
  const bc2 = mem[s.step + 2];
  for (let i = 0; i < s.total; i++) {
    const g = coef === 1 ? mem[s.grad + i] : fr(mem[s.grad + i] * coef);
    const m = fr(fr(mem[s.m + i] * b1) + fr(g * c1));
    const v = fr(fr(mem[s.v + i] * b2) + fr(fr(g * g) * c2));
    const denom = fr(fr(fr(Math.sqrt(v)) / bc2) + eps);
    mem[s.param + i] = fr(mem[s.param + i] * decay) - fr(fr(m / denom) * stepSize);
    mem[s.m + i] = m;
    mem[s.v + i] = v;
  }
}

function wgslAdamW(s: AdamWSpec): GpuDispatch[] {
  const chunks = Math.ceil(s.total / NORM_CHUNK);
  const code = `${HEADER}${REDUCE256}
@compute @workgroup_size(256)
fn main(${ENTRY_ARGS}) {
  ${GRID_ID}
  var sq = 0.0;
  for (var c = li; c < ${chunks}u; c += 256u) { sq += M[${s.normPart}u + c]; }
  red[li] = sq;
  reduce256(li);
  let norm = sqrt(red[0]);
  if (wg == 0u && li == 0u) { M[${s.norm}u] = norm; }
  let coef = min(${f32Lit(s.maxNorm)} / (norm + 1e-6), 1.0);
  let i = wg * 256u + li;
  if (i >= ${s.total}u) { return; }
  let g = M[${s.grad}u + i] * coef;
  let m = M[${s.m}u + i] * ${f32Lit(s.beta1)} + g * ${f32Lit(1 - s.beta1)};
  let v = M[${s.v}u + i] * ${f32Lit(s.beta2)} + (g * g) * ${f32Lit(1 - s.beta2)};
  let denom = sqrt(v) / M[${s.step + 2}u] + ${f32Lit(s.epsilon)};
  M[${s.param}u + i] = M[${s.param}u + i] * M[${s.step}u] - (m / denom) * M[${s.step + 1}u];
  M[${s.m}u + i] = m;
  M[${s.v}u + i] = v;
}
`;
  return [{ code, workgroups: foldGrid(Math.ceil(s.total / 256)) }];
}

export const sumSlices: Kernel<SumSlicesSpec> = { name: 'sumSlices', run: runSumSlices, wgsl: wgslSumSlices };
export const gradReduce: Kernel<GradReduceSpec> = { name: 'gradReduce', run: runGradReduce, wgsl: wgslGradReduce };
export const adamw: Kernel<AdamWSpec> = { name: 'adamw', run: runAdamW, wgsl: wgslAdamW };
