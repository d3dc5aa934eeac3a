/** Masked action MSE (docs/spec.md §2.10): mean over real steps × action dims of (â − a)². */
import * as tf from '@tensorflow/tfjs';
import { check } from '../util/check';

/** pred, target [B, K, a]; mask [B, K] (1 = real step) → scalar. */
export function maskedActionLoss(pred: tf.Tensor, target: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  check(
    pred.rank === 3 && target.shape.every((d, i) => d === pred.shape[i]),
    () =>
      `Error in maskedActionLoss: pred and target must both be [B, K, a], got [${pred.shape}] and [${target.shape}].`,
  );
  check(
    mask.rank === 2 && mask.shape[0] === pred.shape[0] && mask.shape[1] === pred.shape[1],
    () => `Error in maskedActionLoss: mask must be [${pred.shape[0]}, ${pred.shape[1]}], got [${mask.shape}].`,
  );
  return tf.tidy(() => {
    const perStep = pred.sub(target).square().sum(-1); // [B, K]
    const denom = mask.sum().mul(pred.shape[2] as number);
    return perStep.mul(mask).sum().div(denom) as tf.Scalar;
  });
}
