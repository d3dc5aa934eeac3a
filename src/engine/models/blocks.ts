/**
 * The pieces the models' engine programs share, each a forward builder that returns what its backward
 * builder needs (docs/spec.md §2, §3.3, §5, §9):
 *
 *   trajectory embedding   three input Linears per token type, the timestep table (optional), embed_ln, dropout
 *   Mamba-1                in_proj, the causal depthwise conv (optional) and SiLU, x_proj, the scan, out_proj
 *   channel MLP            Linear(D→4D), exact GELU, Linear(4D→D), dropout on the branch
 *   DC's token mixer       one causal depthwise conv per token type
 *   DT's attention         c_attn, causal single-head attention with the padding mask, c_proj, ReLU GPT-2 MLP
 *   action head            ln_f on the s tokens, predict_action, tanh, masked MSE
 *   optimiser              gradient slices summed, the global norm, clip and AdamW
 *
 * Parameter names are arguments: DMM's Mamba is `model.global_sequence_mixers.{i}`, Decision Mamba's
 * `transformer.h.{i}.mamba`. Each `…Params` declares its parameters in the tfjs model's registration order.
 */
import { dense, shiftCols, type Program, type Region, type Rows } from '../program';
import { attention, attentionBackward, type AttentionBackwardSpec, type AttentionSpec } from '../kernels/attention';
import { conv, convBackward, type ConvSpec } from '../kernels/conv';
import { dropoutMul, type DropoutSpec } from '../kernels/dropout';
import { embeddingAdd, embeddingGrad } from '../kernels/embedding';
import { gemm, type Epilogue, type GemmSpec } from '../kernels/gemm';
import type { Activation } from '../kernels/activation';
import { actionLoss } from '../kernels/loss';
import { adamw, gradReduce, NORM_CHUNK, sumSlices, type GradSegment } from '../kernels/optimizer';
import { scanBackward, scanChannels, scanForward, type ScanSpec } from '../kernels/scan';
import type { NormStats, ProgramBuilder, ProgramOptions } from './builder';

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

/** The scan's operands, shared by its forward and backward launches (kernels/scan.ts). */
function scanSpec(b: ProgramBuilder, a: MambaActs): Omit<ScanSpec, 'rho' | 'o'> {
  const { E, N, R, name: g } = a.m;
  return {
    B: b.B,
    L: b.L,
    E,
    N,
    R,
    u: b.tok(a.xs, E),
    xd: b.tok(a.xd, R + 2 * N),
    wdt: b.W(`${g}.dt_proj.weight`),
    bdt: b.W(`${g}.dt_proj.bias`),
    alog: b.W(`${g}.A_log`),
    dskip: b.W(`${g}.D`),
    z: shiftCols(b.tok(a.xz, 2 * E), E),
    out: b.tok(a.y, E),
  };
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
    { ...scanSpec(b, a), rho: training ? b.tok(a.rho, E) : undefined, o: training ? b.tok(a.o, E) : undefined },
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
      ...scanSpec(b, a),
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

// --- Dense layers in the two weight layouts: PyTorch's Linear ([out, in], y = x·Wᵀ + b) and HF's Conv1D
// ([in, out], y = x·W + b, DT's GPT-2).

export type WeightLayout = 'linear' | 'conv1d';

export interface DenseLayer {
  name: string;
  inF: number;
  outF: number;
  layout: WeightLayout;
}

/** Declares `name`.weight and `name`.bias. */
export function denseParams(b: ProgramBuilder, l: DenseLayer): void {
  b.param(`${l.name}.weight`, l.layout === 'linear' ? [l.outF, l.inF] : [l.inF, l.outF]);
  b.param(`${l.name}.bias`, [l.outF]);
}

/** y = x·W(ᵀ) + b over the T token rows, with an epilogue. */
function denseForward(b: ProgramBuilder, l: DenseLayer, x: Rows, y: Rows, label: string, epilogue?: Epilogue) {
  const w = b.W(`${l.name}.weight`);
  b.push<GemmSpec>(
    gemm,
    {
      M: b.T,
      N: l.outF,
      K: l.inF,
      a: { rows: x, major: 'm' },
      b:
        l.layout === 'linear'
          ? { rows: dense(w, l.outF, l.inF), major: 'n' }
          : { rows: dense(w, l.inF, l.outF), major: 'k' },
      bias: b.W(`${l.name}.bias`),
      out: y,
      epilogue,
    },
    label,
  );
}

/** ∂x = ∂y·W(ᵀ)ᵀ (with an epilogue), and ∂W, ∂b into the layer's partial slices. */
function denseBackward(
  b: ProgramBuilder,
  l: DenseLayer,
  x: Rows,
  dy: Rows,
  dx: Rows,
  label: string,
  epilogue?: Epilogue,
) {
  const { T } = b;
  const w = b.W(`${l.name}.weight`);
  b.push<GemmSpec>(
    gemm,
    {
      M: T,
      N: l.inF,
      K: l.outF,
      a: { rows: dy, major: 'm' },
      b:
        l.layout === 'linear'
          ? { rows: dense(w, l.outF, l.inF), major: 'k' }
          : { rows: dense(w, l.inF, l.outF), major: 'n' },
      out: dx,
      epilogue,
    },
    `${label}.dx`,
  );
  if (l.layout === 'linear') b.weightGrad(`${l.name}.weight`, l.outF, l.inF, T, dy, x, `${label}.dw`);
  else b.weightGrad(`${l.name}.weight`, l.inF, l.outF, T, x, dy, `${label}.dw`);
  b.weightGrad(`${l.name}.bias`, l.outF, 1, T, dy, 'ones', `${label}.db`);
}

/** ∂v = G·mask where the branch was dropped out (G itself otherwise), in a buffer shared by every layer. */
function droppedGradient(b: ProgramBuilder, G: Rows, dropout: DropoutSpec | undefined, label: string): Rows {
  if (!dropout) return G;
  const r = b.shared('bwd.dropout.dv', b.T * b.D);
  b.push(dropoutMul, { rows: b.T, cols: b.D, x: G, y: b.tok(r, b.D), dropout }, label);
  return b.tok(r, b.D);
}

// --- The MLPs: DC's and Decision Mamba's channel MLP, Sequential(Linear(D→4D), GELU, Linear(4D→D)) as `0` and
// `2` (docs/spec.md §5, §6.2), and DT's GPT-2 MLP, Conv1D `c_fc` (D→4D), ReLU, Conv1D `c_proj` (docs/spec.md §6.1).

export interface MlpShape {
  fc1: DenseLayer;
  fc2: DenseLayer;
  act: Activation;
}

export function channelMlp(name: string, D: number): MlpShape {
  return {
    fc1: { name: `${name}.0`, inF: D, outF: 4 * D, layout: 'linear' },
    fc2: { name: `${name}.2`, inF: 4 * D, outF: D, layout: 'linear' },
    act: 'gelu',
  };
}

export function gpt2Mlp(name: string, D: number): MlpShape {
  return {
    fc1: { name: `${name}.c_fc`, inF: D, outF: 4 * D, layout: 'conv1d' },
    fc2: { name: `${name}.c_proj`, inF: 4 * D, outF: D, layout: 'conv1d' },
    act: 'relu',
  };
}

export function mlpParams(b: ProgramBuilder, m: MlpShape): void {
  denseParams(b, m.fc1);
  denseParams(b, m.fc2);
}

interface MlpActs {
  m: MlpShape;
  u: Region;
  h: Region;
  gh: Region;
  dropout?: DropoutSpec;
}

/** out = residual + Drop(W2·act(W1·u + b1) + b2). */
function mlpForward(
  b: ProgramBuilder,
  m: MlpShape,
  u: Region,
  residual: Rows,
  out: Rows,
  dropout: DropoutSpec | undefined,
  pre: string,
): MlpActs {
  const H = m.fc1.outF;
  const h = b.act(`${pre}.fc1.out`, b.T * H);
  const gh = b.act(`${pre}.act.out`, b.T * H);
  denseForward(b, m.fc1, b.tok(u, b.D), b.tok(h, H), `${pre}.fc1`, { kind: 'act', fn: m.act, s: b.tok(gh, H) });
  denseForward(b, m.fc2, b.tok(gh, H), out, `${pre}.fc2`, { kind: 'add', r: residual, dropout });
  return { m, u, h, gh, dropout };
}

/** From G = ∂out to ∂u (returned, shared by every layer) and the MLP's parameters. */
function mlpBackward(b: ProgramBuilder, a: MlpActs, G: Rows, pre: string): Region {
  const { T, D } = b;
  const H = a.m.fc1.outF;
  const dV = droppedGradient(b, G, a.dropout, `${pre}.dropout`);
  const dH = b.shared('bwd.mlp.dh', T * H);
  const dU = b.shared('bwd.mlp.du', T * D);
  denseBackward(b, a.m.fc2, b.tok(a.gh, H), dV, b.tok(dH, H), `${pre}.fc2`, {
    kind: 'act-grad',
    fn: a.m.act,
    z: b.tok(a.h, H),
  });
  denseBackward(b, a.m.fc1, b.tok(a.u, D), b.tok(dH, H), b.tok(dU, D), `${pre}.fc1`);
  return dU;
}

// --- DT's causal self-attention (docs/spec.md §6.1): Conv1D `c_attn` (D→3D), one head, Conv1D `c_proj`.

export function attentionParams(b: ProgramBuilder, name: string): void {
  for (const l of attentionLayers(name, b.D)) denseParams(b, l);
}

function attentionLayers(name: string, D: number): [DenseLayer, DenseLayer] {
  return [
    { name: `${name}.c_attn`, inF: D, outF: 3 * D, layout: 'conv1d' },
    { name: `${name}.c_proj`, inF: D, outF: D, layout: 'conv1d' },
  ];
}

interface AttentionActs {
  layers: [DenseLayer, DenseLayer];
  u: Region;
  qkv: Region;
  p: Region;
  o: Region;
  attnDrop?: DropoutSpec;
  residDrop?: DropoutSpec;
}

/** out = residual + Drop_resid(c_proj(Attention(c_attn(u)))), attention probabilities dropped by `attnDrop`. */
function attentionLayerForward(
  b: ProgramBuilder,
  name: string,
  u: Region,
  residual: Rows,
  out: Rows,
  drops: { attn?: DropoutSpec; resid?: DropoutSpec },
  pre: string,
): AttentionActs {
  const { B, L, T, D } = b;
  const layers = attentionLayers(name, D);
  const a: AttentionActs = {
    layers,
    u,
    qkv: b.act(`${pre}.c_attn.out`, T * 3 * D),
    p: b.act(`${pre}.attn.p`, B * L * L),
    o: b.act(`${pre}.attn.out`, T * D),
    attnDrop: drops.attn,
    residDrop: drops.resid,
  };
  denseForward(b, layers[0], b.tok(u, D), b.tok(a.qkv, 3 * D), `${pre}.c_attn`);
  b.push<AttentionSpec>(
    attention,
    {
      B,
      L,
      D,
      qkv: b.tok(a.qkv, 3 * D),
      mask: b.inputs.mask.offset,
      p: a.p.offset,
      dropout: drops.attn,
      out: b.tok(a.o, D),
    },
    `${pre}.attn`,
  );
  denseForward(b, layers[1], b.tok(a.o, D), out, `${pre}.c_proj`, { kind: 'add', r: residual, dropout: drops.resid });
  return a;
}

function attentionLayerBackward(b: ProgramBuilder, a: AttentionActs, G: Rows, pre: string): Region {
  const { B, L, T, D } = b;
  const dV = droppedGradient(b, G, a.residDrop, `${pre}.resid_dropout`);
  const dO = b.shared('bwd.attn.dout', T * D);
  const dQkv = b.shared('bwd.attn.dqkv', T * 3 * D);
  const dS = b.shared('bwd.attn.ds', B * L * L);
  const dU = b.shared('bwd.attn.du', T * D);
  denseBackward(b, a.layers[1], b.tok(a.o, D), dV, b.tok(dO, D), `${pre}.c_proj`);
  b.push<AttentionBackwardSpec>(
    attentionBackward,
    {
      B,
      L,
      D,
      qkv: b.tok(a.qkv, 3 * D),
      mask: b.inputs.mask.offset,
      p: a.p.offset,
      dropout: a.attnDrop,
      dout: b.tok(dO, D),
      ds: dS.offset,
      dqkv: b.tok(dQkv, 3 * D),
    },
    `${pre}.attn`,
  );
  denseBackward(b, a.layers[0], b.tok(a.u, D), b.tok(dQkv, 3 * D), b.tok(dU, D), `${pre}.c_attn`);
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
    if (b.untrained.has(name)) continue;
    const p = b.partials.get(name);
    if (!p || p.next !== p.region.size / region.size)
      throw new Error(`Error in optimizerStep: parameter ${name} must get every gradient slice, got ${p?.next ?? 0}.`);
    segments.push({ start: b.rel.get(name)!, size: region.size, partial: p.region.offset, slices: p.slices });
  }
  segments.sort((x, y) => x.start - y.start);
  const total = b.trainedTotal;
  const normPart = b.arena.alloc('opt.normPart', Math.ceil(total / NORM_CHUNK), 'scratch');
  b.push(gradReduce, { grad: b.grad!.offset, total, segments, normPart: normPart.offset }, 'opt.grads');
  b.push(
    adamw,
    {
      total,
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
  | (BranchBase & { kind: 'conv'; inner: ConvMixer })
  | (BranchBase & { kind: 'attention'; inner: AttentionActs });

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
  m: MlpShape,
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
  const inner = mlpForward(b, m, u, b.tok(x, D), b.tok(out, D), dropout, `${pre}.mlp`);
  return { kind: 'mlp', ln, times, x, u, stats, inner, out };
}

/** X_out = X + Drop(Attention(LN X)): DT's attention block half (no padding mask outside DT). */
export function attentionBranch(
  b: ProgramBuilder,
  ln: string,
  name: string,
  x: Region,
  drops: { attn?: DropoutSpec; resid?: DropoutSpec },
  pre: string,
  lnLabel: string,
): Branch {
  const { T, D } = b;
  const u = b.act(`${pre}.${lnLabel}.out`, T * D);
  const stats = b.stats(`${pre}.${lnLabel}`, T);
  b.layerNorm(ln, T, b.tok(x, D), b.tok(u, D), stats, `${pre}.${lnLabel}`);
  const out = b.act(`${pre}.attn.res`, T * D);
  const inner = attentionLayerForward(b, name, u, b.tok(x, D), b.tok(out, D), drops, pre);
  return { kind: 'attention', ln, times: 1, x, u, stats, inner, out };
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
        : br.kind === 'conv'
          ? convMixerBackward(b, br.inner, br.u, G, pre)
          : attentionLayerBackward(b, br.inner, G, pre);
  b.layerNormBackward(br.ln, b.T, b.tok(br.x, b.D), br.stats, b.tok(du, b.D), dx, `${pre}.${lnLabel}`, {
    residual: G,
    times: br.times,
  });
}

/**
 * The backward pass of a stack of pre-norm residual branches (DC, DT, Decision Mamba), given in forward order
 * with the label of their LayerNorm: G enters at the final LayerNorm's input gradient and goes through the
 * branches last to first (residuals included), alternating between two stream buffers so a branch never
 * writes the buffer its G is read from. Returns the gradient at the embedding's output.
 */
export function branchesBackward(
  b: ProgramBuilder,
  dXf: Region,
  branches: readonly { branch: Branch; layer: number; ln: string }[],
): Rows {
  const { D, T } = b;
  const gBuf = [b.act('bwd.stream.0', T * D), b.act('bwd.stream.1', T * D)];
  let gIn: Rows = b.tok(dXf, D);
  let next = 0;
  for (const br of [...branches].reverse()) {
    const g = b.tok(gBuf[next++ % 2], D);
    branchBackward(b, br.branch, gIn, g, `bwd.layer${br.layer}`, br.ln);
    gIn = g;
  }
  return gIn;
}

/** A program's cache key: the model, its configuration, the dims, the batch size and the kind of program. */
export function programKey(
  model: string,
  cfg: object,
  dims: { stateDim: number; actDim: number },
  opts: ProgramOptions,
): string {
  return `${model} ${JSON.stringify(cfg)} ${dims.stateDim}/${dims.actDim} B=${opts.batchSize} ${
    opts.training ? 'train' : 'forward'
  } ${opts.target}`;
}
