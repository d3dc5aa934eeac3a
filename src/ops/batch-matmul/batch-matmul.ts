/**
 * batchMatMul and columnSum: the products the nn layers run through the SIMD kernel (./simd.ts, registered
 * as the wasm kernel `KitBatchMatMul`, ./kernel.ts) where it applies, tf.matMul and tf.sum elsewhere.
 */
import * as tf from '@tensorflow/tfjs';
import '../register';
import { KIT_BATCH_MATMUL } from './kernel-names';
import { bmmExports } from './simd';

function simdUsable(a: tf.Tensor, b: tf.Tensor): boolean {
  if (tf.getBackend() !== 'wasm' || a.rank !== 3 || b.rank !== 3 || a.dtype !== 'float32' || b.dtype !== 'float32')
    return false;
  const [batch, , k] = a.shape;
  const [batchB, kB, m] = b.shape;
  if (batch !== batchB || k !== kB || m % 4 !== 0 || a.size === 0 || b.size === 0) return false;
  return bmmExports() !== null && tf.getKernel(KIT_BATCH_MATMUL, 'wasm') !== undefined;
}

/**
 * a [B, n, k] · b [B, k, m] → [B, n, m] (no gradient of its own: callers wrap it, see ../matmul.ts). Other
 * ranks, backends and shapes go to tf.matMul.
 */
export function batchMatMul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (!simdUsable(a, b)) return tf.matMul(a, b);
  return tf.engine().runKernel(KIT_BATCH_MATMUL, { a, b }, {}) as tf.Tensor;
}

/**
 * Σ over rows of a 2-D x [n, m] → [m]: the bias gradient of every Linear. wasm's Sum over axis 0 first
 * transposes x; here it is ones [1, n]·x through the SIMD product, whose per-column sum runs down the
 * rows in the same order as Sum's loop (bit-identical in the tests), 2–15× faster at the models' shapes.
 */
export function columnSum(x: tf.Tensor): tf.Tensor {
  const [n, m] = x.shape;
  return tf.tidy(() => {
    const ones = tf.ones([1, 1, n]);
    const x3 = x.reshape([1, n, m]);
    return simdUsable(ones, x3) ? batchMatMul(ones, x3).reshape([m]) : x.sum(0);
  });
}
