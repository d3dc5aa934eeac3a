/**
 * The affine steps of Linear (y + bias) and LayerNorm (z·w + b) with their parameter gradients as column
 * sums (`columnSum`, the SIMD product on wasm): the same forward ops as tfjs', and gradients bit-identical
 * to tfjs' Sum over the broadcast axes, which on wasm transposes the whole tensor first.
 */
import * as tf from '@tensorflow/tfjs';
import { columnSum } from './batch-matmul/batch-matmul';
import { customOp } from './custom-op';

/**
 * y [n, out] + bias [out], with the bias gradient as `columnSum` (bit-identical to tfjs' Sum over the
 * rows, without wasm's transpose first). Not tf.fused.matMul: on the wasm backend (tfjs 4.22) its bias
 * gradient is wrong (found by test/models/gradients.test.ts).
 */
export const biasAdd = customOp((_save, y: tf.Tensor, bias: tf.Tensor) => ({
  value: y.add(bias),
  gradFunc: (dy: tf.Tensor) => [dy.clone(), columnSum(dy)],
}));

/**
 * z·w + b over the last axis with the same forward ops as before, and the w and b gradients as column
 * sums of the flattened [rows, dim] products (bit-identical to tfjs' Sum over the broadcast axes, which
 * on wasm transposes the whole tensor first).
 */
export const layerNormAffine = customOp((save, z: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => {
  save([z, w]);
  return {
    value: z.mul(w).add(b),
    gradFunc: (dy: tf.Tensor, [sz, sw]: tf.Tensor[]) => {
      const dim = sw.shape[0];
      return [dy.mul(sw), columnSum(dy.mul(sz).reshape([-1, dim])), columnSum(dy.reshape([-1, dim]))];
    },
  };
});
