/**
 * `Embedding` (a lookup table, init N(0, 1) as PyTorch's default). The gradient is written as a
 * scatter-add because tfjs' gather gradient needs `UnsortedSegmentSum`, which the wasm backend lacks.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/rng';
import { normal } from './init';
import { Module } from './module';

/** table [V, D], ids int32 [...] → [..., D], differentiable w.r.t. the table on every backend. */
export function embeddingLookup(table: tf.Tensor, ids: tf.Tensor): tf.Tensor {
  const [vocab, dim] = table.shape;
  const flatIds = ids.reshape([-1]) as tf.Tensor1D;
  const lookup = tf.customGrad(((t: tf.Tensor, save: tf.GradSaveFunc) => {
    save([flatIds]);
    return {
      value: tf.gather(t, flatIds),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.scatterND(saved[0].reshape([-1, 1]), dy, [vocab, dim]),
    };
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tfjs types customGrad's variadic inputs loosely
  }) as any);
  return (lookup(table) as tf.Tensor).reshape([...ids.shape, dim]);
}

export class Embedding extends Module {
  readonly weight: tf.Variable; // [V, D]

  constructor(
    readonly numEmbeddings: number,
    readonly dim: number,
    rng: Rng,
    std = 1,
  ) {
    super();
    this.weight = this.registerParameter('weight', normal(rng, numEmbeddings * dim, std), [numEmbeddings, dim]);
  }

  apply(ids: tf.Tensor): tf.Tensor {
    return embeddingLookup(this.weight, ids);
  }
}
