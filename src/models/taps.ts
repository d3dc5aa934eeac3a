/**
 * Introspection for the paper figures (docs/spec.md §11 F3, F4).
 *
 * - `forwardWithTaps`: the forward pass plus named activations, each [B, L, C]:
 *   `layers.{i}.mixerInput` (input of the local mixer, after LN1; for DMa the Mamba input),
 *   `layers.{i}.localMixerOutput` (after the DSM / conv / attention), `layers.{i}.globalMixerInput`
 *   (DMM: after LN2), `layers.{i}.scanInput` (Mamba's x after SiLU), `layers.{i}.scanOutput` (y after
 *   the SiLU(z) gate, before out_proj; Mamba-2: after the gated RMSNorm), `layers.{i}.blockOutput`.
 *   Which names exist depends on the model (DT and DC have no scan).
 * - `tokenGradientNorms`: ‖∂ℒ/∂x_j‖₂ over channels for each of the 3K input tokens x_j (after
 *   embed_ln), ℒ the masked action MSE of the given batch (a batch mean, so the norms scale with 1/B).
 */
import * as tf from '@tensorflow/tfjs';
import { check } from '../util/check';
import { maskedActionLoss } from './loss';
import { ForwardOptions, ModelInputs, SequenceModel, checkInputs } from './sequence-model';

export interface TappedForward {
  output: tf.Tensor; // [B, K, a]
  taps: Record<string, tf.Tensor>; // each [B, 3K, C]
}

/** Forward with activation taps; eval mode by default. The caller disposes the returned tensors. */
export function forwardWithTaps(
  model: SequenceModel,
  inputs: ModelInputs,
  opts: ForwardOptions = { training: false },
): TappedForward {
  checkInputs('forwardWithTaps', inputs, model.dims);
  return tf.tidy(() => {
    const taps: Record<string, tf.Tensor> = {};
    const output = model.forwardFromTokens(model.embed(inputs), inputs, opts, taps);
    return { output, taps };
  });
}

export interface TokenGradientNorms {
  /** [3K]: mean over the batch of the per-window norms. */
  mean: tf.Tensor1D;
  /** [B, 3K]. */
  perWindow: tf.Tensor2D;
}

export function tokenGradientNorms(
  model: SequenceModel,
  inputs: ModelInputs,
  targets: tf.Tensor,
  opts: ForwardOptions = { training: false },
): TokenGradientNorms {
  checkInputs('tokenGradientNorms', inputs, model.dims);
  check(
    targets.shape.every((d, i) => d === inputs.actions.shape[i]) && targets.rank === 3,
    () =>
      `Error in tokenGradientNorms: targets must be [${inputs.actions.shape}] like actions, got [${targets.shape}].`,
  );
  return tf.tidy(() => {
    const tokens = model.embed(inputs); // [B, 3K, D]
    const grad = tf.grad((x: tf.Tensor) =>
      maskedActionLoss(model.forwardFromTokens(x, inputs, opts), targets, inputs.mask),
    )(tokens);
    const perWindow = grad.square().sum(-1).sqrt() as tf.Tensor2D; // [B, 3K]
    return { mean: perWindow.mean(0) as tf.Tensor1D, perWindow };
  });
}
