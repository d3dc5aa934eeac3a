/** LayerNorm over the last axis with a biased variance and eps 1e-5 (spec §2.12). */
import * as tf from '@tensorflow/tfjs';
import { columnSum } from './batch-matmul';
import { constant } from './init';
import { Module } from './module';

/**
 * z·w + b over the last axis with the same forward ops as before, and the w and b gradients as column
 * sums of the flattened [rows, dim] products (bit-identical to tfjs' Sum over the broadcast axes, which
 * on wasm transposes the whole tensor first).
 */
const affine = tf.customGrad(((z: tf.Tensor, w: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([z, w]);
  return {
    value: z.mul(w).add(b),
    gradFunc: (dy: tf.Tensor, [sz, sw]: tf.Tensor[]) => {
      const dim = sw.shape[0];
      return [dy.mul(sw), columnSum(dy.mul(sz).reshape([-1, dim])), columnSum(dy.reshape([-1, dim]))];
    },
  };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tfjs types customGrad's variadic inputs loosely
}) as any) as (z: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor;

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
      return affine(x.sub(mean).mul(variance.add(this.eps).rsqrt()), this.weight, this.bias);
    });
  }
}

/**
 * Mamba-2's gated RMSNorm with `norm_before_gate=False` (spec §3.6): g = y ⊙ SiLU(z), then
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
