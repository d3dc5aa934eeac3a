/**
 * embeddingLookup: rows of a table, differentiable with respect to the table on every backend. The
 * gradient is a scatter-add because tfjs' gather gradient needs `UnsortedSegmentSum`, which the wasm
 * backend lacks; on wasm the rows are copied by the kit's kernel (./kernel.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { customOp } from '../custom-op';
import '../register';
import { KIT_GATHER_ROWS } from './kernel-names';

function gather(table: tf.Tensor, flatIds: tf.Tensor1D): tf.Tensor {
  if (tf.getBackend() !== 'wasm' || table.dtype !== 'float32' || flatIds.dtype !== 'int32')
    return tf.gather(table, flatIds);
  return tf.engine().runKernel(KIT_GATHER_ROWS, { table, ids: flatIds }, {}) as tf.Tensor;
}

/** table [V, D], ids int32 [...] → [..., D], differentiable w.r.t. the table on every backend. */
export function embeddingLookup(table: tf.Tensor, ids: tf.Tensor): tf.Tensor {
  const [vocab, dim] = table.shape;
  const flatIds = ids.reshape([-1]) as tf.Tensor1D;
  const lookup = customOp((save, t: tf.Tensor) => {
    save([flatIds]);
    return {
      value: gather(t, flatIds),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.scatterND(saved[0].reshape([-1, 1]), dy, [vocab, dim]),
    };
  });
  return lookup(table).reshape([...ids.shape, dim]);
}
