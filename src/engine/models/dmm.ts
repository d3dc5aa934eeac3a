/**
 * DMM's training step (docs/spec.md §3, §9) as a fixed engine program: the forward pass of
 * src/models/decision-metamamba.ts, the masked MSE, its backward pass, the global-norm clip and AdamW,
 * as ~20 launches per layer over one arena. The tfjs model is the reference; test/engine checks this
 * program against it (outputs, every gradient, weights after AdamW steps).
 *
 * Per layer: X_mid = X + DSM(LN1 X);  X_a = X_mid + Mamba(LN2 X_mid);  X_out = X_a + Drop(MLP(LN3 X_a)) (the MLP
 * optional). Buffers the DSM reads as windows carry k − 1 zero rows per sequence: before it (LN1's output, so
 * row t's window [U_{t−k+1}; …; U_t] is k·D contiguous floats) or after it (the gradient of the mixer's
 * output, for the adjoint window). Those rows are never written, so they stay zero.
 *
 * Covered: Mamba-1 (any expand, N, with or without its conv), dense DSM (`per-layer` or `shared-frozen`, any
 * window k) or no local mixer, shared or per-layer LayerNorms, the timestep embedding, the channel MLP, any
 * D, K, dropout. Not covered (the trainer keeps them on tfjs): Mamba-2, the conv and attention mixers.
 */
import type { DmmConfig } from '../../models/decision-metamamba';
import type { EnvDims } from '../../models/sequence-model';
import { dense, type Program, type Region, type Rows } from '../program';
import { gemm, type GemmSpec } from '../kernels/gemm';
import { ProgramBuilder, type NormStats, type ProgramOptions } from './builder';
import {
  embeddingBackward,
  embeddingForward,
  embeddingParams,
  headBackward,
  headForward,
  headParams,
  branchBackward,
  programKey,
  mambaBranch,
  mambaParams,
  mambaShape,
  mlpBranch,
  channelMlp,
  mlpParams,
  optimizerStep,
  type Branch,
} from './blocks';

/** Why the engine cannot run `cfg`, or null when it can. */
export function dmmEngineGap(cfg: Readonly<DmmConfig>): string | null {
  if (cfg.globalMixer !== 'mamba1') return `globalMixer '${cfg.globalMixer}'`;
  if (cfg.tokenMixer !== 'dense' && cfg.tokenMixer !== 'none') return `tokenMixer '${cfg.tokenMixer}'`;
  return null;
}

export function buildDmmProgram(cfg: Readonly<DmmConfig>, dims: EnvDims, opts: ProgramOptions): Program {
  const gap = dmmEngineGap(cfg);
  if (gap)
    throw new Error(`Error in buildDmmProgram: the fused engine does not cover ${gap}; train it with --engine tfjs.`);
  const D = cfg.hiddenSize;
  const b = new ProgramBuilder(D, cfg.contextLength, dims, opts);
  const { B, L, T } = b;
  const n = cfg.nLayer;
  const k = cfg.windowSize;
  const P = k - 1;
  const dsm = cfg.tokenMixer === 'dense';
  const frozenDsm = dsm && cfg.dsmMode === 'shared-frozen';
  const mlp = cfg.channelMlp;

  // --- Parameters, in the tfjs model's registration order (docs/spec.md §13).
  const ln = (name: string, i: number) => (cfg.shareLayerNorm ? `model.${name}` : `model.${name}.${i}`);
  const lnParams = (name: string) => {
    for (const p of cfg.shareLayerNorm ? [ln(name, 0)] : Array.from({ length: n }, (_, i) => ln(name, i)))
      b.layerNormParams(p);
  };
  /** A shared LayerNorm gets one gradient slice set per layer. */
  const lnTimes = cfg.shareLayerNorm ? n : 1;
  const mambas = Array.from({ length: n }, (_, i) =>
    mambaShape(`model.global_sequence_mixers.${i}`, D, cfg.mambaExpand, cfg.stateSize, cfg.mambaConv),
  );
  if (dsm) lnParams('ln_1');
  if (dsm && !frozenDsm) for (let i = 0; i < n; i++) b.param(`model.local_sequence_mixers.${i}.lin.weight`, [D, k * D]);
  lnParams('ln_2');
  for (const m of mambas) mambaParams(b, m);
  if (mlp) {
    lnParams('ln_3');
    for (let i = 0; i < n; i++) mlpParams(b, channelMlp(`model.channel_mixers.${i}`, D));
  }
  b.layerNormParams('model.ln_f');
  const timesteps = cfg.timestepEmbedding ? cfg.maxEpLen : 0;
  embeddingParams(b, { timesteps });
  headParams(b);
  const mlpSite = (i: number) => `mlp.${i}`;
  b.layout(['embd', ...(mlp ? Array.from({ length: n }, (_, i) => mlpSite(i)) : [])], timesteps > 0);
  const shared = frozenDsm ? b.frozenTensor('model.local_sequence_mixers.shared.lin.weight', [D, k * D]) : undefined;
  const dsmWeight = (i: number) => shared?.offset ?? b.W(`model.local_sequence_mixers.${i}.lin.weight`);

  /** A [B, L + P, D] buffer with P zero rows before (`front`) or after each sequence; its token rows. */
  const padded = (name: string, front: boolean) => {
    const r = b.act(name, B * (L + P) * D);
    const rows: Rows = { off: r.offset + (front ? P * D : 0), g: L, gs: (L + P) * D, rs: D };
    // Window rows: row t = [x_{t−P}; …; x_t] (front) or [x_t; …; x_{t+P}] (back), k·D floats from row t − P or t.
    const windows: Rows = { off: r.offset, g: L, gs: (L + P) * D, rs: D };
    return { region: r, rows, windows };
  };

  // --- Forward (docs/spec.md §3.1).
  const emb = embeddingForward(b, { timesteps, dropout: b.dropout('embd', cfg.dropout) });
  interface LayerActs {
    xIn: Region;
    u?: ReturnType<typeof padded>;
    ln1?: NormStats;
    mamba: Branch;
    mlp?: Branch;
  }
  const layers: LayerActs[] = [];
  let x = emb.out;
  for (let i = 0; i < n; i++) {
    const pre = `fwd.layer${i}`;
    const xIn = x;
    const la: Partial<LayerActs> = { xIn };
    if (dsm) {
      const xMid = b.act(`${pre}.mid`, T * D);
      la.u = padded(`${pre}.ln1.out`, true);
      la.ln1 = b.stats(`${pre}.ln1`, T);
      b.layerNorm(ln('ln_1', i), T, b.tok(xIn, D), la.u.rows, la.ln1, `${pre}.ln1`);
      // X_mid = X + DSM(LN1 X): one product over the k-token windows (docs/spec.md §3.2).
      b.push<GemmSpec>(
        gemm,
        {
          M: T,
          N: D,
          K: k * D,
          a: { rows: la.u.windows, major: 'm' },
          b: { rows: dense(dsmWeight(i), D, k * D), major: 'n' },
          out: b.tok(xMid, D),
          epilogue: { kind: 'add', r: b.tok(xIn, D) },
        },
        `${pre}.dsm`,
      );
      x = xMid;
    }
    la.mamba = mambaBranch(b, ln('ln_2', i), lnTimes, mambas[i], x, pre, 'ln2');
    x = la.mamba.out;
    if (mlp) {
      const site = b.dropout(mlpSite(i), cfg.dropout);
      la.mlp = mlpBranch(b, ln('ln_3', i), lnTimes, channelMlp(`model.channel_mixers.${i}`, D), x, site, pre, 'ln3');
      x = la.mlp.out;
    }
    layers.push(la as LayerActs);
  }
  const head = headForward(b, 'model.ln_f', x);
  if (!opts.training) return b.program(programKey('dmm', cfg, dims, opts), head.outputs);

  // --- Backward.
  const dXf = headBackward(b, head);
  const gBuf = [b.act('bwd.stream.0', T * D), b.act('bwd.stream.1', T * D)];
  const gA = mlp ? b.act('bwd.stream.2', T * D) : undefined;
  const gMid = dsm ? padded('bwd.mid', false) : undefined;
  const dU = dsm ? b.act('bwd.ln1.dy', T * D) : undefined;
  let gIn: Rows = b.tok(dXf, D);
  for (let i = n - 1; i >= 0; i--) {
    const la = layers[i];
    const pre = `bwd.layer${i}`;
    const gOut = gBuf[i % 2];
    // ∂X_a = G + LN3′(MLP′(G)); ∂X_mid = ∂X_a + LN2′(Mamba′(∂X_a)).
    let g = gIn;
    if (la.mlp) {
      branchBackward(b, la.mlp, g, b.tok(gA!, D), pre, 'ln3');
      g = b.tok(gA!, D);
    }
    branchBackward(b, la.mamba, g, gMid ? gMid.rows : b.tok(gOut, D), pre, 'ln2');
    if (dsm) {
      // DSM: ∂U_t = Σ_j W_jᵀ·∂V_{t+k−1−j}, one product over the windows of ∂V padded after each sequence, with
      // W's k blocks in reverse order: B(j′·D + o, c) = W[o, (k − 1 − j′)·D + c].
      const w = dsmWeight(i);
      b.push<GemmSpec>(
        gemm,
        {
          M: T,
          N: D,
          K: k * D,
          a: { rows: gMid!.windows, major: 'm' },
          b: { rows: { off: w + P * D, g: D, gs: -D, rs: k * D }, major: 'k' },
          out: b.tok(dU!, D),
        },
        `${pre}.dsm.dx`,
      );
      if (!frozenDsm)
        b.weightGrad(
          `model.local_sequence_mixers.${i}.lin.weight`,
          D,
          k * D,
          T,
          gMid!.rows,
          la.u!.windows,
          `${pre}.dsm.dw`,
        );
      b.layerNormBackward(ln('ln_1', i), T, b.tok(la.xIn, D), la.ln1!, b.tok(dU!, D), b.tok(gOut, D), `${pre}.ln1`, {
        residual: gMid!.rows,
        times: lnTimes,
      });
    }
    gIn = b.tok(gOut, D);
  }
  embeddingBackward(b, emb, gIn);
  return optimizerStep(b, programKey('dmm', cfg, dims, opts), head.outputs);
}
