/** LayerNorm over the last axis with a biased variance and eps 1e-5 (docs/spec.md §2.12). */
import * as tf from '@tensorflow/tfjs';
import { layerNormAffine } from '../ops/affine';
import { constant } from './init';
import { Module } from './module';

export class LayerNorm extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    readonly dim: number,
    readonly eps = 1e-5,
  ) {
    super();
    this.weight = this.registerParameter('weight', constant(dim, 1), [dim]);
    this.bias = this.registerParameter('bias', constant(dim, 0), [dim]);
  }

  /** x [..., dim] → same shape. */
  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const axis = x.shape.length - 1;
      const { mean, variance } = tf.moments(x, axis, true); // variance divides by dim (biased)
      return layerNormAffine(x.sub(mean).mul(variance.add(this.eps).rsqrt()), this.weight, this.bias);
    });
  }
}

/**
 * Mamba-2's gated RMSNorm with `norm_before_gate=False` (docs/spec.md §3.6): g = y ⊙ SiLU(z), then
 * g / √(mean(g²) + eps) ⊙ w over the last axis (one group).
 */
export class GatedRMSNorm extends Module {
  readonly weight: tf.Variable;

  constructor(
    readonly dim: number,
    readonly eps = 1e-5,
  ) {
    super();
    this.weight = this.registerParameter('weight', constant(dim, 1), [dim]);
  }

  apply(y: tf.Tensor, z: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const g = y.mul(z.mul(tf.sigmoid(z)));
      const ms = g.square().mean(-1, true);
      return g.mul(ms.add(this.eps).rsqrt()).mul(this.weight);
    });
  }
}
