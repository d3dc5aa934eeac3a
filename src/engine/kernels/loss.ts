/**
 * The action head's tanh and the masked action MSE (docs/spec.md §2.8, §2.10) with its gradient, in one launch:
 *
 *   â = tanh(pre);  ℒ = Σ_{b,t} mask·Σ_j (â − a)² / (Σ mask · |a|);  ∂pre = 2(â − a)·mask/(Σ mask·|a|)·(1 − â²)
 *
 * The loss is also added to a running sum (read by the trainer at the end of a chunk of steps, never per step).
 * GPU: one workgroup (the sums are over B·K values), tree sums in workgroup memory.
 */
import { rowAddr, type FloatArray, type GpuDispatch, type Kernel, type Rows } from '../program';
import { ENTRY_ARGS, HEADER, rowFn } from './wgsl';

export interface ActionLossSpec {
  /** B·K rows of |a| = A action dims. */
  rows: number;
  A: number;
  pre: Rows;
  /** Outputs: â [rows, A] at `pred`; ∂pre (training) at `dpre` rows. */
  pred: number;
  target?: number;
  mask?: number;
  dpre?: Rows;
  loss?: number;
  lossSum?: number;
}

function run(mem: FloatArray, _ctl: Uint32Array, s: ActionLossSpec): void {
  for (let r = 0; r < s.rows; r++)
    for (let j = 0; j < s.A; j++) mem[s.pred + r * s.A + j] = Math.tanh(mem[rowAddr(s.pre, r) + j]);
  if (s.target === undefined || s.mask === undefined) return;
  let msum = 0;
  for (let r = 0; r < s.rows; r++) msum += mem[s.mask + r];
  const denom = msum * s.A;
  let loss = 0;
  for (let r = 0; r < s.rows; r++) {
    const mk = mem[s.mask + r];
    for (let j = 0; j < s.A; j++) {
      const p = mem[s.pred + r * s.A + j];
      const e = p - mem[s.target + r * s.A + j];
      loss += mk * e * e;
      if (s.dpre) mem[rowAddr(s.dpre, r) + j] = ((2 * e * mk) / denom) * (1 - p * p);
    }
  }
  if (s.loss !== undefined) mem[s.loss] = loss / denom;
  if (s.lossSum !== undefined) mem[s.lossSum] += loss / denom;
}

function wgsl(s: ActionLossSpec): GpuDispatch[] {
  const train = s.target !== undefined && s.mask !== undefined;
  const n = s.rows * s.A;
  const code = `${HEADER}${rowFn('rowPre', s.pre)}${s.dpre ? rowFn('rowD', s.dpre) : ''}
var<workgroup> red: array<f32, 256>;
fn total(li: u32) -> f32 {
  for (var w = 128u; w > 0u; w >>= 1u) {
    workgroupBarrier();
    if (li < w) { red[li] += red[li + w]; }
  }
  workgroupBarrier();
  let t = red[0];
  workgroupBarrier();
  return t;
}
@compute @workgroup_size(256)
fn main(${ENTRY_ARGS}) {
  for (var i = li; i < ${n}u; i += 256u) {
    let r = i / ${s.A}u;
    let j = i % ${s.A}u;
    M[${s.pred}u + i] = tanh(M[rowPre(r) + i32(j)]);
  }
  ${
    train
      ? `var ms = 0.0;
  for (var r = li; r < ${s.rows}u; r += 256u) { ms += M[${s.mask}u + r]; }
  red[li] = ms;
  let denom = total(li) * ${s.A}.0;
  var l = 0.0;
  for (var i = li; i < ${n}u; i += 256u) {
    let r = i / ${s.A}u;
    let j = i % ${s.A}u;
    let p = M[${s.pred}u + i];
    let e = p - M[${s.target}u + i];
    let mk = M[${s.mask}u + r];
    l += mk * e * e;
    ${s.dpre ? `M[rowD(r) + i32(j)] = 2.0 * e * mk / denom * (1.0 - p * p);` : ''}
  }
  red[li] = l;
  let loss = total(li) / denom;
  if (li == 0u) {
    ${s.loss !== undefined ? `M[${s.loss}u] = loss;` : ''}
    ${s.lossSum !== undefined ? `M[${s.lossSum}u] += loss;` : ''}
  }`
      : ''
  }
}
`;
  return [{ code, workgroups: [1, 1, 1] }];
}

export const actionLoss: Kernel<ActionLossSpec> = { name: 'actionLoss', run, wgsl };
