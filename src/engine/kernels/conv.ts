/**
 * Causal depthwise convolution over the token rows of each sequence, with taps that repeat with period P
 * (docs/spec.md §5, §6.2): Mamba's conv in front of its scan (P = 1, k = 4, SiLU after it) and DC's token
 * mixer (P = 3, one kernel per token type, k = 6). PyTorch's layout: the kernel of type τ is a Conv1d weight
 * [C, 1, k] and a bias [C]; zeros stand before each sequence's first token.
 *
 *   forward:  y_l[c] = b_τ[c] + Σ_j w_τ[c, j]·x_{l−k+1+j}[c],  τ = l mod P;  then S = SiLU(y) or y + R
 *   backward: ∂x_l[c] = Σ_j w_τ(m)[c, j]·∂y_m[c] over m = l + k − 1 − j < L;
 *             ∂w_τ[c, j] = Σ_{m: τ(m) = τ} ∂y_m[c]·x_{m−k+1+j}[c],  ∂b_τ[c] = Σ ∂y_m[c]  (slices over the batch)
 *
 * Rows t = b·L + l. GPU: one thread per (token, channel); the parameter sums one thread per (type, channel,
 * tap or bias, batch slice).
 */
import { rowAddr, type FloatArray, type GpuDispatch, type Kernel, type Rows } from '../program';
import { ENTRY_ARGS, GRID_ID, HEADER, foldGrid, rowFn } from './wgsl';

export interface ConvShape {
  B: number;
  L: number;
  C: number;
  k: number;
  /** Token types the taps cycle through (1: one kernel). */
  period: number;
  /** Arena offsets of each type's weight [C, 1, k] (and bias [C]). */
  weight: number[];
}

export interface ConvSpec extends ConvShape {
  bias: number[];
  x: Rows;
  out: Rows;
  /** `silu`: out keeps y (the pre-activation) and S = SiLU(y); `add`: out = R + y (a residual branch). */
  epilogue?: { kind: 'silu'; s: Rows } | { kind: 'add'; r: Rows };
}

export interface ConvBackwardSpec extends ConvShape {
  x: Rows;
  /** Gradient of y (after the activation's own backward) and where ∂x goes. */
  dy: Rows;
  dx: Rows;
  /** Partial sums of each type's ∂w and ∂b: slice s at dw[τ] + s·C·k (db[τ] + s·C). */
  dw: number[];
  db: number[];
  batchSlices: number;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

// The JavaScript runs row by row (the addresses of a row's k input rows once, channels innermost), in the
// same order of terms as the WGSL: the bias, then the taps j = 0 … k − 1.
function runForward(mem: FloatArray, _ctl: Uint32Array, s: ConvSpec): void {
  const { B, L, C, k, period } = s;
  const acc = new Float64Array(C);
  const e = s.epilogue;
  for (let b = 0; b < B; b++)
    for (let l = 0; l < L; l++) {
      const t = b * L + l;
      const tau = l % period;
      const w = s.weight[tau];
      const bias = s.bias[tau];
      for (let c = 0; c < C; c++) acc[c] = mem[bias + c];
      for (let j = Math.max(0, k - 1 - l); j < k; j++) {
        const xo = rowAddr(s.x, t - k + 1 + j);
        for (let c = 0; c < C; c++) acc[c] += mem[w + c * k + j] * mem[xo + c];
      }
      const o = rowAddr(s.out, t);
      if (e?.kind === 'add') {
        const r = rowAddr(e.r, t);
        for (let c = 0; c < C; c++) mem[o + c] = mem[r + c] + acc[c];
      } else {
        for (let c = 0; c < C; c++) mem[o + c] = acc[c];
        if (e?.kind === 'silu') {
          const so = rowAddr(e.s, t);
          for (let c = 0; c < C; c++) mem[so + c] = mem[o + c] * sigmoid(mem[o + c]);
        }
      }
    }
}

function runBackward(mem: FloatArray, _ctl: Uint32Array, s: ConvBackwardSpec): void {
  const { B, L, C, k, period } = s;
  const acc = new Float64Array(C);
  for (let b = 0; b < B; b++)
    for (let l = 0; l < L; l++) {
      const t = b * L + l;
      acc.fill(0);
      for (let j = 0; j < k; j++) {
        const m = l + k - 1 - j;
        if (m >= L) continue;
        const w = s.weight[m % period];
        const g = rowAddr(s.dy, t + k - 1 - j);
        for (let c = 0; c < C; c++) acc[c] += mem[w + c * k + j] * mem[g + c];
      }
      const o = rowAddr(s.dx, t);
      for (let c = 0; c < C; c++) mem[o + c] = acc[c];
    }
  const per = Math.ceil(B / s.batchSlices);
  const dw = new Float64Array(C * k);
  const db = new Float64Array(C);
  for (let tau = 0; tau < period; tau++)
    for (let sl = 0; sl < s.batchSlices; sl++) {
      dw.fill(0);
      db.fill(0);
      for (let b = sl * per; b < Math.min(B, (sl + 1) * per); b++)
        for (let m = tau; m < L; m += period) {
          const t = b * L + m;
          const g = rowAddr(s.dy, t);
          for (let c = 0; c < C; c++) db[c] += mem[g + c];
          for (let j = Math.max(0, k - 1 - m); j < k; j++) {
            const xo = rowAddr(s.x, t - k + 1 + j);
            for (let c = 0; c < C; c++) dw[c * k + j] += mem[g + c] * mem[xo + c];
          }
        }
      mem.set(dw, s.dw[tau] + sl * C * k);
      mem.set(db, s.db[tau] + sl * C);
    }
}

/** WGSL `w(tau, c, j)`: the address of tap j of channel c in type tau's weight. */
function weightFn(s: ConvShape): string {
  const cases = s.weight.map((off, tau) => `if (tau == ${tau}u) { return ${off}u + c * ${s.k}u + j; }`).join('\n  ');
  return `fn wAddr(tau: u32, c: u32, j: u32) -> u32 {\n  ${cases}\n  return 0u;\n}\n`;
}

function wgslForward(s: ConvSpec): GpuDispatch[] {
  const { B, L, C, k, period } = s;
  const n = B * L * C;
  const e = s.epilogue;
  const biasCases = s.bias.map((off, tau) => `if (tau == ${tau}u) { return ${off}u + c; }`).join(' ');
  const code = `${HEADER}${rowFn('rowX', s.x)}${rowFn('rowO', s.out)}${
    e?.kind === 'silu' ? rowFn('rowS', e.s) : e?.kind === 'add' ? rowFn('rowR', e.r) : ''
  }${weightFn(s)}fn bAddr(tau: u32, c: u32) -> u32 { ${biasCases} return 0u; }
@compute @workgroup_size(256)
fn main(${ENTRY_ARGS}) {
  ${GRID_ID}
  let i = wg * 256u + li;
  if (i >= ${n}u) { return; }
  let t = i / ${C}u;
  let c = i % ${C}u;
  let l = t % ${L}u;
  let tau = l % ${period}u;
  var acc = M[bAddr(tau, c)];
  for (var j = select(0u, ${k - 1}u - l, l < ${k - 1}u); j < ${k}u; j++) {
    acc += M[wAddr(tau, c, j)] * M[rowX(t + j - ${k - 1}u) + i32(c)];
  }
  ${
    e?.kind === 'add'
      ? `M[rowO(t) + i32(c)] = M[rowR(t) + i32(c)] + acc;`
      : `M[rowO(t) + i32(c)] = acc;${e?.kind === 'silu' ? ` M[rowS(t) + i32(c)] = acc * sigm(acc);` : ''}`
  }
}
`;
  return [{ code, workgroups: foldGrid(Math.ceil(n / 256)) }];
}

function wgslBackward(s: ConvBackwardSpec): GpuDispatch[] {
  const { B, L, C, k, period } = s;
  const n = B * L * C;
  const fns = `${HEADER}${rowFn('rowX', s.x)}${rowFn('rowDy', s.dy)}${rowFn('rowDx', s.dx)}${weightFn(s)}`;
  const dxCode = `${fns}
@compute @workgroup_size(256)
fn main(${ENTRY_ARGS}) {
  ${GRID_ID}
  let i = wg * 256u + li;
  if (i >= ${n}u) { return; }
  let t = i / ${C}u;
  let c = i % ${C}u;
  let l = t % ${L}u;
  var acc = 0.0;
  for (var j = 0u; j < ${k}u; j++) {
    let m = l + ${k - 1}u - j;
    if (m < ${L}u) { acc += M[wAddr(m % ${period}u, c, j)] * M[rowDy(t + ${k - 1}u - j) + i32(c)]; }
  }
  M[rowDx(t) + i32(c)] = acc;
}
`;
  // Parameter sums: thread (τ, c, j) with j = k for the bias, one batch slice per grid row.
  const per = Math.ceil(B / s.batchSlices);
  const outCases = s.dw
    .map(
      (dw, tau) =>
        `if (tau == ${tau}u) { if (j == ${k}u) { return ${s.db[tau]}u + sl * ${C}u + c; } return ${dw}u + sl * ${C * k}u + c * ${k}u + j; }`,
    )
    .join('\n  ');
  const count = period * C * (k + 1);
  const paramsCode = `${fns}fn outAddr(tau: u32, sl: u32, c: u32, j: u32) -> u32 {
  ${outCases}
  return 0u;
}
@compute @workgroup_size(64)
fn main(${ENTRY_ARGS}) {
  let i = wid.x * 64u + lid.x;
  let sl = wid.y;
  if (i >= ${count}u) { return; }
  let tau = i / ${C * (k + 1)}u;
  let c = (i / ${k + 1}u) % ${C}u;
  let j = i % ${k + 1}u;
  var acc = 0.0;
  let b1 = min(${B}u, (sl + 1u) * ${per}u);
  for (var b = sl * ${per}u; b < b1; b++) {
    for (var m = tau; m < ${L}u; m += ${period}u) {
      let t = b * ${L}u + m;
      let dy = M[rowDy(t) + i32(c)];
      if (j == ${k}u) { acc += dy; } else if (m + j >= ${k - 1}u) { acc += dy * M[rowX(t + j - ${k - 1}u) + i32(c)]; }
    }
  }
  M[outAddr(tau, sl, c, j)] = acc;
}
`;
  return [
    { code: dxCode, workgroups: foldGrid(Math.ceil(n / 256)) },
    { code: paramsCode, workgroups: [Math.ceil(count / 64), s.batchSlices, 1] },
  ];
}

export const conv: Kernel<ConvSpec> = { name: 'conv', run: runForward, wgsl: wgslForward };
export const convBackward: Kernel<ConvBackwardSpec> = { name: 'convBackward', run: runBackward, wgsl: wgslBackward };
