/**
 * Decision Mamba (Ota), docs/spec.md §5: DT with self-attention replaced by the stock Mamba block (expand 2,
 * causal depthwise conv k = 4) and the GELU channel MLP kept:
 *
 *   X += Mamba(LN_a X);  X += Drop(W2 GELU(W1 LN_b X + b1) + b2)     (3 blocks, own LNs)
 *
 * Timestep embedding added to each token. `channelMlp: false` is the paper's A1 ablation (LN_b and
 * the MLP deleted).
 */
import * as tf from '@tensorflow/tfjs';
import { Container, LayerNorm, Module, dropout } from '../nn';
import { Rng } from '../util/rng';
import { ChannelMlp } from './channel-mlp';
import { DtInit, MambaBlock } from './mamba-block';
import { ActionHead, EnvDims, ForwardContext, TrajectoryEmbedding, TrajectoryModel, tap } from './sequence-model';

export interface DmambaConfig {
  hiddenSize: number;
  nLayer: number;
  contextLength: number;
  dropout: number;
  maxEpLen: number;
  dtInit: DtInit;
  /** The MLP channel mixer (A1 ablation: false). */
  channelMlp: boolean;
  timestepEmbedding: boolean;
  /** Mamba inner width factor (stock 2). */
  mambaExpand: number;
  /** Mamba x-branch conv width (stock 4; 0 = none). */
  mambaConv: number;
  stateSize: number;
}

export const DMAMBA_DEFAULTS: Readonly<DmambaConfig> = Object.freeze({
  hiddenSize: 128, // per dataset in docs/spec.md §5: 256 for hopper-medium(-replay)
  nLayer: 3,
  contextLength: 20,
  dropout: 0.1,
  maxEpLen: 1000,
  dtInit: 'official',
  channelMlp: true,
  timestepEmbedding: true,
  mambaExpand: 2,
  mambaConv: 4,
  stateSize: 16,
});

class DecisionMambaBlock extends Module {
  readonly normMamba: LayerNorm;
  readonly mamba: MambaBlock;
  readonly ln2?: LayerNorm;
  readonly mlp?: ChannelMlp;

  constructor(
    cfg: DmambaConfig,
    readonly pDrop: number,
    rng: Rng,
  ) {
    super();
    const d = cfg.hiddenSize;
    this.normMamba = this.registerModule('norm_mamba', new LayerNorm(d));
    this.mamba = this.registerModule(
      'mamba',
      new MambaBlock(
        d,
        {
          expand: cfg.mambaExpand,
          stateSize: cfg.stateSize,
          dtRank: Math.ceil(d / 16),
          convKernel: cfg.mambaConv,
          dtInit: cfg.dtInit,
        },
        rng,
      ),
    );
    if (cfg.channelMlp) {
      this.ln2 = this.registerModule('ln_2', new LayerNorm(d));
      this.mlp = this.registerModule('mlp_channels', new ChannelMlp(d, rng));
    }
  }

  apply(x: tf.Tensor, ctx: ForwardContext, i: number): tf.Tensor {
    const u = this.normMamba.apply(x);
    tap(ctx, `layers.${i}.mixerInput`, u);
    x = x.add(this.mamba.apply(u, ctx, `layers.${i}`)); // no dropout on the token-mixing branch
    if (this.mlp && this.ln2) x = x.add(dropout(this.mlp.apply(this.ln2.apply(x)), this.pDrop, ctx, `h.${i}.mlp`));
    tap(ctx, `layers.${i}.blockOutput`, x);
    return x;
  }
}

class DecisionMambaBackbone extends Module {
  readonly blocks: DecisionMambaBlock[] = [];
  readonly lnF: LayerNorm;

  constructor(cfg: DmambaConfig, rng: Rng) {
    super();
    const h = this.registerModule('h', new Container());
    for (let i = 0; i < cfg.nLayer; i++) this.blocks.push(h.add(i, new DecisionMambaBlock(cfg, cfg.dropout, rng)));
    this.lnF = this.registerModule('ln_f', new LayerNorm(cfg.hiddenSize));
  }
}

export class DecisionMamba extends TrajectoryModel {
  readonly name = 'dmamba';
  protected embedding: TrajectoryEmbedding;
  protected head: ActionHead;
  private readonly transformer: DecisionMambaBackbone;

  constructor(
    readonly config: Readonly<DmambaConfig>,
    readonly dims: EnvDims,
    rng: Rng,
  ) {
    super();
    this.transformer = this.registerModule('transformer', new DecisionMambaBackbone(config, rng));
    this.embedding = this.registerModule(
      '',
      new TrajectoryEmbedding(config.hiddenSize, dims, config.maxEpLen, config.timestepEmbedding, rng),
    );
    this.head = this.registerModule('predict_action', new ActionHead(config.hiddenSize, dims.actDim, rng));
  }

  protected backbone(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    this.transformer.blocks.forEach((block, i) => (x = block.apply(x, ctx, i)));
    return this.transformer.lnF.apply(x);
  }
}
