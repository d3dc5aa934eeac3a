/** `Embedding`: a lookup table, init N(0, 1) as PyTorch's default (the lookup is src/ops/embedding-lookup/). */
import * as tf from '@tensorflow/tfjs';
import { embeddingLookup } from '../ops/embedding-lookup/embedding-lookup';
import { Rng } from '../util/rng';
import { normal } from './init';
import { Module } from './module';

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
