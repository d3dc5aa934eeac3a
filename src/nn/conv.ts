/**
 * Causal depthwise Conv1d with PyTorch's parameter layout (weight [C, 1, k], bias [C]) applied to a
 * token-major sequence [B, L, C]: y_l[c] = b[c] + Σ_j w[c, j] · x_{l−k+1+j}[c], zeros before position 0.
 * Used by stock Mamba (k = 4, docs/spec.md §5) and the ablation mixers; the computation is the kit's periodic causal
 * convolution op (src/ops/periodic-conv/) with period 1.
 */
import * as tf from '@tensorflow/tfjs';
import { periodicCausalConv } from '../ops/periodic-conv/periodic-conv';
import { Rng } from '../util/rng';
import { uniform } from './init';
import { Module } from './module';

export class CausalDepthwiseConv1d extends Module {
  readonly weight: tf.Variable; // [C, 1, k]
  readonly bias: tf.Variable; // [C]

  constructor(
    readonly channels: number,
    readonly kernelSize: number,
    rng: Rng,
  ) {
    super();
    // PyTorch Conv1d default: U(±1/√(in/groups · k)) = U(±1/√k) for depthwise (docs/spec.md §5, §6.2).
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
      return periodicCausalConv(x, taps.reshape([this.kernelSize, 1, this.channels]), this.bias.reshape([1, -1]));
    });
  }
}
