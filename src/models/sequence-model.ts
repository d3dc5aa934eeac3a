/**
 * What the four models share (docs/spec.md §2): the trajectory embedding (embed_return/state/action, the
 * optional timestep table, interleaving as (R, s, a), embed_ln), the input dropout, and the action
 * head on the s-token outputs with tanh. Each model supplies its backbone.
 *
 * Glossary: B batch, K timesteps in the window, L = 3K tokens, D hidden size, s/a state/action dims.
 */
import * as tf from '@tensorflow/tfjs';
import { Container, Embedding, LayerNorm, Linear, Module, dropout } from '../nn';
import { DropoutContext } from '../nn/dropout';
import { check } from '../util/check';
import { Rng } from '../util/rng';

/** One batch of windows (docs/spec.md §2.1, §8). */
export interface ModelInputs {
  states: tf.Tensor; // [B, K, s], normalised
  actions: tf.Tensor; // [B, K, a]
  returnsToGo: tf.Tensor; // [B, K, 1], scaled
  timesteps: tf.Tensor; // int32 [B, K]
  mask: tf.Tensor; // float32 [B, K], 1 = real step
}

export interface ForwardOptions {
  training: boolean;
  /** Seed of this forward pass's dropout masks; required when training with dropout > 0. */
  dropoutSeed?: number;
}

export interface EnvDims {
  stateDim: number;
  actDim: number;
}

/** Per-forward state passed down the backbone: dropout, the padding mask, and an optional tap sink. */
export interface ForwardContext extends DropoutContext {
  /** [B, L] 1 = real token (the step mask repeated over R, s, a). Only DT uses it (docs/spec.md §2.11). */
  tokenMask: tf.Tensor;
  /** When present, blocks store named activations here ([B, L, C] each). */
  taps?: Record<string, tf.Tensor>;
}

/** Stores `t` under `name` when taps are requested. */
export function tap(ctx: ForwardContext, name: string, t: tf.Tensor): void {
  if (ctx.taps) ctx.taps[name] = t;
}

export interface SequenceModel {
  readonly name: string;
  readonly config: Readonly<object>;
  readonly dims: EnvDims;
  /** Predicted actions [B, K, a] in (−1, 1). */
  forward(inputs: ModelInputs, opts: ForwardOptions): tf.Tensor;
  /**
   * Evaluation only (no dropout): the action at the last timestep [B, a], forward(…)[:, K−1] up to float32
   * round-off, with less work (what the evaluator reads, docs/spec.md §10). Optional for other implementations.
   */
  forwardLast?(inputs: ModelInputs): tf.Tensor;
  /** The 3K input tokens after embed_ln, before dropout: [B, 3K, D]. */
  embed(inputs: ModelInputs): tf.Tensor;
  /** The forward pass from embedded tokens (for token-gradient norms); `taps` collects activations. */
  forwardFromTokens(
    tokens: tf.Tensor,
    inputs: ModelInputs,
    opts: ForwardOptions,
    taps?: Record<string, tf.Tensor>,
  ): tf.Tensor;
  trainableParameters(): Map<string, tf.Variable>;
  frozenTensors(): Map<string, tf.Variable>; // non-trainable variables
  parameterCount(): number;
  dispose(): void;
}

/** embed_timestep (optional), embed_return, embed_state, embed_action, embed_ln — registered in this order. */
export class TrajectoryEmbedding extends Module {
  readonly embedTimestep?: Embedding;
  readonly embedReturn: Linear;
  readonly embedState: Linear;
  readonly embedAction: Linear;
  readonly embedLn: LayerNorm;

  constructor(hidden: number, dims: EnvDims, maxEpLen: number, timestepEmbedding: boolean, rng: Rng) {
    super();
    // Outside the backbone PyTorch defaults apply: Embedding N(0, 1), Linear U(±1/√fan_in) (docs/spec.md §3.4, §5, §6).
    if (timestepEmbedding)
      this.embedTimestep = this.registerModule('embed_timestep', new Embedding(maxEpLen, hidden, rng));
    this.embedReturn = this.registerModule('embed_return', new Linear(1, hidden, rng, { init: 'torch-default' }));
    this.embedState = this.registerModule(
      'embed_state',
      new Linear(dims.stateDim, hidden, rng, { init: 'torch-default' }),
    );
    this.embedAction = this.registerModule(
      'embed_action',
      new Linear(dims.actDim, hidden, rng, { init: 'torch-default' }),
    );
    this.embedLn = this.registerModule('embed_ln', new LayerNorm(hidden));
  }

  /** → [B, 3K, D], token 3t = R_t, 3t+1 = s_t, 3t+2 = a_t (docs/spec.md §2.4). */
  apply(inputs: ModelInputs): tf.Tensor {
    const [b, k] = inputs.states.shape;
    let r = this.embedReturn.apply(inputs.returnsToGo); // [B, K, D]
    let s = this.embedState.apply(inputs.states);
    let a = this.embedAction.apply(inputs.actions);
    if (this.embedTimestep) {
      const e = this.embedTimestep.apply(inputs.timesteps); // [B, K, D], added to all three tokens (docs/spec.md §2.3)
      [r, s, a] = [r.add(e), s.add(e), a.add(e)];
    }
    const x = tf.stack([r, s, a], 2).reshape([b, 3 * k, -1]); // [B, 3K, D]
    return this.embedLn.apply(x);
  }
}

/** `predict_action` = Sequential(Linear(D→a), Tanh), read at the s tokens (docs/spec.md §2.8). */
export class ActionHead extends Container {
  readonly linear: Linear;

  constructor(hidden: number, actDim: number, rng: Rng) {
    super();
    this.linear = this.add(0, new Linear(hidden, actDim, rng, { init: 'torch-default' }));
  }

  /** y [B, 3K, D] → [B, K, a]. */
  apply(y: tf.Tensor): tf.Tensor {
    const [b, l, d] = y.shape;
    const sTokens = y
      .reshape([b, l / 3, 3, d])
      .slice([0, 0, 1, 0], [b, l / 3, 1, d])
      .reshape([b, l / 3, d]);
    return tf.tanh(this.linear.apply(sTokens));
  }
}

export function checkInputs(fn: string, inputs: ModelInputs, dims: EnvDims): void {
  const [b, k, s] = inputs.states.shape;
  check(
    inputs.states.rank === 3 && s === dims.stateDim,
    () => `Error in ${fn}: states must be [B, K, ${dims.stateDim}], got [${inputs.states.shape}].`,
  );
  check(
    inputs.actions.rank === 3 &&
      inputs.actions.shape[0] === b &&
      inputs.actions.shape[1] === k &&
      inputs.actions.shape[2] === dims.actDim,
    () => `Error in ${fn}: actions must be [${b}, ${k}, ${dims.actDim}], got [${inputs.actions.shape}].`,
  );
  check(
    inputs.returnsToGo.rank === 3 &&
      inputs.returnsToGo.shape[0] === b &&
      inputs.returnsToGo.shape[1] === k &&
      inputs.returnsToGo.shape[2] === 1,
    () => `Error in ${fn}: returnsToGo must be [${b}, ${k}, 1], got [${inputs.returnsToGo.shape}].`,
  );
  check(
    inputs.timesteps.rank === 2 &&
      inputs.timesteps.dtype === 'int32' &&
      inputs.timesteps.shape[0] === b &&
      inputs.timesteps.shape[1] === k,
    () =>
      `Error in ${fn}: timesteps must be int32 [${b}, ${k}], got ${inputs.timesteps.dtype} [${inputs.timesteps.shape}].`,
  );
  check(
    inputs.mask.rank === 2 && inputs.mask.shape[0] === b && inputs.mask.shape[1] === k,
    () => `Error in ${fn}: mask must be [${b}, ${k}], got [${inputs.mask.shape}].`,
  );
}

/** The common skeleton: embedding → input dropout → backbone → head, with taps and tidy memory. */
export abstract class TrajectoryModel extends Module implements SequenceModel {
  abstract readonly name: string;
  abstract readonly config: Readonly<{ dropout: number }>;
  abstract readonly dims: EnvDims;
  protected abstract embedding: TrajectoryEmbedding;
  protected abstract head: ActionHead;

  /** X after input dropout [B, L, D] → Y after ln_f [B, L, D]. */
  protected abstract backbone(x: tf.Tensor, ctx: ForwardContext): tf.Tensor;

  /**
   * Whether the backbone runs on any token count L (not only 3K): then forwardLast drops the final a-token,
   * which no earlier output reads (every backbone is causal, test/models/causality.test.ts).
   */
  protected anyTokenCount(): boolean {
    return false;
  }

  embed(inputs: ModelInputs): tf.Tensor {
    checkInputs(`${this.name}.embed`, inputs, this.dims);
    return tf.tidy(() => this.embedding.apply(inputs));
  }

  forwardFromTokens(
    tokens: tf.Tensor,
    inputs: ModelInputs,
    opts: ForwardOptions,
    taps?: Record<string, tf.Tensor>,
  ): tf.Tensor {
    const [b, k] = inputs.mask.shape;
    const tokenMask = tf.stack([inputs.mask, inputs.mask, inputs.mask], 2).reshape([b, 3 * k]);
    const ctx: ForwardContext = { training: opts.training, dropoutSeed: opts.dropoutSeed, tokenMask, taps };
    const x = dropout(tokens, this.config.dropout, ctx, 'embd'); // docs/spec.md §2.6
    return this.head.apply(this.backbone(x, ctx));
  }

  forward(inputs: ModelInputs, opts: ForwardOptions): tf.Tensor {
    checkInputs(`${this.name}.forward`, inputs, this.dims);
    return tf.tidy(() => this.forwardFromTokens(this.embedding.apply(inputs), inputs, opts));
  }

  forwardLast(inputs: ModelInputs): tf.Tensor {
    checkInputs(`${this.name}.forwardLast`, inputs, this.dims);
    return tf.tidy(() => {
      const [b, k] = inputs.mask.shape as [number, number];
      let tokens = this.embedding.apply(inputs); // [B, 3K, D]
      const d = tokens.shape[2] as number;
      let tokenMask = tf.stack([inputs.mask, inputs.mask, inputs.mask], 2).reshape([b, 3 * k]);
      let l = 3 * k;
      if (this.anyTokenCount()) {
        l -= 1; // the last token is a_{K−1}, after the s-token read here
        tokens = tokens.slice([0, 0, 0], [b, l, d]);
        tokenMask = tokenMask.slice([0, 0], [b, l]);
      }
      const y = this.backbone(tokens, { training: false, tokenMask }); // no dropout at evaluation
      const sLast = y.slice([0, 3 * k - 2, 0], [b, 1, d]).reshape([b, d]); // s_{K−1}
      return tf.tanh(this.head.linear.apply(sLast));
    });
  }

  trainableParameters(): Map<string, tf.Variable> {
    return this.namedParameters();
  }

  frozenTensors(): Map<string, tf.Variable> {
    return this.namedFrozen();
  }
}
