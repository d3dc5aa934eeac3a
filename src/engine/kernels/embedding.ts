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
 * backward one workgroup per table row v: per pass over 1,024 ids it compacts those equal to v (in ascending
 * order, so each channel sums its tokens in the reference's order) and its threads sum them channel by channel.
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

/** Ids one workgroup of the gradient kernel examines per pass: 4 per thread. */
const CHUNK = 1024;

function wgslGrad(s: EmbeddingGradSpec): GpuDispatch[] {
  const NR = s.rows / s.group;
  const CPT = Math.ceil(s.D / 256);
  const code = `${HEADER}${rowFn('rowDy', s.dy)}${ID_FN(s)}
var<workgroup> cnt: array<u32, 256>;
var<workgroup> hits: array<u32, ${CHUNK}>;
@compute @workgroup_size(256)
fn main(${ENTRY_ARGS}) {
  ${GRID_ID}
  let v = wg;
  var acc: array<f32, ${CPT}>;
  for (var start = 0u; start < ${NR}u; start += ${CHUNK}u) {
    // The ids of this pass equal to v, compacted in ascending order: count 4 each, prefix-sum, write.
    let base = start + li * 4u;
    var mine = 0u;
    var bits = 0u;
    for (var j = 0u; j < 4u; j++) {
      let r = base + j;
      if (r < ${NR}u && idOf(r) == v) { bits |= 1u << j; mine++; }
    }
    cnt[li] = mine;
    workgroupBarrier();
    for (var off = 1u; off < 256u; off <<= 1u) {
      var t = 0u;
      if (li >= off) { t = cnt[li - off]; }
      workgroupBarrier();
      cnt[li] += t;
      workgroupBarrier();
    }
    var k = cnt[li] - mine;
    for (var j = 0u; j < 4u; j++) {
      if ((bits & (1u << j)) != 0u) { hits[k] = base + j; k++; }
    }
    let n = cnt[255];
    workgroupBarrier();
    for (var h = 0u; h < n; h++) {
      let r = hits[h];
      for (var q = 0u; q < ${CPT}u; q++) {
        let c = li + 256u * q;
        if (c < ${s.D}u) {
          var t = 0.0;
          for (var g = 0u; g < ${s.group}u; g++) { t += M[rowDy(r * ${s.group}u + g) + i32(c)]; }
          acc[q] += t;
        }
      }
    }
    workgroupBarrier();
  }
  if (v >= ${s.V}u) { return; }
  for (var q = 0u; q < ${CPT}u; q++) {
    let c = li + 256u * q;
    if (c < ${s.D}u) { M[${s.dtable}u + v * ${s.D}u + c] = acc[q]; }
  }
}
`;
  return [{ code, workgroups: foldGrid(s.V) }];
}

export const embeddingAdd: Kernel<EmbeddingAddSpec> = { name: 'embeddingAdd', run: runAdd, wgsl: wgslAdd };
export const embeddingGrad: Kernel<EmbeddingGradSpec> = { name: 'embeddingGrad', run: runGrad, wgsl: wgslGrad };
