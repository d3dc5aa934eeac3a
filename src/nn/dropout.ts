/**
 * Seeded inverted dropout. Each call site derives its own stream from the forward pass's
 * `dropoutSeed` and a site label, so a forward pass is reproducible and independent of call order.
 * Masks come from the kit's Rng (one 32-bit draw per element), not tfjs' global random state.
 */
import * as tf from '@tensorflow/tfjs';
import { check } from '../util/check';
import { Rng, deriveSeed } from '../util/rng';

/** Per-forward context for dropout: training flag and the seed of this forward pass. */
export interface DropoutContext {
  training: boolean;
  dropoutSeed?: number;
}

export function dropout(x: tf.Tensor, p: number, ctx: DropoutContext, site: string): tf.Tensor {
  if (!ctx.training || p === 0) return x;
  check(
    ctx.dropoutSeed !== undefined && Number.isInteger(ctx.dropoutSeed),
    () =>
      `Error in dropout: dropoutSeed must be an integer in training mode, got ${ctx.dropoutSeed}. Pass forward(inputs, { training: true, dropoutSeed }).`,
  );
  const rng = new Rng(deriveSeed(ctx.dropoutSeed, 'dropout', site));
  const n = x.size;
  const mask = new Float32Array(n);
  const threshold = p * 4294967296;
  const scale = 1 / (1 - p);
  for (let i = 0; i < n; i++) mask[i] = rng.nextUint32() >= threshold ? scale : 0;
  return tf.tidy(() => x.mul(tf.tensor(mask, x.shape, 'float32')));
}
