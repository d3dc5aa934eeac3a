/**
 * What every engine shader shares: the two bindings (the f32 arena `M` and the u32 control words `C`,
 * program.ts), row addressing for `Rows` descriptors, the activations as PyTorch defines them, and grids
 * folded into two dimensions past WebGPU's 65,535 workgroups per dimension.
 */
import type { Rows } from '../program';

/** WebGPU's per-dimension workgroup limit (maxComputeWorkgroupsPerDimension default). */
export const MAX_GRID = 65535;

export const HEADER = `@group(0) @binding(0) var<storage, read_write> M: array<f32>;
@group(0) @binding(1) var<storage, read_write> C: array<u32>;
fn sigm(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }
// softplus as PyTorch (threshold 20); log1p by its series where 1 + e^x would lose digits.
fn softplusF(r: f32) -> f32 {
  if (r > 20.0) { return r; }
  let x = exp(r);
  if (x < 1e-3) { return x * (1.0 - x * (0.5 - x / 3.0)); }
  return log(1.0 + x);
}
// util/rng.ts mix32 and counterBits: u32 products wrap, as Math.imul does.
fn mix32(v: u32) -> u32 {
  var x = v;
  x ^= x >> 16u; x *= 0x7feb352du; x ^= x >> 15u; x *= 0x846ca68bu; x ^= x >> 16u;
  return x;
}
fn counterBits(k0: u32, k1: u32, i: u32) -> u32 { return mix32(mix32(i ^ k0) ^ k1); }
`;

/** The i32 address of row `i` (a u32 expression) of `r`. */
export function rowExpr(r: Rows, i: string): string {
  return `(${r.off} + i32((${i}) / ${r.g}u) * ${r.gs} + i32((${i}) % ${r.g}u) * ${r.rs})`;
}

/** A WGSL function `name(i: u32) -> i32` returning the address of row i of `r`. */
export function rowFn(name: string, r: Rows): string {
  return `fn ${name}(i: u32) -> i32 { return ${rowExpr(r, 'i')}; }\n`;
}

/** A grid of `count` workgroups as (x, y) with x ≤ 65,535; the shader recovers its index with `GRID_ID`. */
export function foldGrid(count: number, z = 1): [number, number, number] {
  const n = Math.max(1, count);
  return n <= MAX_GRID ? [n, 1, z] : [MAX_GRID, Math.ceil(n / MAX_GRID), z];
}

/** Entry-point parameters shared by the kernels. */
export const ENTRY_ARGS = `@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32`;

/** The linear workgroup index of a folded grid. */
export const GRID_ID = 'let wg = wid.x + wid.y * nw.x;';

/** A float literal WGSL accepts for any finite number. */
export function f32Lit(v: number): string {
  const s = Math.fround(v).toString();
  return /[.eE]/.test(s) ? s : `${s}.0`;
}
