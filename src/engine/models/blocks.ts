/**
 * The pieces the models' engine programs share, each a forward builder that returns what its backward
 * builder needs (docs/spec.md §2, §3.3, §5, §9):
 *
 *   trajectory embedding   three input Linears per token type, the timestep table (optional), embed_ln, dropout
 *   Mamba-1                in_proj, the causal depthwise conv (optional) and SiLU, x_proj, the scan, out_proj
 *   channel MLP            Linear(D→4D), exact GELU, Linear(4D→D), dropout on the branch
 *   DC's token mixer       one causal depthwise conv per token type
 *   action head            ln_f on the s tokens, predict_action, tanh, masked MSE
 *   optimiser              gradient slices summed, the global norm, clip and AdamW
 *
 * Parameter names are arguments: DMM's Mamba is `model.global_sequence_mixers.{i}`, Decision Mamba's
 * `transformer.h.{i}.mamba`. Each `…Params` declares its parameters in the tfjs model's registration order.
 */
import { dense, shiftCols, type Program, type Region, type Rows } from '../program';
import { conv, convBackward, type ConvSpec } from '../kernels/conv';
import { dropoutMul, type DropoutSpec } from '../kernels/dropout';
import { embeddingAdd, embeddingGrad } from '../kernels/embedding';
import { gemm, type GemmSpec } from '../kernels/gemm';
import { actionLoss } from '../kernels/loss';
import { adamw, gradReduce, NORM_CHUNK, sumSlices, type GradSegment } from '../kernels/optimizer';
import { scanBackward, scanChannels, scanForward } from '../kernels/scan';
import type { NormStats, ProgramBuilder } from './builder';

// --- Trajectory embedding (docs/spec.md §2.3–§2.6).

export interface EmbeddingOptions {
  /** Rows of the timestep table (maxEpLen), or 0 for none. */
  timesteps: number;
  /** The input dropout after embed_ln (site 'embd'). */
  dropout?: DropoutSpec;
}

/** embed_timestep (optional), embed_return, embed_state, embed_action, embed_ln: the registration order. */
export function embeddingParams(b: ProgramBuilder, o: EmbeddingOptions): void {
  const { D, S, A } = b;
  if (o.timesteps > 0) b.param('embed_timestep.weight', [o.timesteps, D]);
  b.param('embed_return.weight', [D, 1]);
  b.param('embed_return.bias', [D]);
  b.param('embed_state.weight', [D, S]);
  b.param('embed_state.bias', [D]);
  b.param('embed_action.weight', [D, A]);
  b.param('embed_action.bias', [D]);
  b.layerNormParams('embed_ln');
}

export interface EmbeddingActs {
  o: EmbeddingOptions;
  pre: Region;
  stats: NormStats;
  /** X0 [T, D]: embed_ln's output after dropout. */
  out: Region;
  embeds: [string, Region, number, number][];
}

export function embeddingForward(b: ProgramBuilder, o: EmbeddingOptions): EmbeddingActs {
  const { BK, D, T } = b;
  const pre = b.act('fwd.embed.pre', T * D);
  const out = b.act('fwd.stream.0', T * D);
  const stats = b.stats('fwd.embed_ln', T);
  const embeds: [string, Region, number, number][] = [
    ['embed_return', b.inputs.returnsToGo, 1, 0],
    ['embed_state', b.inputs.states, b.S, 1],
    ['embed_action', b.inputs.actions, b.A, 2],
  ];
  for (const [name, src, width, type] of embeds)
    b.push<GemmSpec>(
      gemm,
      {
        M: BK,
        N: D,
        K: width,
        a: { rows: dense(src.offset, BK, width), major: 'm' },
        b: { rows: dense(b.W(`${name}.weight`), D, width), major: 'n' },
        bias: b.W(`${name}.bias`),
        out: b.typeRows(pre, D, type),
      },
      `fwd.${name}`,
    );
  if (o.timesteps > 0)
    b.push(
      embeddingAdd,
      {
        rows: T,
        D,
        ids: b.ctlInputs.timesteps.offset,
        group: 3,
        V: o.timesteps,
        table: b.W('embed_timestep.weight'),
        out: b.tok(pre, D),
      },
      'fwd.embed_timestep',
    );
  b.layerNorm('embed_ln', T, b.tok(pre, D), b.tok(out, D), stats, 'fwd.embed_ln', o.dropout);
  return { o, pre, stats, out, embeds };
}

/** From ∂X0 (the gradient of the dropped-out tokens) to every embedding parameter. */
export function embeddingBackward(b: ProgramBuilder, e: EmbeddingActs, g: Rows): void {
  const { BK, D, T } = b;
  const dPre = b.act('bwd.embed.dpre', T * D);
  b.layerNormBackward('embed_ln', T, b.tok(e.pre, D), e.stats, g, b.tok(dPre, D), 'bwd.embed_ln', {
    dropout: e.o.dropout,
  });
  if (e.o.timesteps > 0)
    b.push(
      embeddingGrad,
      {
        rows: T,
        D,
        ids: b.ctlInputs.timesteps.offset,
        group: 3,
        V: e.o.timesteps,
        dy: b.tok(dPre, D),
        dtable: b.partial('embed_timestep.weight', 1),
      },
      'bwd.embed_timestep',
    );
  for (const [name, src, width, type] of e.embeds) {
    const rows = b.typeRows(dPre, D, type);
    b.weightGrad(`${name}.weight`, D, width, BK, rows, dense(src.offset, BK, width), `bwd.${name}.dw`);
    b.weightGrad(`${name}.bias`, D, 1, BK, rows, 'ones', `bwd.${name}.db`);
  }
}

// --- Mamba-1 (docs/spec.md §3.3; stock with its conv, §5).

export interface MambaShape {
  /** Parameter prefix, e.g. `model.global_sequence_mixers.0`. */
  name: string;
  E: number;
  N: number;
  /** dt rank ⌈D/16⌉. */
  R: number;
  /** Causal depthwise conv width on the x branch; 0 = none (DMM's modified block). */
  conv: number;
}

export function mambaShape(name: string, D: number, expand: number, N: number, conv: number): MambaShape {
  return { name, E: expand * D, N, R: Math.ceil(D / 16), conv };
}

export function mambaParams(b: ProgramBuilder, m: MambaShape): void {
  const { E, N, R, name: g } = m;
  b.param(`${g}.A_log`, [E, N]);
  b.param(`${g}.D`, [E]);
  b.param(`${g}.in_proj.weight`, [2 * E, b.D]);
  if (m.conv > 0) {
    b.param(`${g}.conv1d.weight`, [E, 1, m.conv]);
    b.param(`${g}.conv1d.bias`, [E]);
  }
  b.param(`${g}.x_proj.weight`, [R + 2 * N, E]);
  b.param(`${g}.dt_proj.weight`, [E, R]);
  b.param(`${g}.dt_proj.bias`, [E]);
  b.param(`${g}.out_proj.weight`, [b.D, E]);
}

interface MambaActs {
  m: MambaShape;
  /** The block's input u (a LayerNorm's output) [T, D]. */
  u: Region;
  xz: Region;
  /** The conv's output before SiLU (with a conv). */
  xc?: Region;
  xs: Region;
  xd: Region;
  rho: Region;
  o: Region;
  y: Region;
}

/** out = residual + Mamba(u): `pre` labels the launches and names the saved activations. */
function mambaForward(b: ProgramBuilder, m: MambaShape, u: Region, residual: Rows, out: Rows, pre: string): MambaActs {
  const { B, L, T, D, training } = b;
  const { E, N, R, name: g } = m;
  const XD = R + 2 * N;
  const a: MambaActs = {
    m,
    u,
    xz: b.act(`${pre}.in_proj.out`, T * 2 * E),
    xc: m.conv > 0 ? b.act(`${pre}.conv.out`, T * E) : undefined,
    xs: b.act(`${pre}.silu.out`, T * E),
    xd: b.act(`${pre}.x_proj.out`, T * XD),
    rho: b.act(`${pre}.scan.rho`, T * E),
    o: b.act(`${pre}.scan.o`, T * E),
    y: b.act(`${pre}.scan.out`, T * E),
  };
  // [x; z] = W_in u;  x = SiLU(x), or SiLU(conv(x)) with the conv.
  b.push<GemmSpec>(
    gemm,
    {
      M: T,
      N: 2 * E,
      K: D,
      a: { rows: b.tok(u, D), major: 'm' },
      b: { rows: dense(b.W(`${g}.in_proj.weight`), 2 * E, D), major: 'n' },
      out: b.tok(a.xz, 2 * E),
      epilogue: a.xc ? undefined : { kind: 'silu-split', cols: E, s: b.tok(a.xs, E) },
    },
    `${pre}.in_proj`,
  );
  if (a.xc)
    b.push<ConvSpec>(
      conv,
      {
        B,
        L,
        C: E,
        k: m.conv,
        period: 1,
        weight: [b.W(`${g}.conv1d.weight`)],
        bias: [b.W(`${g}.conv1d.bias`)],
        x: b.tok(a.xz, 2 * E),
        out: b.tok(a.xc, E),
        epilogue: { kind: 'silu', s: b.tok(a.xs, E) },
      },
      `${pre}.conv`,
    );
  b.push<GemmSpec>(
    gemm,
    {
      M: T,
      N: XD,
      K: E,
      a: { rows: b.tok(a.xs, E), major: 'm' },
      b: { rows: dense(b.W(`${g}.x_proj.weight`), XD, E), major: 'n' },
      out: b.tok(a.xd, XD),
    },
    `${pre}.x_proj`,
  );
  b.push(
    scanForward,
    {
      B,
      L,
      E,
      N,
      R,
      u: b.tok(a.xs, E),
      xd: b.tok(a.xd, XD),
      wdt: b.W(`${g}.dt_proj.weight`),
      bdt: b.W(`${g}.dt_proj.bias`),
      alog: b.W(`${g}.A_log`),
      dskip: b.W(`${g}.D`),
      z: shiftCols(b.tok(a.xz, 2 * E), E),
      out: b.tok(a.y, E),
      rho: training ? b.tok(a.rho, E) : undefined,
      o: training ? b.tok(a.o, E) : undefined,
    },
    `${pre}.scan`,
  );
  b.push<GemmSpec>(
    gemm,
    {
      M: T,
      N: D,
      K: E,
      a: { rows: b.tok(a.y, E), major: 'm' },
      b: { rows: dense(b.W(`${g}.out_proj.weight`), D, E), major: 'n' },
      out,
      epilogue: { kind: 'add', r: residual },
    },
    `${pre}.out_proj`,
  );
  return a;
}

/** From G = ∂out to ∂u (returned, a buffer shared by every layer) and every Mamba parameter. */
function mambaBackward(b: ProgramBuilder, a: MambaActs, G: Rows, pre: string): Region {
  const { B, L, T, D, gpu } = b;
  const { E, N, R, name: g } = a.m;
  const XD = R + 2 * N;
  const dY = b.shared('bwd.scan.dout', T * E);
  const dXZ = b.shared('bwd.in_proj.dout', T * 2 * E);
  const du = b.shared('bwd.scan.du', T * E);
  const drho = b.shared('bwd.scan.drho', T * E);
  const dXD = b.shared('bwd.x_proj.dout', T * XD);
  const groupChannels = gpu ? scanChannels(N) : E;
  const groups = Math.ceil(E / groupChannels);
  const dbc = b.shared('bwd.scan.dbc', groups * T * 2 * N);
  const dU = b.shared('bwd.mamba.du', T * D);
  const dXc = a.xc ? b.shared('bwd.conv.dout', T * E) : undefined;
  // out_proj: ∂y = G·W_out; ∂W_out = Gᵀ·y.
  b.push<GemmSpec>(
    gemm,
    {
      M: T,
      N: E,
      K: D,
      a: { rows: G, major: 'm' },
      b: { rows: dense(b.W(`${g}.out_proj.weight`), D, E), major: 'k' },
      out: b.tok(dY, E),
    },
    `${pre}.out_proj.dx`,
  );
  b.weightGrad(`${g}.out_proj.weight`, D, E, T, G, b.tok(a.y, E), `${pre}.out_proj.dw`);
  const batchSlices = b.batchSlices;
  b.push(
    scanBackward,
    {
      B,
      L,
      E,
      N,
      R,
      u: b.tok(a.xs, E),
      xd: b.tok(a.xd, XD),
      wdt: b.W(`${g}.dt_proj.weight`),
      bdt: b.W(`${g}.dt_proj.bias`),
      alog: b.W(`${g}.A_log`),
      dskip: b.W(`${g}.D`),
      z: shiftCols(b.tok(a.xz, 2 * E), E),
      out: b.tok(a.y, E),
      rho: b.tok(a.rho, E),
      o: b.tok(a.o, E),
      dout: b.tok(dY, E),
      du: b.tok(du, E),
      drho: b.tok(drho, E),
      dz: shiftCols(b.tok(dXZ, 2 * E), E),
      dbc: dbc.offset,
      groupChannels,
      batchSlices,
      dalog: b.partial(`${g}.A_log`, batchSlices),
      dd: b.partial(`${g}.D`, batchSlices),
      dbdt: b.partial(`${g}.dt_proj.bias`, batchSlices),
    },
    `${pre}.scan`,
  );
  // ∂[δ_low | B | C]: δ_low through dt_proj, B and C summed over channel groups.
  b.push<GemmSpec>(
    gemm,
    {
      M: T,
      N: R,
      K: E,
      a: { rows: b.tok(drho, E), major: 'm' },
      b: { rows: dense(b.W(`${g}.dt_proj.weight`), E, R), major: 'k' },
      out: b.tok(dXD, XD),
    },
    `${pre}.dt_proj.dx`,
  );
  b.push(
    sumSlices,
    {
      rows: T,
      cols: 2 * N,
      slices: groups,
      src: dbc.offset,
      sliceStride: T * 2 * N,
      srcRowStride: 2 * N,
      dst: shiftCols(b.tok(dXD, XD), R),
    },
    `${pre}.scan.dbc`,
  );
  b.weightGrad(`${g}.dt_proj.weight`, E, R, T, b.tok(drho, E), b.tok(a.xd, XD), `${pre}.dt_proj.dw`);
  // x_proj, then SiLU: ∂x_pre = (∂u + ∂xd·W_x)·SiLU′(x_pre), into the first half of ∂[x; z] (or ∂conv out).
  b.push<GemmSpec>(
    gemm,
    {
      M: T,
      N: E,
      K: XD,
      a: { rows: b.tok(dXD, XD), major: 'm' },
      b: { rows: dense(b.W(`${g}.x_proj.weight`), XD, E), major: 'k' },
      out: dXc ? b.tok(dXc, E) : b.tok(dXZ, 2 * E),
      epilogue: { kind: 'silu-grad', r: b.tok(du, E), z: a.xc ? b.tok(a.xc, E) : b.tok(a.xz, 2 * E) },
    },
    `${pre}.x_proj.dx`,
  );
  b.weightGrad(`${g}.x_proj.weight`, XD, E, T, b.tok(dXD, XD), b.tok(a.xs, E), `${pre}.x_proj.dw`);
  if (dXc)
    b.push(
      convBackward,
      {
        B,
        L,
        C: E,
        k: a.m.conv,
        period: 1,
        weight: [b.W(`${g}.conv1d.weight`)],
        x: b.tok(a.xz, 2 * E),
        dy: b.tok(dXc, E),
        dx: b.tok(dXZ, 2 * E),
        dw: [b.partial(`${g}.conv1d.weight`, batchSlices)],
        db: [b.partial(`${g}.conv1d.bias`, batchSlices)],
        batchSlices,
      },
      `${pre}.conv`,
    );
  b.push<GemmSpec>(
    gemm,
    {
      M: T,
      N: D,
      K: 2 * E,
      a: { rows: b.tok(dXZ, 2 * E), major: 'm' },
      b: { rows: dense(b.W(`${g}.in_proj.weight`), 2 * E, D), major: 'k' },
      out: b.tok(dU, D),
    },
    `${pre}.in_proj.dx`,
  );
  b.weightGrad(`${g}.in_proj.weight`, 2 * E, D, T, b.tok(dXZ, 2 * E), b.tok(a.u, D), `${pre}.in_proj.dw`);
  return dU;
}

// --- The channel MLP (docs/spec.md §5, §6.2): Sequential(Linear(D→4D), GELU, Linear(4D→D)) as `0` and `2`.

export function mlpParams(b: ProgramBuilder, name: string): void {
  const { D } = b;
  b.param(`${name}.0.weight`, [4 * D, D]);
  b.param(`${name}.0.bias`, [4 * D]);
  b.param(`${name}.2.weight`, [D, 4 * D]);
  b.param(`${name}.2.bias`, [D]);
}

interface MlpActs {
  name: string;
  u: Region;
  h: Region;
  gh: Region;
  dropout?: DropoutSpec;
}

/** out = residual + Drop(W2·GELU(W1·u + b1) + b2). */
function mlpForward(
  b: ProgramBuilder,
  name: string,
  u: Region,
  residual: Rows,
  out: Rows,
  dropout: DropoutSpec | undefined,
  pre: string,
): MlpActs {
  const { T, D } = b;
  const h = b.act(`${pre}.fc1.out`, T * 4 * D);
  const gh = b.act(`${pre}.gelu.out`, T * 4 * D);
  b.push<GemmSpec>(
    gemm,
    {
      M: T,
      N: 4 * D,
      K: D,
      a: { rows: b.tok(u, D), major: 'm' },
      b: { rows: dense(b.W(`${name}.0.weight`), 4 * D, D), major: 'n' },
      bias: b.W(`${name}.0.bias`),
      out: b.tok(h, 4 * D),
      epilogue: { kind: 'act', fn: 'gelu', s: b.tok(gh, 4 * D) },
    },
    `${pre}.fc1`,
  );
  b.push<GemmSpec>(
    gemm,
    {
      M: T,
      N: D,
      K: 4 * D,
      a: { rows: b.tok(gh, 4 * D), major: 'm' },
      b: { rows: dense(b.W(`${name}.2.weight`), D, 4 * D), major: 'n' },
      bias: b.W(`${name}.2.bias`),
      out,
      epilogue: { kind: 'add', r: residual, dropout },
    },
    `${pre}.fc2`,
  );
  return { name, u, h, gh, dropout };
}

/** From G = ∂out to ∂u (returned, shared by every layer) and the MLP's parameters. */
function mlpBackward(b: ProgramBuilder, a: MlpActs, G: Rows, pre: string): Region {
  const { T, D } = b;
  const { name } = a;
  let dV = G;
  if (a.dropout) {
    const r = b.shared('bwd.mlp.dv', T * D);
    b.push(dropoutMul, { rows: T, cols: D, x: G, y: b.tok(r, D), dropout: a.dropout }, `${pre}.dropout`);
    dV = b.tok(r, D);
  }
  const dH = b.shared('bwd.mlp.dh', T * 4 * D);
  const dU = b.shared('bwd.mlp.du', T * D);
  b.push<GemmSpec>(
    gemm,
    {
      M: T,
      N: 4 * D,
      K: D,
      a: { rows: dV, major: 'm' },
      b: { rows: dense(b.W(`${name}.2.weight`), D, 4 * D), major: 'k' },
      out: b.tok(dH, 4 * D),
      epilogue: { kind: 'act-grad', fn: 'gelu', z: b.tok(a.h, 4 * D) },
    },
    `${pre}.fc2.dx`,
  );
  b.weightGrad(`${name}.2.weight`, D, 4 * D, T, dV, b.tok(a.gh, 4 * D), `${pre}.fc2.dw`);
  b.weightGrad(`${name}.2.bias`, D, 1, T, dV, 'ones', `${pre}.fc2.db`);
  b.push<GemmSpec>(
    gemm,
    {
      M: T,
      N: D,
      K: 4 * D,
      a: { rows: b.tok(dH, 4 * D), major: 'm' },
      b: { rows: dense(b.W(`${name}.0.weight`), 4 * D, D), major: 'k' },
      out: b.tok(dU, D),
    },
    `${pre}.fc1.dx`,
  );
  b.weightGrad(`${name}.0.weight`, 4 * D, D, T, b.tok(dH, 4 * D), b.tok(a.u, D), `${pre}.fc1.dw`);
  b.weightGrad(`${name}.0.bias`, 4 * D, 1, T, b.tok(dH, 4 * D), 'ones', `${pre}.fc1.db`);
  return dU;
}

// --- The action head (docs/spec.md §2.8, §2.10): on the s tokens only.

export function headParams(b: ProgramBuilder): void {
  b.param('predict_action.0.weight', [b.A, b.D]);
  b.param('predict_action.0.bias', [b.A]);
}

export interface HeadActs {
  lnf: string;
  x: Region;
  yf: Region;
  stats: NormStats;
  dHead?: Region;
  outputs: Program['outputs'];
}

/** ln_f (`lnf`.weight / .bias) on the s rows of the final stream `x`, predict_action, tanh, loss. */
export function headForward(b: ProgramBuilder, lnf: string, x: Region): HeadActs {
  const { BK, D, A, training } = b;
  const yf = b.act('fwd.ln_f.out', BK * D);
  const stats = b.stats('fwd.ln_f', BK);
  b.layerNorm(lnf, BK, b.typeRows(x, D, 1), dense(yf.offset, BK, D), stats, 'fwd.ln_f');
  const headPre = b.act('fwd.head.pre', BK * A);
  b.push<GemmSpec>(
    gemm,
    {
      M: BK,
      N: A,
      K: D,
      a: { rows: dense(yf.offset, BK, D), major: 'm' },
      b: { rows: dense(b.W('predict_action.0.weight'), A, D), major: 'n' },
      bias: b.W('predict_action.0.bias'),
      out: dense(headPre.offset, BK, A),
    },
    'fwd.head',
  );
  const pred = b.arena.alloc('out.pred', BK * A, 'act');
  const loss = b.arena.alloc('out.loss', 1, 'act');
  const lossSum = b.arena.alloc('out.lossSum', 1, 'act');
  const gradNorm = b.arena.alloc('out.gradNorm', 1, 'act');
  const dHead = training ? b.act('bwd.head.dpre', BK * A) : undefined;
  b.push(
    actionLoss,
    {
      rows: BK,
      A,
      pre: dense(headPre.offset, BK, A),
      pred: pred.offset,
      target: training ? b.inputs.actions.offset : undefined,
      mask: training ? b.inputs.mask.offset : undefined,
      dpre: dHead ? dense(dHead.offset, BK, A) : undefined,
      loss: training ? loss.offset : undefined,
      lossSum: training ? lossSum.offset : undefined,
    },
    'loss',
  );
  return { lnf, x, yf, stats, dHead, outputs: { pred, loss, lossSum, gradNorm } };
}

/** The head's gradients; returns ∂X of the final stream (only its s rows are written: R and a get none). */
export function headBackward(b: ProgramBuilder, h: HeadActs): Region {
  const { BK, D, A, T } = b;
  const dYf = b.act('bwd.ln_f.dy', BK * D);
  const dHead = dense(h.dHead!.offset, BK, A);
  b.push<GemmSpec>(
    gemm,
    {
      M: BK,
      N: D,
      K: A,
      a: { rows: dHead, major: 'm' },
      b: { rows: dense(b.W('predict_action.0.weight'), A, D), major: 'k' },
      out: dense(dYf.offset, BK, D),
    },
    'bwd.head.dx',
  );
  b.weightGrad('predict_action.0.weight', A, D, BK, dHead, dense(h.yf.offset, BK, D), 'bwd.head.dw');
  b.weightGrad('predict_action.0.bias', A, 1, BK, dHead, 'ones', 'bwd.head.db');
  const dXf = b.act('bwd.ln_f.dx', T * D);
  b.layerNormBackward(
    h.lnf,
    BK,
    b.typeRows(h.x, D, 1),
    h.stats,
    dense(dYf.offset, BK, D),
    b.typeRows(dXf, D, 1),
    'bwd.ln_f',
  );
  return dXf;
}

// --- The optimiser (docs/spec.md §9).

/** PyTorch AdamW's betas. */
const ADAM = { beta1: 0.9, beta2: 0.999 };

/** Gradients from their slices, the global norm, clip and AdamW; the finished training program. */
export function optimizerStep(b: ProgramBuilder, key: string, outputs: Program['outputs']): Program {
  const segments: GradSegment[] = [];
  for (const [name, region] of b.params) {
    const p = b.partials.get(name);
    if (!p || p.next !== p.region.size / region.size)
      throw new Error(`Error in optimizerStep: parameter ${name} must get every gradient slice, got ${p?.next ?? 0}.`);
    segments.push({ start: b.rel.get(name)!, size: region.size, partial: p.region.offset, slices: p.slices });
  }
  const normPart = b.arena.alloc('opt.normPart', Math.ceil(b.total / NORM_CHUNK), 'scratch');
  b.push(gradReduce, { grad: b.grad!.offset, total: b.total, segments, normPart: normPart.offset }, 'opt.grads');
  b.push(
    adamw,
    {
      total: b.total,
      param: b.theta!.offset,
      grad: b.grad!.offset,
      m: b.mom1!.offset,
      v: b.mom2!.offset,
      normPart: normPart.offset,
      maxNorm: b.opts.gradClip ?? 0.25,
      beta1: ADAM.beta1,
      beta2: ADAM.beta2,
      epsilon: 1e-8,
      step: b.step!.offset,
      norm: outputs.gradNorm.offset,
    },
    'opt.adamw',
  );
  return b.program(key, outputs, { ...ADAM, weightDecay: b.opts.weightDecay ?? 1e-4 });
}

// --- Pre-norm residual branches: X_out = X + F(LN X), and X_out = X + Drop(MLP(LN X)).

interface BranchBase {
  /** The LayerNorm's parameter name, and how many layers share it (one gradient slice set each). */
  ln: string;
  times: number;
  x: Region;
  u: Region;
  stats: NormStats;
  out: Region;
}
/** DC's token mixer: one causal depthwise conv per token type, `names` in type order (R, s, a). */
interface ConvMixer {
  names: string[];
  k: number;
}
export type Branch =
  | (BranchBase & { kind: 'mamba'; inner: MambaActs })
  | (BranchBase & { kind: 'mlp'; inner: MlpActs })
  | (BranchBase & { kind: 'conv'; inner: ConvMixer });

/** X_out = X + Mamba(LN X). `pre` labels the launches and names the buffers. */
export function mambaBranch(
  b: ProgramBuilder,
  ln: string,
  times: number,
  m: MambaShape,
  x: Region,
  pre: string,
  lnLabel: string,
): Branch {
  const { T, D } = b;
  const u = b.act(`${pre}.${lnLabel}.out`, T * D);
  const stats = b.stats(`${pre}.${lnLabel}`, T);
  b.layerNorm(ln, T, b.tok(x, D), b.tok(u, D), stats, `${pre}.${lnLabel}`);
  const out = b.act(`${pre}.mamba`, T * D);
  const inner = mambaForward(b, m, u, b.tok(x, D), b.tok(out, D), pre);
  return { kind: 'mamba', ln, times, x, u, stats, inner, out };
}

/** X_out = X + Drop(MLP(LN X)), dropout site `dropout`. */
export function mlpBranch(
  b: ProgramBuilder,
  ln: string,
  times: number,
  name: string,
  x: Region,
  dropout: DropoutSpec | undefined,
  pre: string,
  lnLabel: string,
): Branch {
  const { T, D } = b;
  const u = b.act(`${pre}.${lnLabel}.out`, T * D);
  const stats = b.stats(`${pre}.${lnLabel}`, T);
  b.layerNorm(ln, T, b.tok(x, D), b.tok(u, D), stats, `${pre}.${lnLabel}`);
  const out = b.act(`${pre}.out`, T * D);
  const inner = mlpForward(b, name, u, b.tok(x, D), b.tok(out, D), dropout, `${pre}.mlp`);
  return { kind: 'mlp', ln, times, x, u, stats, inner, out };
}

/** X_out = X + Conv(LN X): DC's token mixer, one k-tap kernel per token type (docs/spec.md §6.2). */
export function convBranch(
  b: ProgramBuilder,
  ln: string,
  names: string[],
  k: number,
  x: Region,
  pre: string,
  lnLabel: string,
): Branch {
  const { B, L, T, D } = b;
  const u = b.act(`${pre}.${lnLabel}.out`, T * D);
  const stats = b.stats(`${pre}.${lnLabel}`, T);
  b.layerNorm(ln, T, b.tok(x, D), b.tok(u, D), stats, `${pre}.${lnLabel}`);
  const out = b.act(`${pre}.conv`, T * D);
  b.push<ConvSpec>(
    conv,
    {
      B,
      L,
      C: D,
      k,
      period: names.length,
      weight: names.map((n) => b.W(`${n}.weight`)),
      bias: names.map((n) => b.W(`${n}.bias`)),
      x: b.tok(u, D),
      out: b.tok(out, D),
      epilogue: { kind: 'add', r: b.tok(x, D) },
    },
    `${pre}.conv`,
  );
  return { kind: 'conv', ln, times: 1, x, u, stats, inner: { names, k }, out };
}

/** From G to ∂u of DC's conv (returned, shared by every layer) and the kernels' gradients. */
function convMixerBackward(b: ProgramBuilder, c: ConvMixer, u: Region, G: Rows, pre: string): Region {
  const { B, L, T, D } = b;
  const du = b.shared('bwd.conv.du', T * D);
  const slices = b.batchSlices;
  b.push(
    convBackward,
    {
      B,
      L,
      C: D,
      k: c.k,
      period: c.names.length,
      weight: c.names.map((n) => b.W(`${n}.weight`)),
      x: b.tok(u, D),
      dy: G,
      dx: b.tok(du, D),
      dw: c.names.map((n) => b.partial(`${n}.weight`, slices)),
      db: c.names.map((n) => b.partial(`${n}.bias`, slices)),
      batchSlices: slices,
    },
    `${pre}.conv`,
  );
  return du;
}

/** ∂X = G + LN′(F′(G)) into `dx`, and the branch's parameter gradients. */
export function branchBackward(b: ProgramBuilder, br: Branch, G: Rows, dx: Rows, pre: string, lnLabel: string): void {
  const du =
    br.kind === 'mamba'
      ? mambaBackward(b, br.inner, G, pre)
      : br.kind === 'mlp'
        ? mlpBackward(b, br.inner, G, `${pre}.mlp`)
        : convMixerBackward(b, br.inner, br.u, G, pre);
  b.layerNormBackward(br.ln, b.T, b.tok(br.x, b.D), br.stats, b.tok(du, b.D), dx, `${pre}.${lnLabel}`, {
    residual: G,
    times: br.times,
  });
}
