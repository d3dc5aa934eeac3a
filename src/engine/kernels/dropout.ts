/**
 * Inverted dropout in the engine (docs/spec.md §2.6): the mask of element i of a site is a counter-based hash
 * of (the site's two key words, i), the same function the tfjs path's `dropoutMask` evaluates
 * (src/nn/dropout.ts), so both paths drop the same elements. A site's keys are ctl words written each step.
 *
 * The mask is an epilogue of the launch that produces (or first reads) the dropped tensor: LayerNorm's output
 * (the input dropout), the residual add of a product (the MLP branch). `dropoutMul` applies it on its own where
 * no launch can carry it: the gradient entering a dropped branch.
 */
import { counterBits, dropoutThreshold } from '../../util/rng';
import { rowAddr, type FloatArray, type GpuDispatch, type Kernel, type Rows } from '../program';
import { ENTRY_ARGS, GRID_ID, HEADER, f32Lit, foldGrid, rowFn } from './wgsl';

/** A dropout site: p, and the ctl word of the stream's first key (the second follows it). */
export interface DropoutSpec {
  p: number;
  key: number;
}

/** The dropout factor of flat element i (row r, column c of a [rows, cols] tensor → r·cols + c). */
export function maskAt(ctl: Uint32Array, d: DropoutSpec | undefined, i: number): number {
  if (!d) return 1;
  return counterBits(ctl[d.key], ctl[d.key + 1], i) >= dropoutThreshold(d.p) ? Math.fround(1 / (1 - d.p)) : 0;
}

/** WGSL `maskAt(i: u32) -> f32` for site `d` (1 when there is none). */
export function maskWgsl(d: DropoutSpec | undefined): string {
  if (!d) return 'fn maskAt(i: u32) -> f32 { return 1.0; }\n';
  return `fn maskAt(i: u32) -> f32 {
  return select(0.0, ${f32Lit(1 / (1 - d.p))}, counterBits(C[${d.key}], C[${d.key + 1}], i) >= ${dropoutThreshold(d.p)}u);
}
`;
}

export interface DropoutMulSpec {
  rows: number;
  cols: number;
  x: Rows;
  y: Rows;
  dropout: DropoutSpec;
}

function run(mem: FloatArray, ctl: Uint32Array, s: DropoutMulSpec): void {
  for (let r = 0; r < s.rows; r++) {
    const xo = rowAddr(s.x, r);
    const yo = rowAddr(s.y, r);
    for (let c = 0; c < s.cols; c++) mem[yo + c] = mem[xo + c] * maskAt(ctl, s.dropout, r * s.cols + c);
  }
}

function wgsl(s: DropoutMulSpec): GpuDispatch[] {
  const n = s.rows * s.cols;
  const code = `${HEADER}${rowFn('rowX', s.x)}${rowFn('rowY', s.y)}${maskWgsl(s.dropout)}
@compute @workgroup_size(256)
fn main(${ENTRY_ARGS}) {
  ${GRID_ID}
  let i = wg * 256u + li;
  if (i >= ${n}u) { return; }
  let r = i / ${s.cols}u;
  let c = i % ${s.cols}u;
  M[rowY(r) + i32(c)] = M[rowX(r) + i32(c)] * maskAt(i);
}
`;
  return [{ code, workgroups: foldGrid(Math.ceil(n / 256)) }];
}

/** y = x·mask, elementwise. */
export const dropoutMul: Kernel<DropoutMulSpec> = { name: 'dropoutMul', run, wgsl };
