/**
 * The timestep embedding (docs/spec.md §2.3): row τ of a table [V, D] added to all three tokens (R, s, a) of
 * timestep τ, and its gradient.
 *
 *   forward:  x_t += W[id(t)],  id(t) = ids[⌊t / group⌋] (group 3: one id per token triple)
 *   backward: ∂W[v] = Σ_{t: id(t) = v} ∂x_t  (a scatter-add, written as a gather per table row so it needs no
 *             atomics: every row of ∂W is written, zeros where no token has that id)
 *
 * The ids are integers, so they live in ctl words (program.ts); an id past the table reads its last row (the
 * sampler and the evaluator clip timesteps to V − 1 already). GPU: forward one thread per (token, channel);
 * backward one thread per (row v, channel), each scanning the B·K ids.
 */
import { rowAddr, type FloatArray, type GpuDispatch, type Kernel, type Rows } from '../program';
import { ENTRY_ARGS, GRID_ID, HEADER, foldGrid, rowFn } from './wgsl';

export interface EmbeddingShape {
  /** Token rows and their width. */
  rows: number;
  D: number;
  /** ctl offset of the ids, one per `group` consecutive rows. */
  ids: number;
  group: number;
  /** Table rows V. */
  V: number;
}

export interface EmbeddingAddSpec extends EmbeddingShape {
  table: number;
  out: Rows;
}

export interface EmbeddingGradSpec extends EmbeddingShape {
  dy: Rows;
  dtable: number;
}

const idOf = (ctl: Uint32Array, s: EmbeddingShape, r: number) => Math.min(ctl[s.ids + r], s.V - 1);

function runAdd(mem: FloatArray, ctl: Uint32Array, s: EmbeddingAddSpec): void {
  for (let t = 0; t < s.rows; t++) {
    const w = s.table + idOf(ctl, s, Math.floor(t / s.group)) * s.D;
    const o = rowAddr(s.out, t);
    for (let c = 0; c < s.D; c++) mem[o + c] += mem[w + c];
  }
}

function runGrad(mem: FloatArray, ctl: Uint32Array, s: EmbeddingGradSpec): void {
  mem.fill(0, s.dtable, s.dtable + s.V * s.D);
  for (let r = 0; r < s.rows / s.group; r++) {
    const w = s.dtable + idOf(ctl, s, r) * s.D;
    for (let c = 0; c < s.D; c++) {
      let acc = 0;
      for (let g = 0; g < s.group; g++) acc += mem[rowAddr(s.dy, r * s.group + g) + c];
      mem[w + c] += acc;
    }
  }
}

const ID_FN = (s: EmbeddingShape) => `fn idOf(r: u32) -> u32 { return min(C[${s.ids}u + r], ${s.V - 1}u); }\n`;

function wgslAdd(s: EmbeddingAddSpec): GpuDispatch[] {
  const n = s.rows * s.D;
  const code = `${HEADER}${rowFn('rowO', s.out)}${ID_FN(s)}
@compute @workgroup_size(256)
fn main(${ENTRY_ARGS}) {
  ${GRID_ID}
  let i = wg * 256u + li;
  if (i >= ${n}u) { return; }
  let t = i / ${s.D}u;
  let c = i % ${s.D}u;
  let o = rowO(t) + i32(c);
  M[o] = M[o] + M[${s.table}u + idOf(t / ${s.group}u) * ${s.D}u + c];
}
`;
  return [{ code, workgroups: foldGrid(Math.ceil(n / 256)) }];
}

function wgslGrad(s: EmbeddingGradSpec): GpuDispatch[] {
  const code = `${HEADER}${rowFn('rowDy', s.dy)}${ID_FN(s)}
@compute @workgroup_size(64)
fn main(${ENTRY_ARGS}) {
  let c = wid.x * 64u + lid.x;
  let v = wid.y;
  if (c >= ${s.D}u) { return; }
  var acc = 0.0;
  for (var r = 0u; r < ${s.rows / s.group}u; r++) {
    if (idOf(r) == v) {
      var t = 0.0;
      for (var g = 0u; g < ${s.group}u; g++) { t += M[rowDy(r * ${s.group}u + g) + i32(c)]; }
      acc += t;
    }
  }
  M[${s.dtable}u + v * ${s.D}u + c] = acc;
}
`;
  return [{ code, workgroups: [Math.ceil(s.D / 64), s.V, 1] }];
}

export const embeddingAdd: Kernel<EmbeddingAddSpec> = { name: 'embeddingAdd', run: runAdd, wgsl: wgslAdd };
export const embeddingGrad: Kernel<EmbeddingGradSpec> = { name: 'embeddingGrad', run: runGrad, wgsl: wgslGrad };
