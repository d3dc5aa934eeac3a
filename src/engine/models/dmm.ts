/**
 * DMM's training step (docs/spec.md §3, §9) as a fixed engine program: the forward pass of
 * src/models/decision-metamamba.ts, the masked MSE, its backward pass, the global-norm clip and AdamW,
 * as ~20 launches per layer over one arena. The tfjs model is the reference; test/engine checks this
 * program against it (outputs, every gradient, weights after AdamW steps).
 *
 * Token rows: t = b·L + l over the L = 3K tokens (R_t, s_t, a_t) of each of the B windows. Buffers the DSM
 * reads as windows carry k − 1 zero rows per sequence: before it (LN1's output, so row t's window
 * [U_{t−k+1}; …; U_t] is k·D contiguous floats) or after it (the gradient of the mixer's output, for the
 * adjoint window). Those rows are never written, so they stay zero.
 *
 * Covered: Mamba-1 (any expand, N), dense DSM (`per-layer` or `shared-frozen`, any window k) or no local
 * mixer, shared or per-layer LN1/LN2, any D, K, dropout. Not covered (the trainer keeps them on tfjs):
 * Mamba-2, the conv and attention mixers, the timestep embedding, the channel MLP, Mamba's conv.
 */
import type { DmmConfig } from '../../models/decision-metamamba';
import type { EnvDims } from '../../models/sequence-model';
import { Arena, dense, shiftCols, type Launch, type Program, type Region, type Rows } from '../program';
import { gemm, gpuSplits, type GemmSpec } from '../kernels/gemm';
import { layerNorm, layerNormBackward, type DropoutSpec } from '../kernels/layer-norm';
import { actionLoss } from '../kernels/loss';
import { adamw, gradReduce, NORM_CHUNK, sumSlices, type GradSegment } from '../kernels/optimizer';
import { scanBackward, scanChannels, scanForward } from '../kernels/scan';

export interface DmmProgramOptions {
  batchSize: number;
  /** A training step (forward, backward, AdamW) or the forward pass only (evaluation). */
  training: boolean;
  /** Which executor the program is laid out for: the GPU gets reduction slices that fill it. */
  target: 'cpu' | 'gpu';
  /** AdamW and clip settings (docs/spec.md §9). */
  weightDecay?: number;
  gradClip?: number;
}

/** Why the engine cannot run `cfg`, or null when it can. */
export function dmmEngineGap(cfg: Readonly<DmmConfig>): string | null {
  if (cfg.globalMixer !== 'mamba1') return `globalMixer '${cfg.globalMixer}'`;
  if (cfg.tokenMixer !== 'dense' && cfg.tokenMixer !== 'none') return `tokenMixer '${cfg.tokenMixer}'`;
  if (cfg.timestepEmbedding) return 'timestepEmbedding';
  if (cfg.channelMlp) return 'channelMlp';
  if (cfg.mambaConv > 0) return `mambaConv ${cfg.mambaConv}`;
  return null;
}

const EPS = 1e-5;

export function buildDmmProgram(cfg: Readonly<DmmConfig>, dims: EnvDims, opts: DmmProgramOptions): Program {
  const gap = dmmEngineGap(cfg);
  if (gap)
    throw new Error(`Error in buildDmmProgram: the fused engine does not cover ${gap}; train it with --engine tfjs.`);
  const B = opts.batchSize;
  const K = cfg.contextLength;
  const L = 3 * K;
  const T = B * L;
  const BK = B * K;
  const D = cfg.hiddenSize;
  const E = cfg.mambaExpand * D;
  const N = cfg.stateSize;
  const R = Math.ceil(D / 16);
  const XD = R + 2 * N;
  const n = cfg.nLayer;
  const k = cfg.windowSize;
  const P = k - 1;
  const { stateDim: S, actDim: A } = dims;
  const gpu = opts.target === 'gpu';
  const dsm = cfg.tokenMixer === 'dense';
  const frozenDsm = dsm && cfg.dsmMode === 'shared-frozen';
  const training = opts.training;

  const arena = new Arena();
  const ctl = new Arena(1);
  const launches: Launch[] = [];
  const push = <Spec>(kernel: { name: string }, spec: Spec, label: string) =>
    launches.push({ kernel: kernel as Launch['kernel'], spec, label });

  // --- Parameters, in the tfjs model's registration order (docs/spec.md §13); one flat block each of θ, g, m, v.
  const shapes: [string, number[]][] = [];
  const ln = (name: string, i: number) => (cfg.shareLayerNorm ? `model.${name}` : `model.${name}.${i}`);
  const lnNames = (name: string) =>
    cfg.shareLayerNorm ? [ln(name, 0)] : Array.from({ length: n }, (_, i) => ln(name, i));
  if (dsm) for (const p of lnNames('ln_1')) shapes.push([`${p}.weight`, [D]], [`${p}.bias`, [D]]);
  if (dsm && !frozenDsm)
    for (let i = 0; i < n; i++) shapes.push([`model.local_sequence_mixers.${i}.lin.weight`, [D, k * D]]);
  for (const p of lnNames('ln_2')) shapes.push([`${p}.weight`, [D]], [`${p}.bias`, [D]]);
  for (let i = 0; i < n; i++) {
    const g = `model.global_sequence_mixers.${i}`;
    shapes.push(
      [`${g}.A_log`, [E, N]],
      [`${g}.D`, [E]],
      [`${g}.in_proj.weight`, [2 * E, D]],
      [`${g}.x_proj.weight`, [XD, E]],
      [`${g}.dt_proj.weight`, [E, R]],
      [`${g}.dt_proj.bias`, [E]],
      [`${g}.out_proj.weight`, [D, E]],
    );
  }
  shapes.push(['model.ln_f.weight', [D]], ['model.ln_f.bias', [D]]);
  shapes.push(['embed_return.weight', [D, 1]], ['embed_return.bias', [D]]);
  shapes.push(['embed_state.weight', [D, S]], ['embed_state.bias', [D]]);
  shapes.push(['embed_action.weight', [D, A]], ['embed_action.bias', [D]]);
  shapes.push(['embed_ln.weight', [D]], ['embed_ln.bias', [D]]);
  shapes.push(['predict_action.0.weight', [A, D]], ['predict_action.0.bias', [A]]);

  const total = shapes.reduce((s, [, sh]) => s + sh.reduce((a, b) => a * b, 1), 0);
  const block = (name: string, role: Region['role']) => arena.alloc(name, total, role);
  const theta = block('params', 'param');
  const params = new Map<string, Region>();
  const rel = new Map<string, number>();
  {
    let o = 0;
    for (const [name, shape] of shapes) {
      const size = shape.reduce((a, b) => a * b, 1);
      params.set(name, { name, offset: theta.offset + o, size, role: 'param', shape });
      rel.set(name, o);
      o += size;
    }
  }
  const W = (name: string) => params.get(name)!.offset;
  const frozen = new Map<string, Region>();
  if (frozenDsm) {
    const name = 'model.local_sequence_mixers.shared.lin.weight';
    frozen.set(name, { ...arena.alloc(name, D * k * D, 'frozen', [D, k * D]), name });
  }
  const dsmWeight = (i: number) =>
    frozenDsm
      ? frozen.get('model.local_sequence_mixers.shared.lin.weight')!.offset
      : W(`model.local_sequence_mixers.${i}.lin.weight`);

  const grad = training ? block('grads', 'grad') : undefined;
  const mom1 = training ? block('adam.m', 'adam') : undefined;
  const mom2 = training ? block('adam.v', 'adam') : undefined;

  // Partial gradient slices: each parameter's gradient is the sum of its slices (gradReduce).
  const partials = new Map<string, { region: Region; slices: number; next: number }>();
  const partial = (name: string, slices: number, times = 1) => {
    const size = params.get(name)!.size;
    let p = partials.get(name);
    if (!p) {
      p = { region: arena.alloc(`partial:${name}`, size * slices * times, 'partial'), slices: slices * times, next: 0 };
      partials.set(name, p);
    }
    const off = p.region.offset + p.next * size;
    p.next += slices;
    return off;
  };
  const sharedTimes = cfg.shareLayerNorm ? n : 1;

  // --- The batch and the step's scalars.
  const inputs = {
    states: arena.alloc('batch.states', BK * S, 'batch'),
    actions: arena.alloc('batch.actions', BK * A, 'batch'),
    returnsToGo: arena.alloc('batch.returnsToGo', BK, 'batch'),
    mask: arena.alloc('batch.mask', BK, 'batch'),
  };
  const step = arena.alloc('step', 3, 'step');
  const keys = ctl.alloc('dropoutKeys', 2, 'step');
  const dropout: DropoutSpec | undefined =
    training && cfg.dropout > 0 ? { p: cfg.dropout, key: keys.offset } : undefined;

  const act = (name: string, size: number) => arena.alloc(name, size, 'act');
  const tok = (r: Region, cols: number): Rows => dense(r.offset, T, cols);
  /** The token rows (R, s or a: type 0, 1, 2) of a [T, cols] buffer. */
  const typeRows = (r: Region, cols: number, type: number): Rows => ({
    off: r.offset + type * cols,
    g: K,
    gs: L * cols,
    rs: 3 * cols,
  });
  /** A [B, L + P, D] buffer with P zero rows before (`front`) or after each sequence; its token rows. */
  const padded = (name: string, front: boolean) => {
    const r = act(name, B * (L + P) * D);
    const rows: Rows = { off: r.offset + (front ? P * D : 0), g: L, gs: (L + P) * D, rs: D };
    // Window rows: row t = [x_{t−P}; …; x_t] (front) or [x_t; …; x_{t+P}] (back), k·D floats from row t − P or t.
    const windows: Rows = { off: r.offset, g: L, gs: (L + P) * D, rs: D };
    return { region: r, rows, windows };
  };

  // --- Forward (docs/spec.md §3.1).
  const embPre = act('fwd.embed.pre', T * D);
  const stream = Array.from({ length: 2 * n + 1 }, (_, j) => act(`fwd.stream.${j}`, T * D));
  const stats = (name: string, rows: number) => ({ mean: act(`${name}.mean`, rows), rstd: act(`${name}.rstd`, rows) });
  const embStats = stats('fwd.embed_ln', T);
  const embeds: [string, Region, number, number][] = [
    ['embed_return', inputs.returnsToGo, 1, 0],
    ['embed_state', inputs.states, S, 1],
    ['embed_action', inputs.actions, A, 2],
  ];
  for (const [name, src, width, type] of embeds) {
    push<GemmSpec>(
      gemm,
      {
        M: BK,
        N: D,
        K: width,
        a: { rows: dense(src.offset, BK, width), major: 'm' },
        b: { rows: dense(W(`${name}.weight`), D, width), major: 'n' },
        bias: W(`${name}.bias`),
        out: typeRows(embPre, D, type),
      },
      `fwd.${name}`,
    );
  }
  push(
    layerNorm,
    {
      rows: T,
      D,
      x: tok(embPre, D),
      y: tok(stream[0], D),
      gamma: W('embed_ln.weight'),
      beta: W('embed_ln.bias'),
      mean: embStats.mean.offset,
      rstd: embStats.rstd.offset,
      eps: EPS,
      dropout,
    },
    'fwd.embed_ln',
  );

  interface LayerActs {
    xIn: Region;
    xMid: Region;
    xOut: Region;
    u?: ReturnType<typeof padded>;
    ln1?: ReturnType<typeof stats>;
    uz: Region;
    ln2: ReturnType<typeof stats>;
    xz: Region;
    xs: Region;
    xd: Region;
    rho: Region;
    o: Region;
    y: Region;
  }
  const layers: LayerActs[] = [];
  for (let i = 0; i < n; i++) {
    const xIn = stream[2 * i];
    const xMid = dsm ? stream[2 * i + 1] : xIn;
    const xOut = stream[2 * i + 2];
    const pre = `fwd.layer${i}`;
    const la: LayerActs = {
      xIn,
      xMid,
      xOut,
      uz: act(`${pre}.ln2.out`, T * D),
      ln2: stats(`${pre}.ln2`, T),
      xz: act(`${pre}.in_proj.out`, T * 2 * E),
      xs: act(`${pre}.silu.out`, T * E),
      xd: act(`${pre}.x_proj.out`, T * XD),
      rho: act(`${pre}.scan.rho`, T * E),
      o: act(`${pre}.scan.o`, T * E),
      y: act(`${pre}.scan.out`, T * E),
    };
    if (dsm) {
      la.u = padded(`${pre}.ln1.out`, true);
      la.ln1 = stats(`${pre}.ln1`, T);
      push(
        layerNorm,
        {
          rows: T,
          D,
          x: tok(xIn, D),
          y: la.u.rows,
          gamma: W(`${ln('ln_1', i)}.weight`),
          beta: W(`${ln('ln_1', i)}.bias`),
          mean: la.ln1.mean.offset,
          rstd: la.ln1.rstd.offset,
          eps: EPS,
        },
        `${pre}.ln1`,
      );
      // X_mid = X + DSM(LN1 X): one product over the k-token windows (docs/spec.md §3.2).
      push<GemmSpec>(
        gemm,
        {
          M: T,
          N: D,
          K: k * D,
          a: { rows: la.u.windows, major: 'm' },
          b: { rows: dense(dsmWeight(i), D, k * D), major: 'n' },
          out: tok(xMid, D),
          epilogue: { kind: 'add', r: tok(xIn, D) },
        },
        `${pre}.dsm`,
      );
    }
    push(
      layerNorm,
      {
        rows: T,
        D,
        x: tok(xMid, D),
        y: tok(la.uz, D),
        gamma: W(`${ln('ln_2', i)}.weight`),
        beta: W(`${ln('ln_2', i)}.bias`),
        mean: la.ln2.mean.offset,
        rstd: la.ln2.rstd.offset,
        eps: EPS,
      },
      `${pre}.ln2`,
    );
    const g = `model.global_sequence_mixers.${i}`;
    // [x; z] = W_in u, x = SiLU(x) (docs/spec.md §3.3: no conv).
    push<GemmSpec>(
      gemm,
      {
        M: T,
        N: 2 * E,
        K: D,
        a: { rows: tok(la.uz, D), major: 'm' },
        b: { rows: dense(W(`${g}.in_proj.weight`), 2 * E, D), major: 'n' },
        out: tok(la.xz, 2 * E),
        epilogue: { kind: 'silu-split', cols: E, s: tok(la.xs, E) },
      },
      `${pre}.in_proj`,
    );
    push<GemmSpec>(
      gemm,
      {
        M: T,
        N: XD,
        K: E,
        a: { rows: tok(la.xs, E), major: 'm' },
        b: { rows: dense(W(`${g}.x_proj.weight`), XD, E), major: 'n' },
        out: tok(la.xd, XD),
      },
      `${pre}.x_proj`,
    );
    push(
      scanForward,
      {
        B,
        L,
        E,
        N,
        R,
        u: tok(la.xs, E),
        xd: tok(la.xd, XD),
        wdt: W(`${g}.dt_proj.weight`),
        bdt: W(`${g}.dt_proj.bias`),
        alog: W(`${g}.A_log`),
        dskip: W(`${g}.D`),
        z: shiftCols(tok(la.xz, 2 * E), E),
        out: tok(la.y, E),
        rho: training ? tok(la.rho, E) : undefined,
        o: training ? tok(la.o, E) : undefined,
      },
      `${pre}.scan`,
    );
    push<GemmSpec>(
      gemm,
      {
        M: T,
        N: D,
        K: E,
        a: { rows: tok(la.y, E), major: 'm' },
        b: { rows: dense(W(`${g}.out_proj.weight`), D, E), major: 'n' },
        out: tok(xOut, D),
        epilogue: { kind: 'add', r: tok(xMid, D) },
      },
      `${pre}.out_proj`,
    );
    layers.push(la);
  }

  // Head on the s tokens only (docs/spec.md §2.8): ln_f, predict_action, tanh, masked MSE.
  const xFinal = stream[2 * n];
  const sRows = (r: Region) => typeRows(r, D, 1);
  const yf = act('fwd.ln_f.out', BK * D);
  const lnfStats = stats('fwd.ln_f', BK);
  push(
    layerNorm,
    {
      rows: BK,
      D,
      x: sRows(xFinal),
      y: dense(yf.offset, BK, D),
      gamma: W('model.ln_f.weight'),
      beta: W('model.ln_f.bias'),
      mean: lnfStats.mean.offset,
      rstd: lnfStats.rstd.offset,
      eps: EPS,
    },
    'fwd.ln_f',
  );
  const headPre = act('fwd.head.pre', BK * A);
  push<GemmSpec>(
    gemm,
    {
      M: BK,
      N: A,
      K: D,
      a: { rows: dense(yf.offset, BK, D), major: 'm' },
      b: { rows: dense(W('predict_action.0.weight'), A, D), major: 'n' },
      bias: W('predict_action.0.bias'),
      out: dense(headPre.offset, BK, A),
    },
    'fwd.head',
  );
  const pred = arena.alloc('out.pred', BK * A, 'act');
  const loss = arena.alloc('out.loss', 1, 'act');
  const lossSum = arena.alloc('out.lossSum', 1, 'act');
  const norm = arena.alloc('out.gradNorm', 1, 'act');
  const dHead = training ? act('bwd.head.dpre', BK * A) : undefined;
  push(
    actionLoss,
    {
      rows: BK,
      A,
      pre: dense(headPre.offset, BK, A),
      pred: pred.offset,
      target: training ? inputs.actions.offset : undefined,
      mask: training ? inputs.mask.offset : undefined,
      dpre: dHead ? dense(dHead.offset, BK, A) : undefined,
      loss: training ? loss.offset : undefined,
      lossSum: training ? lossSum.offset : undefined,
    },
    'loss',
  );

  const outputs: Program['outputs'] = { pred, loss, lossSum, gradNorm: norm };
  if (!training) {
    return freeze({ arena, ctl, launches, params, frozen, inputs, outputs, training, key: keyOf(cfg, dims, opts) });
  }

  // --- Backward.
  const splits = (M: number, Nn: number, Kk: number) => (gpu ? gpuSplits(M, Nn, Kk) : 1);
  const lnSplits = (rows: number) => (gpu ? Math.ceil(rows / 64) : 1);
  /** Weight gradient C[M, N] = Σ_t A(t)ᵀ·B(t) over `Kk` token rows into `name`'s next partial slices. */
  const weightGrad = (
    name: string,
    M: number,
    Nn: number,
    Kk: number,
    a: Rows,
    b: Rows | 'ones',
    label: string,
    times = 1,
  ) => {
    const s = splits(M, Nn, Kk);
    const off = partial(name, s, times);
    push<GemmSpec>(
      gemm,
      {
        M,
        N: Nn,
        K: Kk,
        a: { rows: a, major: 'k' },
        b: b === 'ones' ? { ones: true } : { rows: b, major: 'k' },
        out: dense(off, M, Nn),
        splits: s,
        sliceStride: M * Nn,
      },
      label,
    );
  };
  const lnBackward = (
    name: string,
    rows: number,
    x: Rows,
    st: ReturnType<typeof stats>,
    dy: Rows,
    dx: Rows,
    label: string,
    extra: { residual?: Rows; dropout?: DropoutSpec; times?: number } = {},
  ) => {
    const s = lnSplits(rows);
    push(
      layerNormBackward,
      {
        rows,
        D,
        x,
        mean: st.mean.offset,
        rstd: st.rstd.offset,
        gamma: W(`${name}.weight`),
        dy,
        dx,
        residual: extra.residual,
        dropout: extra.dropout,
        dgamma: partial(`${name}.weight`, s, extra.times),
        dbeta: partial(`${name}.bias`, s, extra.times),
        splits: s,
        sliceStride: D,
      },
      label,
    );
  };

  // Head.
  const dYf = act('bwd.ln_f.dy', BK * D);
  push<GemmSpec>(
    gemm,
    {
      M: BK,
      N: D,
      K: A,
      a: { rows: dense(dHead!.offset, BK, A), major: 'm' },
      b: { rows: dense(W('predict_action.0.weight'), A, D), major: 'k' },
      out: dense(dYf.offset, BK, D),
    },
    'bwd.head.dx',
  );
  weightGrad('predict_action.0.weight', A, D, BK, dense(dHead!.offset, BK, A), dense(yf.offset, BK, D), 'bwd.head.dw');
  weightGrad('predict_action.0.bias', A, 1, BK, dense(dHead!.offset, BK, A), 'ones', 'bwd.head.db');
  // Only the s rows of dXf are ever written: the R and a rows of the final stream get no gradient.
  const dXf = act('bwd.ln_f.dx', T * D);
  lnBackward('model.ln_f', BK, sRows(xFinal), lnfStats, dense(dYf.offset, BK, D), sRows(dXf), 'bwd.ln_f');

  const gBuf = [act('bwd.stream.0', T * D), act('bwd.stream.1', T * D)];
  const gMid = dsm ? padded('bwd.mid', false) : undefined;
  const dY = act('bwd.scan.dout', T * E);
  const dXZ = act('bwd.in_proj.dout', T * 2 * E);
  const du = act('bwd.scan.du', T * E);
  const drho = act('bwd.scan.drho', T * E);
  const dXD = act('bwd.x_proj.dout', T * XD);
  const groupChannels = gpu ? scanChannels(N) : E;
  const groups = Math.ceil(E / groupChannels);
  const dbc = act('bwd.scan.dbc', groups * T * 2 * N);
  const dUz = act('bwd.ln2.dy', T * D);
  const dU = dsm ? act('bwd.ln1.dy', T * D) : undefined;
  let gIn: Rows = tok(dXf, D);
  for (let i = n - 1; i >= 0; i--) {
    const la = layers[i];
    const g = `model.global_sequence_mixers.${i}`;
    const pre = `bwd.layer${i}`;
    const gOut = gBuf[i % 2];
    // out_proj: ∂y = G·W_out; ∂W_out = Gᵀ·y.
    push<GemmSpec>(
      gemm,
      {
        M: T,
        N: E,
        K: D,
        a: { rows: gIn, major: 'm' },
        b: { rows: dense(W(`${g}.out_proj.weight`), D, E), major: 'k' },
        out: tok(dY, E),
      },
      `${pre}.out_proj.dx`,
    );
    weightGrad(`${g}.out_proj.weight`, D, E, T, gIn, tok(la.y, E), `${pre}.out_proj.dw`);
    const batchSlices = gpu ? B : 1;
    push(
      scanBackward,
      {
        B,
        L,
        E,
        N,
        R,
        u: tok(la.xs, E),
        xd: tok(la.xd, XD),
        wdt: W(`${g}.dt_proj.weight`),
        bdt: W(`${g}.dt_proj.bias`),
        alog: W(`${g}.A_log`),
        dskip: W(`${g}.D`),
        z: shiftCols(tok(la.xz, 2 * E), E),
        out: tok(la.y, E),
        rho: tok(la.rho, E),
        o: tok(la.o, E),
        dout: tok(dY, E),
        du: tok(du, E),
        drho: tok(drho, E),
        dz: shiftCols(tok(dXZ, 2 * E), E),
        dbc: dbc.offset,
        groupChannels,
        batchSlices,
        dalog: partial(`${g}.A_log`, batchSlices),
        dd: partial(`${g}.D`, batchSlices),
        dbdt: partial(`${g}.dt_proj.bias`, batchSlices),
      },
      `${pre}.scan`,
    );
    // ∂[δ_low | B | C]: δ_low through dt_proj, B and C summed over channel groups.
    push<GemmSpec>(
      gemm,
      {
        M: T,
        N: R,
        K: E,
        a: { rows: tok(drho, E), major: 'm' },
        b: { rows: dense(W(`${g}.dt_proj.weight`), E, R), major: 'k' },
        out: tok(dXD, XD),
      },
      `${pre}.dt_proj.dx`,
    );
    push(
      sumSlices,
      {
        rows: T,
        cols: 2 * N,
        slices: groups,
        src: dbc.offset,
        sliceStride: T * 2 * N,
        srcRowStride: 2 * N,
        dst: shiftCols(tok(dXD, XD), R),
      },
      `${pre}.scan.dbc`,
    );
    weightGrad(`${g}.dt_proj.weight`, E, R, T, tok(drho, E), tok(la.xd, XD), `${pre}.dt_proj.dw`);
    // x_proj, then SiLU: ∂x_pre = (∂u + ∂xd·W_x)·SiLU′(x_pre), into the first half of ∂[x; z].
    push<GemmSpec>(
      gemm,
      {
        M: T,
        N: E,
        K: XD,
        a: { rows: tok(dXD, XD), major: 'm' },
        b: { rows: dense(W(`${g}.x_proj.weight`), XD, E), major: 'k' },
        out: tok(dXZ, 2 * E),
        epilogue: { kind: 'silu-grad', r: tok(du, E), z: tok(la.xz, 2 * E) },
      },
      `${pre}.x_proj.dx`,
    );
    weightGrad(`${g}.x_proj.weight`, XD, E, T, tok(dXD, XD), tok(la.xs, E), `${pre}.x_proj.dw`);
    push<GemmSpec>(
      gemm,
      {
        M: T,
        N: D,
        K: 2 * E,
        a: { rows: tok(dXZ, 2 * E), major: 'm' },
        b: { rows: dense(W(`${g}.in_proj.weight`), 2 * E, D), major: 'k' },
        out: tok(dUz, D),
      },
      `${pre}.in_proj.dx`,
    );
    weightGrad(`${g}.in_proj.weight`, 2 * E, D, T, tok(dXZ, 2 * E), tok(la.uz, D), `${pre}.in_proj.dw`);
    // LN2, plus the residual: ∂X_mid = G + LN2′(∂u).
    const midRows = gMid ? gMid.rows : tok(gOut, D);
    lnBackward(ln('ln_2', i), T, tok(la.xMid, D), la.ln2, tok(dUz, D), midRows, `${pre}.ln2`, {
      residual: gIn,
      times: cfg.shareLayerNorm ? sharedTimes : 1,
    });
    if (dsm) {
      // DSM: ∂U_t = Σ_j W_jᵀ·∂V_{t+k−1−j}, one product over the windows of ∂V padded after each sequence, with
      // W's k blocks in reverse order: B(j′·D + o, c) = W[o, (k − 1 − j′)·D + c].
      const w = dsmWeight(i);
      push<GemmSpec>(
        gemm,
        {
          M: T,
          N: D,
          K: k * D,
          a: { rows: gMid!.windows, major: 'm' },
          b: { rows: { off: w + P * D, g: D, gs: -D, rs: k * D }, major: 'k' },
          out: tok(dU!, D),
        },
        `${pre}.dsm.dx`,
      );
      if (!frozenDsm)
        weightGrad(
          `model.local_sequence_mixers.${i}.lin.weight`,
          D,
          k * D,
          T,
          gMid!.rows,
          la.u!.windows,
          `${pre}.dsm.dw`,
        );
      lnBackward(ln('ln_1', i), T, tok(la.xIn, D), la.ln1!, tok(dU!, D), tok(gOut, D), `${pre}.ln1`, {
        residual: gMid!.rows,
        times: cfg.shareLayerNorm ? sharedTimes : 1,
      });
    }
    gIn = tok(gOut, D);
  }

  // Embeddings: dropout and embed_ln backward, then the three input Linears per token type.
  const dPre = act('bwd.embed.dpre', T * D);
  lnBackward('embed_ln', T, tok(embPre, D), embStats, gIn, tok(dPre, D), 'bwd.embed_ln', { dropout });
  for (const [name, src, width, type] of embeds) {
    const rows = typeRows(dPre, D, type);
    weightGrad(`${name}.weight`, D, width, BK, rows, dense(src.offset, BK, width), `bwd.${name}.dw`);
    weightGrad(`${name}.bias`, D, 1, BK, rows, 'ones', `bwd.${name}.db`);
  }

  // Gradients from their slices, the global norm, clip and AdamW (docs/spec.md §9).
  const segments: GradSegment[] = [];
  for (const [name, region] of params) {
    const p = partials.get(name);
    if (!p || p.next !== p.region.size / region.size)
      throw new Error(
        `Error in buildDmmProgram: parameter ${name} must get every gradient slice, got ${p?.next ?? 0}.`,
      );
    segments.push({ start: rel.get(name)!, size: region.size, partial: p.region.offset, slices: p.slices });
  }
  const normPart = arena.alloc('opt.normPart', Math.ceil(total / NORM_CHUNK), 'scratch');
  push(gradReduce, { grad: grad!.offset, total, segments, normPart: normPart.offset }, 'opt.grads');
  push(
    adamw,
    {
      total,
      param: theta.offset,
      grad: grad!.offset,
      m: mom1!.offset,
      v: mom2!.offset,
      normPart: normPart.offset,
      maxNorm: opts.gradClip ?? 0.25,
      beta1: ADAM.beta1,
      beta2: ADAM.beta2,
      epsilon: 1e-8,
      step: step.offset,
      norm: norm.offset,
    },
    'opt.adamw',
  );
  const adam = { ...ADAM, weightDecay: opts.weightDecay ?? 1e-4 };
  return freeze({ arena, ctl, launches, params, frozen, inputs, outputs, training, adam, key: keyOf(cfg, dims, opts) });
}

/** PyTorch AdamW's betas (docs/spec.md §9). */
const ADAM = { beta1: 0.9, beta2: 0.999 };

function keyOf(cfg: Readonly<DmmConfig>, dims: EnvDims, opts: DmmProgramOptions): string {
  return `dmm ${JSON.stringify(cfg)} ${dims.stateDim}/${dims.actDim} B=${opts.batchSize} ${
    opts.training ? 'train' : 'forward'
  } ${opts.target}`;
}

function freeze(p: Program): Program {
  return Object.freeze(p);
}
