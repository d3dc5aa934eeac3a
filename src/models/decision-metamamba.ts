/**
 * Decision MetaMamba (DMM), docs/spec.md §3 (official `decision_metamamba.py`):
 *
 *   X0 = Drop_0.1(embed_ln(interleave(E_R, E_s, E_a)))       no timestep embedding
 *   for i < n_layer:  X += DSM_i(LN1 X);  X += Mamba_i(LN2 X)   LN1, LN2 shared by all layers
 *   â_t = tanh(W_head · LN_f(X)[3t+1] + b_head)
 *
 * Mamba is the modified Mamba-1 (no conv, expand 1) or, with `globalMixer: 'mamba2'`, Mamba-2 (docs/spec.md §3.6).
 * Ablation switches (docs/spec.md §11): `tokenMixer` (A-mixer), `windowSize` (A-window), `timestepEmbedding`
 * and `mambaConv` (A-position), `globalMixer` (A-mamba), plus `shareLayerNorm` and `channelMlp`.
 * Glossary: B batch, K timesteps, L = 3K tokens, D hidden size, k DSM window.
 */
import * as tf from '@tensorflow/tfjs';
import { CausalDepthwiseConv1d, Container, LayerNorm, dropout } from '../nn';
import { Rng } from '../util/rng';
import { ChannelMlp } from './channel-mlp';
import { ConvolutionTokenMixer } from './decision-convformer';
import { CausalSelfAttention } from './decision-transformer';
import { DenseSequenceMixer } from './dense-sequence-mixer';
import { Mamba2Block } from './mamba2-block';
import { DtInit, MambaBlock } from './mamba-block';
import { ActionHead, EnvDims, ForwardContext, TrajectoryEmbedding, TrajectoryModel, tap } from './sequence-model';

/** Local token mixer before the global mixer (A-mixer): DSM, DC's 3-kernel conv, one depthwise conv, none, or causal attention. */
export type TokenMixer = 'dense' | 'dc-conv' | 'causal-conv' | 'none' | 'attention';
export type DsmMode = 'per-layer' | 'shared-frozen';
export type GlobalMixer = 'mamba1' | 'mamba2';

export interface DmmConfig {
  hiddenSize: number;
  nLayer: number;
  contextLength: number;
  /** Input dropout; fixed at 0.1 in the official code, whose --dropout flag is not connected (docs/spec.md quirk 8). */
  dropout: number;
  maxEpLen: number;
  /** DSM / conv window k in tokens (docs/spec.md §3.2: 6). */
  windowSize: number;
  /** `per-layer` (MuJoCo) or `shared-frozen` (official AntMaze/Kitchen), docs/spec.md §3.5. */
  dsmMode: DsmMode;
  globalMixer: GlobalMixer;
  dtInit: DtInit;
  tokenMixer: TokenMixer;
  /** A-position ablation: DT-style timestep embedding added to every token. */
  timestepEmbedding: boolean;
  /** Official: one LN1 and one LN2 for all layers (docs/spec.md quirk 4). */
  shareLayerNorm: boolean;
  /** Adds X += MLP(LN3 X) after the global mixer (not in the official DMM). */
  channelMlp: boolean;
  /** A-position ablation: the stock k = 4 conv in Mamba-1 (0 = none, official). */
  mambaConv: number;
  /** Mamba-1 expand (official DMM: 1). */
  mambaExpand: number;
  stateSize: number;
}

export const DMM_DEFAULTS: Readonly<DmmConfig> = Object.freeze({
  hiddenSize: 64, // MuJoCo; 128 for AntMaze/Kitchen (docs/spec.md §9)
  nLayer: 3,
  contextLength: 8,
  dropout: 0.1,
  maxEpLen: 1000,
  windowSize: 6,
  dsmMode: 'per-layer',
  globalMixer: 'mamba1',
  dtInit: 'official',
  tokenMixer: 'dense',
  timestepEmbedding: false,
  shareLayerNorm: true,
  channelMlp: false,
  mambaConv: 0,
  mambaExpand: 1,
  stateSize: 16,
});

type LocalMixer =
  | { kind: 'dense'; m: DenseSequenceMixer }
  | { kind: 'dc-conv'; m: ConvolutionTokenMixer }
  | { kind: 'causal-conv'; m: CausalDepthwiseConv1d }
  | { kind: 'attention'; m: CausalSelfAttention };

/** One LayerNorm shared by all layers, or one per layer (`ln_x.{i}`). */
function layerNorms(parent: Container, name: string, d: number, n: number, shared: boolean): LayerNorm[] {
  if (shared) {
    const ln = parent.add(name, new LayerNorm(d));
    return Array.from({ length: n }, () => ln);
  }
  const c = parent.add(name, new Container());
  return Array.from({ length: n }, (_, i) => c.add(i, new LayerNorm(d)));
}

class MetaMambaBackbone extends Container {
  readonly ln1: LayerNorm[] = [];
  readonly local: LocalMixer[] = [];
  readonly ln2: LayerNorm[];
  readonly global: (MambaBlock | Mamba2Block)[] = [];
  readonly ln3: LayerNorm[] = [];
  readonly mlps: ChannelMlp[] = [];
  readonly lnF: LayerNorm;

  constructor(cfg: DmmConfig, rng: Rng) {
    super();
    const d = cfg.hiddenSize;
    const n = cfg.nLayer;
    if (cfg.tokenMixer !== 'none') this.ln1 = layerNorms(this, 'ln_1', d, n, cfg.shareLayerNorm);
    const locals = this.add('local_sequence_mixers', new Container());
    if (cfg.tokenMixer === 'dense' && cfg.dsmMode === 'shared-frozen') {
      // One unregistered, untrained DSM reused by all layers (docs/spec.md §3.5); the kit saves it under `shared`.
      const shared = locals.add('shared', new DenseSequenceMixer(d, cfg.windowSize, rng, true));
      for (let i = 0; i < n; i++) this.local.push({ kind: 'dense', m: shared });
    } else {
      for (let i = 0; i < n; i++) {
        if (cfg.tokenMixer === 'dense')
          this.local.push({ kind: 'dense', m: locals.add(i, new DenseSequenceMixer(d, cfg.windowSize, rng)) });
        else if (cfg.tokenMixer === 'dc-conv')
          this.local.push({ kind: 'dc-conv', m: locals.add(i, new ConvolutionTokenMixer(d, cfg.windowSize, rng)) });
        else if (cfg.tokenMixer === 'causal-conv')
          this.local.push({ kind: 'causal-conv', m: locals.add(i, new CausalDepthwiseConv1d(d, cfg.windowSize, rng)) });
        else if (cfg.tokenMixer === 'attention')
          this.local.push({ kind: 'attention', m: locals.add(i, new CausalSelfAttention(d, 1, 0, rng)) });
      }
    }
    this.ln2 = layerNorms(this, 'ln_2', d, n, cfg.shareLayerNorm);
    const globals = this.add('global_sequence_mixers', new Container());
    for (let i = 0; i < n; i++) {
      const block =
        cfg.globalMixer === 'mamba2'
          ? new Mamba2Block(d, rng)
          : new MambaBlock(
              d,
              {
                expand: cfg.mambaExpand,
                stateSize: cfg.stateSize,
                dtRank: Math.ceil(d / 16),
                convKernel: cfg.mambaConv,
                dtInit: cfg.dtInit,
              },
              rng,
            );
      this.global.push(globals.add(i, block));
    }
    if (cfg.channelMlp) {
      this.ln3 = layerNorms(this, 'ln_3', d, n, cfg.shareLayerNorm);
      const mlps = this.add('channel_mixers', new Container());
      for (let i = 0; i < n; i++) this.mlps.push(mlps.add(i, new ChannelMlp(d, rng)));
    }
    this.lnF = this.add('ln_f', new LayerNorm(d));
  }
}

function applyLocal(mixer: LocalMixer, u: tf.Tensor, ctx: ForwardContext, i: number): tf.Tensor {
  switch (mixer.kind) {
    case 'attention':
      return mixer.m.apply(u, ctx, `local.${i}`); // DMM has no padding mask (docs/spec.md §2.11)
    default:
      return mixer.m.apply(u);
  }
}

export class DecisionMetaMamba extends TrajectoryModel {
  readonly name = 'dmm';
  protected embedding: TrajectoryEmbedding;
  protected head: ActionHead;
  private readonly model: MetaMambaBackbone;

  constructor(
    readonly config: Readonly<DmmConfig>,
    readonly dims: EnvDims,
    rng: Rng,
  ) {
    super();
    this.model = this.registerModule('model', new MetaMambaBackbone(config, rng));
    this.embedding = this.registerModule(
      '',
      new TrajectoryEmbedding(config.hiddenSize, dims, config.maxEpLen, config.timestepEmbedding, rng),
    );
    this.head = this.registerModule('predict_action', new ActionHead(config.hiddenSize, dims.actDim, rng));
  }

  /** DC's conv mixer reshapes the tokens by (R, s, a) triples; the others run on any L. */
  protected anyTokenCount(): boolean {
    return this.config.tokenMixer !== 'dc-conv';
  }

  protected backbone(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    const m = this.model;
    for (let i = 0; i < this.config.nLayer; i++) {
      if (m.local.length > 0) {
        const u = m.ln1[i].apply(x); // [B, L, D]
        tap(ctx, `layers.${i}.mixerInput`, u);
        const v = applyLocal(m.local[i], u, ctx, i);
        tap(ctx, `layers.${i}.localMixerOutput`, v);
        x = x.add(v);
      }
      const w = m.ln2[i].apply(x);
      tap(ctx, `layers.${i}.globalMixerInput`, w);
      x = x.add(m.global[i].apply(w, ctx, `layers.${i}`));
      if (m.mlps.length > 0)
        x = x.add(dropout(m.mlps[i].apply(m.ln3[i].apply(x)), this.config.dropout, ctx, `mlp.${i}`));
      tap(ctx, `layers.${i}.blockOutput`, x);
    }
    return m.lnF.apply(x);
  }
}
