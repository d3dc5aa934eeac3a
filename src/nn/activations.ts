/** Activations with the spec's exact definitions (docs/spec.md §2.12). */
import * as tf from '@tensorflow/tfjs';

/** Exact GELU 0.5·x·(1 + erf(x/√2)); tfjs' Erf has a registered gradient on every backend. */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => x.mul(tf.erf(x.mul(Math.SQRT1_2)).add(1)).mul(0.5));
}

/** SiLU(x) = x·σ(x). */
export function silu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => x.mul(tf.sigmoid(x)));
}

export function relu(x: tf.Tensor): tf.Tensor {
  return tf.relu(x);
}

/** PyTorch softplus: x where x > 20, else ln(1 + eˣ). */
export function softplus(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.where(x.greater(20), x, tf.softplus(x)));
}
