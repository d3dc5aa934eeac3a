/**
 * Causal depthwise Conv1d with PyTorch's parameter layout (weight [C, 1, k], bias [C]) applied to a
 * token-major sequence [B, L, C]: y_l[c] = b[c] + Σ_j w[c, j] · x_{l−k+1+j}[c], zeros before position 0.
 * Used by stock Mamba (k = 4, spec §5) and the ablation mixers. Written as k shifted products rather
 * than tf.depthwiseConv2d because the wasm backend has no depthwise-conv backward kernels.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/rng';
import { uniform } from './init';
import { Module } from './module';

/** Left-pads the token axis (1) of [B, L, C] with `n` zero tokens. */
export function padTokens(x: tf.Tensor, n: number): tf.Tensor {
  return n === 0
    ? x
    : tf.pad(x, [
        [0, 0],
        [n, 0],
        [0, 0],
      ]);
}

/**
 * Σ_j taps[j] ⊙ xpad[:, j : j + L, :] for a left-padded input, taps [k, C] or [k, L, C] (per position).
 */
export function causalTapSum(x: tf.Tensor, taps: tf.Tensor): tf.Tensor {
  const [b, l, c] = x.shape;
  const k = taps.shape[0];
  const xp = padTokens(x, k - 1);
  let y: tf.Tensor | undefined;
  for (let j = 0; j < k; j++) {
    const w =
      taps.rank === 2 ? taps.slice([j, 0], [1, c]).reshape([c]) : taps.slice([j, 0, 0], [1, l, c]).reshape([l, c]);
    const term = xp.slice([0, j, 0], [b, l, c]).mul(w);
    y = y ? y.add(term) : term;
  }
  return y!;
}

export class CausalDepthwiseConv1d extends Module {
  readonly weight: tf.Variable; // [C, 1, k]
  readonly bias: tf.Variable; // [C]

  constructor(
    readonly channels: number,
    readonly kernelSize: number,
    rng: Rng,
  ) {
    super();
    // PyTorch Conv1d default: U(±1/√(in/groups · k)) = U(±1/√k) for depthwise (spec §5, §6.2).
    const bound = 1 / Math.sqrt(kernelSize);
    this.weight = this.registerParameter('weight', uniform(rng, channels * kernelSize, bound), [
      channels,
      1,
      kernelSize,
    ]);
    this.bias = this.registerParameter('bias', uniform(rng, channels, bound), [channels]);
  }

  /** x [B, L, C] → [B, L, C]. */
  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const taps = this.weight.reshape([this.channels, this.kernelSize]).transpose(); // [k, C]
      return causalTapSum(x, taps).add(this.bias);
    });
  }
}
