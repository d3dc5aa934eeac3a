/**
 * Decision Transformer (kzl), docs/spec.md §6.1: GPT-2 (HF 4.5-era `trajectory_gpt2.py`) over (R, s, a) tokens
 * with the timestep embedding, no `wpe`, one head, ReLU MLP, pre-LN blocks, dropout 0.1 on the input,
 * attention probabilities, attention output and MLP output. HF `Conv1D` layout ([in, out]) for names.
 *
 *   S = Q Kᵀ/√(D/h);  S[i, j] = −1e4 for j > i (REPLACED, not added);  S += (1 − m_j)·(−1e4)
 */
import * as tf from '@tensorflow/tfjs';
import { Container, Conv1D, LayerNorm, Linear, Module, dropout, initWeight } from '../nn';
import { matMul, transposeLast } from '../ops/matmul';
import { Rng } from '../util/rng';
import { ActionHead, EnvDims, ForwardContext, TrajectoryEmbedding, TrajectoryModel, tap } from './sequence-model';

export const MASKED_SCORE = -1e4;

/** The causal constants of one length L: `keep` [L, L] 1 where j ≤ i, `bias` (1 − keep)·(−1e4). */
interface CausalConstants {
  keep: tf.Tensor;
  bias: tf.Tensor;
}

/** GPT-2 causal self-attention, `attn.c_attn` [D, 3D] and `attn.c_proj` [D, D]. */
export class CausalSelfAttention extends Module {
  readonly cAttn: Conv1D;
  readonly cProj: Conv1D;
  /** Per sequence length, kept across forwards (they were rebuilt by every call); freed by dispose. */
  private readonly causal = new Map<number, CausalConstants>();

  constructor(
    readonly hidden: number,
    readonly nHead: number,
    readonly pDrop: number,
    rng: Rng,
  ) {
    super();
    this.cAttn = this.registerModule('c_attn', new Conv1D(hidden, 3 * hidden, rng));
    this.cProj = this.registerModule('c_proj', new Conv1D(hidden, hidden, rng));
  }

  private causalConstants(l: number): CausalConstants {
    let c = this.causal.get(l);
    if (!c) {
      c = tf.tidy(() => {
        const keep = tf.linalg.bandPart(tf.ones([l, l]), -1, 0);
        return { keep: tf.keep(keep), bias: tf.keep(tf.scalar(1).sub(keep).mul(MASKED_SCORE)) };
      });
      this.causal.set(l, c);
    }
    return c;
  }

  protected releaseCaches(): void {
    for (const c of this.causal.values()) tf.dispose([c.keep, c.bias]);
    this.causal.clear();
  }

  /**
   * The additive score term of one forward pass: (1 − keep)·(−1e4), plus (1 − m_j)·(−1e4) for padded keys
   * when `padMask` [B, L] is given ([B·h, L, L] then, else the cached [L, L]). Built once per forward and
   * shared by every layer. Every addend is 0 or −1e4, so summing them first gives the same scores as
   * adding them one after the other: S·keep + (bias + pad) = (S·keep + bias) + pad exactly.
   */
  maskBias(l: number, padMask?: tf.Tensor): tf.Tensor {
    const { bias } = this.causalConstants(l);
    if (!padMask) return bias;
    const b = padMask.shape[0];
    const h = this.nHead;
    return tf.tidy(() => {
      const pad = tf.scalar(1).sub(padMask).mul(MASKED_SCORE).reshape([b, 1, l]);
      const full = bias.add(pad); // [B, L, L]
      return h === 1
        ? full
        : full
            .reshape([b, 1, l, l])
            .tile([1, h, 1, 1])
            .reshape([b * h, l, l]);
    });
  }

  /** x [B, L, D] → [B, L, D]; `padMask` [B, L] adds −1e4 on padded keys when given (DT only). */
  apply(x: tf.Tensor, ctx: ForwardContext, site: string, padMask?: tf.Tensor): tf.Tensor {
    const [, l] = x.shape;
    return this.applyMasked(x, ctx, site, this.maskBias(l, padMask));
  }

  /**
   * x [B, L, D] and the forward's `maskBias` → [B, L, D]:
   *   S = Q Kᵀ/√hd;  S ← S·keep + bias  (future scores replaced by −1e4, padded keys −1e4 added)
   */
  applyMasked(x: tf.Tensor, ctx: ForwardContext, site: string, bias: tf.Tensor): tf.Tensor {
    const [b, l, d] = x.shape;
    const h = this.nHead;
    const hd = d / h;
    // [B, L, D] → [B·h, L, hd]; with one head that is the same data, so no transpose runs.
    const toHeads = (t: tf.Tensor) =>
      h === 1
        ? t
        : t
            .reshape([b, l, h, hd])
            .transpose([0, 2, 1, 3])
            .reshape([b * h, l, hd]);
    const [q, k, v] = tf.split(this.cAttn.apply(x), 3, 2).map(toHeads); // from [B, L, 3D]
    const s = matMul(q, transposeLast(k)).div(Math.sqrt(hd)); // [B·h, L, L]
    const masked = s.mul(this.causalConstants(l).keep).add(bias);
    const p = dropout(tf.softmax(masked, -1), this.pDrop, ctx, `${site}.attn_pdrop`);
    const o = matMul(p, v); // [B·h, L, hd]
    const merged = h === 1 ? o : o.reshape([b, h, l, hd]).transpose([0, 2, 1, 3]).reshape([b, l, d]);
    return dropout(this.cProj.apply(merged), this.pDrop, ctx, `${site}.resid_pdrop`);
  }
}

/** GPT-2 MLP with HF names `c_fc` [D, 4D] and `c_proj` [4D, D]; ReLU (DT's `activation_function`). */
class Gpt2Mlp extends Module {
  readonly cFc: Conv1D;
  readonly cProj: Conv1D;

  constructor(hidden: number, rng: Rng) {
    super();
    this.cFc = this.registerModule('c_fc', new Conv1D(hidden, 4 * hidden, rng));
    this.cProj = this.registerModule('c_proj', new Conv1D(4 * hidden, hidden, rng));
  }

  apply(x: tf.Tensor): tf.Tensor {
    return this.cProj.apply(tf.relu(this.cFc.apply(x)));
  }
}

class Gpt2Block extends Module {
  readonly ln1: LayerNorm;
  readonly attn: CausalSelfAttention;
  readonly ln2: LayerNorm;
  readonly mlp: Gpt2Mlp;

  constructor(
    hidden: number,
    nHead: number,
    readonly pDrop: number,
    rng: Rng,
  ) {
    super();
    this.ln1 = this.registerModule('ln_1', new LayerNorm(hidden));
    this.attn = this.registerModule('attn', new CausalSelfAttention(hidden, nHead, pDrop, rng));
    this.ln2 = this.registerModule('ln_2', new LayerNorm(hidden));
    this.mlp = this.registerModule('mlp', new Gpt2Mlp(hidden, rng));
  }

  /** `maskBias`: the attention's score mask for this forward (CausalSelfAttention.maskBias). */
  apply(x: tf.Tensor, ctx: ForwardContext, i: number, maskBias: tf.Tensor): tf.Tensor {
    const u = this.ln1.apply(x);
    tap(ctx, `layers.${i}.mixerInput`, u);
    const a = this.attn.applyMasked(u, ctx, `h.${i}`, maskBias);
    tap(ctx, `layers.${i}.localMixerOutput`, a);
    x = x.add(a);
    x = x.add(dropout(this.mlp.apply(this.ln2.apply(x)), this.pDrop, ctx, `h.${i}.mlp`));
    tap(ctx, `layers.${i}.blockOutput`, x);
    return x;
  }
}

export interface DtConfig {
  hiddenSize: number;
  nLayer: number;
  nHead: number;
  contextLength: number;
  dropout: number;
  maxEpLen: number;
}

export const DT_DEFAULTS: Readonly<DtConfig> = Object.freeze({
  hiddenSize: 128,
  nLayer: 3,
  nHead: 1,
  contextLength: 20,
  dropout: 0.1,
  maxEpLen: 1000,
});

/** GPT2Model without wpe: `wte` (unused, counted), blocks `h.{i}`, `ln_f`. */
class Gpt2Backbone extends Module {
  readonly blocks: Gpt2Block[] = [];
  readonly lnF: LayerNorm;

  constructor(cfg: DtConfig, rng: Rng) {
    super();
    const d = cfg.hiddenSize;
    this.registerParameter('wte.weight', initWeight(rng, d, 1, 'backbone'), [1, d]); // vocab_size 1 (docs/spec.md quirk 11)
    const h = this.registerModule('h', new Container());
    for (let i = 0; i < cfg.nLayer; i++) this.blocks.push(h.add(i, new Gpt2Block(d, cfg.nHead, cfg.dropout, rng)));
    this.lnF = this.registerModule('ln_f', new LayerNorm(d));
  }
}

export class DecisionTransformer extends TrajectoryModel {
  readonly name = 'dt';
  protected embedding: TrajectoryEmbedding;
  protected head: ActionHead;
  private readonly transformer: Gpt2Backbone;

  constructor(
    readonly config: Readonly<DtConfig>,
    readonly dims: EnvDims,
    rng: Rng,
  ) {
    super();
    const d = config.hiddenSize;
    this.transformer = this.registerModule('transformer', new Gpt2Backbone(config, rng));
    this.embedding = this.registerModule('', new TrajectoryEmbedding(d, dims, config.maxEpLen, true, rng));
    this.registerModule('predict_state', new Linear(d, dims.stateDim, rng, { init: 'torch-default' })); // unused, counted
    this.head = this.registerModule('predict_action', new ActionHead(d, dims.actDim, rng));
    this.registerModule('predict_return', new Linear(d, 1, rng, { init: 'torch-default' })); // unused, counted
  }

  protected backbone(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    const blocks = this.transformer.blocks;
    const [, l] = x.shape;
    const maskBias = blocks[0].attn.maskBias(l, ctx.tokenMask); // same for every layer
    blocks.forEach((block, i) => (x = block.apply(x, ctx, i, maskBias)));
    return this.transformer.lnF.apply(x);
  }
}
