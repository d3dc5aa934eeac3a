/**
 * The channel-mixing MLP of DC and Decision Mamba (docs/spec.md §5, §6.2): Sequential(Linear(D→4D), GELU,
 * Linear(4D→D)) with names `0` and `2`, backbone init N(0, 0.02²), zero biases.
 */
import * as tf from '@tensorflow/tfjs';
import { Container, Linear, gelu } from '../nn';
import { Rng } from '../util/rng';

export class ChannelMlp extends Container {
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(hidden: number, rng: Rng) {
    super();
    this.fc1 = this.add(0, new Linear(hidden, 4 * hidden, rng, { init: 'backbone' }));
    this.fc2 = this.add(2, new Linear(4 * hidden, hidden, rng, { init: 'backbone' }));
  }

  /** [B, L, D] → [B, L, D]. */
  apply(x: tf.Tensor): tf.Tensor {
    return this.fc2.apply(gelu(this.fc1.apply(x)));
  }
}
