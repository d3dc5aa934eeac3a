/**
 * Decision ConvFormer (DC), docs/spec.md §6.2: MetaFormer blocks X += Conv(LN1 X); X += Drop(MLP(LN2 X)),
 * where the token mixer is three causal depthwise Conv1d (k = 6, bias), one per token type, each run
 * over the whole interleaved sequence; token i uses the kernel of its own type τ(i) = i mod 3.
 */
import * as tf from '@tensorflow/tfjs';
import { CausalDepthwiseConv1d, Container, LayerNorm, Module, dropout } from '../nn';
import { periodicCausalConv } from '../ops/periodic-conv/periodic-conv';
import { Rng } from '../util/rng';
import { ChannelMlp } from './channel-mlp';
import { ActionHead, EnvDims, ForwardContext, TrajectoryEmbedding, TrajectoryModel, tap } from './sequence-model';

/** `conv.{rtg,obs,act}_conv1d`: [D, 1, k] each, PyTorch default init U(±1/√k). */
export class ConvolutionTokenMixer extends Module {
  readonly convs: CausalDepthwiseConv1d[];

  constructor(
    readonly hidden: number,
    readonly windowSize: number,
    rng: Rng,
  ) {
    super();
    this.convs = ['rtg_conv1d', 'obs_conv1d', 'act_conv1d'].map((name) =>
      this.registerModule(name, new CausalDepthwiseConv1d(hidden, windowSize, rng)),
    );
  }

  /** x [B, 3K, D] → [B, 3K, D]; one pass whose taps and bias repeat with period 3 (the token types). */
  apply(x: tf.Tensor): tf.Tensor {
    const d = this.hidden;
    const k = this.windowSize;
    const taps = tf.stack(
      this.convs.map((c) => c.weight.reshape([d, k]).transpose()),
      1,
    ); // [k, 3, D]: position 3t+τ uses kernel τ
    const bias = tf.stack(
      this.convs.map((c) => c.bias),
      0,
    ); // [3, D]
    return periodicCausalConv(x, taps, bias);
  }
}

class ConvFormerBlock extends Module {
  readonly ln1: LayerNorm;
  readonly conv: ConvolutionTokenMixer;
  readonly ln2: LayerNorm;
  readonly mlp: ChannelMlp;

  constructor(
    hidden: number,
    windowSize: number,
    readonly pDrop: number,
    rng: Rng,
  ) {
    super();
    this.ln1 = this.registerModule('ln_1', new LayerNorm(hidden));
    this.conv = this.registerModule('conv', new ConvolutionTokenMixer(hidden, windowSize, rng));
    this.ln2 = this.registerModule('ln_2', new LayerNorm(hidden));
    this.mlp = this.registerModule('mlp', new ChannelMlp(hidden, rng));
  }

  apply(x: tf.Tensor, ctx: ForwardContext, i: number): tf.Tensor {
    const u = this.ln1.apply(x);
    tap(ctx, `layers.${i}.mixerInput`, u);
    const c = this.conv.apply(u); // no dropout on the conv branch (docs/spec.md §6.2)
    tap(ctx, `layers.${i}.localMixerOutput`, c);
    x = x.add(c);
    x = x.add(dropout(this.mlp.apply(this.ln2.apply(x)), this.pDrop, ctx, `h.${i}.mlp`));
    tap(ctx, `layers.${i}.blockOutput`, x);
    return x;
  }
}

export interface DcConfig {
  hiddenSize: number;
  nLayer: number;
  contextLength: number;
  dropout: number;
  /** Conv window (docs/spec.md §6.2: 6). */
  windowSize: number;
  maxEpLen: number;
}

export const DC_DEFAULTS: Readonly<DcConfig> = Object.freeze({
  hiddenSize: 128, // CLI default; hopper-medium README uses 256 (docs/spec.md §6.2)
  nLayer: 3,
  contextLength: 8,
  dropout: 0.1,
  windowSize: 6,
  maxEpLen: 1000,
});

class ConvFormerBackbone extends Module {
  readonly blocks: ConvFormerBlock[] = [];
  readonly lnF: LayerNorm;

  constructor(cfg: DcConfig, rng: Rng) {
    super();
    const h = this.registerModule('h', new Container());
    for (let i = 0; i < cfg.nLayer; i++)
      this.blocks.push(h.add(i, new ConvFormerBlock(cfg.hiddenSize, cfg.windowSize, cfg.dropout, rng)));
    this.lnF = this.registerModule('ln_f', new LayerNorm(cfg.hiddenSize));
  }
}

export class DecisionConvFormer extends TrajectoryModel {
  readonly name = 'dc';
  protected embedding: TrajectoryEmbedding;
  protected head: ActionHead;
  private readonly transformer: ConvFormerBackbone;

  constructor(
    readonly config: Readonly<DcConfig>,
    readonly dims: EnvDims,
    rng: Rng,
  ) {
    super();
    this.transformer = this.registerModule('transformer', new ConvFormerBackbone(config, rng));
    this.embedding = this.registerModule(
      '',
      new TrajectoryEmbedding(config.hiddenSize, dims, config.maxEpLen, true, rng),
    );
    this.head = this.registerModule('predict_action', new ActionHead(config.hiddenSize, dims.actDim, rng));
  }

  protected backbone(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    this.transformer.blocks.forEach((block, i) => (x = block.apply(x, ctx, i)));
    return this.transformer.lnF.apply(x);
  }
}
