/**
 * Seeded inverted dropout. Each call site derives its own stream from the forward pass's `dropoutSeed`
 * and a site label, so a forward pass is reproducible and independent of call order. The mask of element
 * i is a counter-based function of (stream, i) (util/rng.ts `counterBits`), the same function the fused
 * engine evaluates on the GPU, so both training paths draw identical masks.
 */
import * as tf from '@tensorflow/tfjs';
import { check } from '../util/check';
import { counterBits, dropoutStream, dropoutThreshold } from '../util/rng';

/** Per-forward context for dropout: training flag and the seed of this forward pass. */
export interface DropoutContext {
  training: boolean;
  dropoutSeed?: number;
}

/** The inverted-dropout mask of `n` elements: 1/(1 − p) where kept, 0 where dropped. */
export function dropoutMask(n: number, p: number, dropoutSeed: number, site: string): Float32Array {
  const [k0, k1] = dropoutStream(dropoutSeed, site);
  const threshold = dropoutThreshold(p);
  const scale = 1 / (1 - p);
  const mask = new Float32Array(n);
  for (let i = 0; i < n; i++) mask[i] = counterBits(k0, k1, i) >= threshold ? scale : 0;
  return mask;
}

export function dropout(x: tf.Tensor, p: number, ctx: DropoutContext, site: string): tf.Tensor {
  if (!ctx.training || p === 0) return x;
  check(
    ctx.dropoutSeed !== undefined && Number.isInteger(ctx.dropoutSeed),
    () =>
      `Error in dropout: dropoutSeed must be an integer in training mode, got ${ctx.dropoutSeed}. Pass forward(inputs, { training: true, dropoutSeed }).`,
  );
  const mask = dropoutMask(x.size, p, ctx.dropoutSeed!, site);
  return tf.tidy(() => x.mul(tf.tensor(mask, x.shape, 'float32')));
}
