/**
 * Matrix products whose forward and backward passes use only un-transposed `tf.matMul` calls plus
 * explicit transposes. On the wasm backend (tfjs 4.22) a matMul with `transposeA`/`transposeB` or
 * broadcast batch dims leaves XNNPACK's fast path and is about 10× slower (bench/train-step.ts:
 * [1536, 384]·[384, 64] 17 ms plain vs 148 ms with transposeB under load), and tfjs' own matMul gradient
 * uses those flags. Transposing the smaller operand explicitly is far cheaper. Rank-3 products (attention)
 * go through batch-matmul.ts's SIMD kernel on wasm, whose own BatchMatMul is scalar for batch > 1.
 */
import * as tf from '@tensorflow/tfjs';
import { batchMatMul } from './batch-matmul/batch-matmul';
import { customOp } from './custom-op';

function t(x: tf.Tensor): tf.Tensor {
  const r = x.rank;
  return x.rank === 2 ? x.transpose() : x.transpose([...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2]);
}

const plainMatMul = customOp((save, a: tf.Tensor, b: tf.Tensor) => {
  save([a, b]);
  return {
    value: batchMatMul(a, b),
    gradFunc: (dy: tf.Tensor, [sa, sb]: tf.Tensor[]) => [batchMatMul(dy, t(sb)), batchMatMul(t(sa), dy)],
  };
});

/** a [..., n, k] · b [..., k, m] (equal batch dims, no broadcasting) → [..., n, m]. */
export function matMul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return plainMatMul(a, b);
}

const linearMatMul = customOp((save, x: tf.Tensor, w: tf.Tensor) => {
  save([x, w]);
  return {
    value: tf.matMul(x, w.transpose()),
    // dX = dY·W needs no transpose of W; dW = dYᵀ·X transposes the gradient once.
    gradFunc: (dy: tf.Tensor, [sx, sw]: tf.Tensor[]) => [tf.matMul(dy, sw), tf.matMul(dy.transpose(), sx)],
  };
});

/** x [n, in] · Wᵀ for a PyTorch-layout weight W [out, in] → [n, out]. */
export function matMulWT(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  return linearMatMul(x, w);
}

/** The transpose of the last two axes. */
export const transposeLast = t;
