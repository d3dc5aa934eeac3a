/**
 * Model weights as safetensors (docs/spec.md §13 names): trainable parameters under their state_dict keys,
 * frozen tensors (the shared-frozen DSM) too, listed in the `frozen` metadata entry; the resolved
 * config and dims ride along in the metadata so a file describes its model.
 */
import * as tf from '@tensorflow/tfjs';
import { assignFromRecords, decodeSafetensors, encodeSafetensors, tensorsToRecords } from '../nn';
import { check } from '../util/check';
import { SequenceModel } from './sequence-model';

/** What the writer reads of a model (every SequenceModel has it). */
export type WeightsOf = Pick<SequenceModel, 'name' | 'config' | 'dims' | 'trainableParameters'> & {
  frozenTensors(): Map<string, tf.Tensor>;
};

/** The kit's one weight-file format: used for exported weights and for every checkpoint's model.safetensors. */
export function saveModelWeights(model: WeightsOf, extraMetadata: Record<string, string> = {}): Uint8Array {
  const all = new Map([...model.trainableParameters(), ...model.frozenTensors()]);
  const metadata = {
    format: 'pt',
    model: model.name,
    config: JSON.stringify(model.config),
    dims: JSON.stringify(model.dims),
    frozen: JSON.stringify([...model.frozenTensors().keys()]),
    ...extraMetadata,
  };
  return encodeSafetensors(tensorsToRecords(all), metadata);
}

/**
 * Loads weights by name into `model` (every trainable parameter must be present). Frozen tensors are
 * (the shared-frozen DSM) must be present too. DT's `attn.bias`/`attn.masked_bias` buffers are skipped (docs/spec.md §13).
 */
export function loadModelWeights(
  model: SequenceModel,
  bytes: Uint8Array,
): { metadata: Record<string, string>; unused: string[] } {
  const { tensors, metadata } = decodeSafetensors(bytes);
  const { unused } = assignFromRecords(model.trainableParameters(), tensors, (k) => /\.attn\.(masked_)?bias$/.test(k));
  const frozen = model.frozenTensors();
  const { unused: stillUnused } = assignFromRecords(
    new Map([...frozen].filter(([k]) => unused.includes(k)) as [string, tf.Variable][]),
    tensors,
    (k) => !frozen.has(k) || !unused.includes(k),
  );
  const missingFrozen = [...frozen.keys()].filter((k) => !(k in tensors));
  check(
    missingFrozen.length === 0,
    () =>
      `Error in loadModelWeights: weights must contain the frozen tensors ${missingFrozen.join(', ')} (docs/spec.md §3.5: the shared DSM is saved with the model), got none.`,
  );
  return { metadata, unused: [...stillUnused, ...unused.filter((k) => !frozen.has(k))] };
}
