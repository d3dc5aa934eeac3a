/**
 * causalWindows: the DSM's input windows (docs/spec.md §3.2), [B, L, D] → [B, L, kD], row i = [U_{i−k+1}, …, U_i]
 * (oldest first), zeros before the start. One kernel on cpu and wasm (kernels.ts); elsewhere the composite
 * path: k slices of the padded input, concatenated (pad, k slices and a concat forward, k pads and a sum
 * backward: about 13% of a wasm forward).
 */
import * as tf from '@tensorflow/tfjs';
import { padTokens } from '../periodic-conv/periodic-conv';
import '../register';
import { CausalWindows } from './kernel-names';

/** `path`: 'kernel' where the backend has it (cpu, wasm), else 'composite'. */
export function causalWindows(u: tf.Tensor, k: number, path?: 'kernel' | 'composite'): tf.Tensor {
  if (k === 1) return u;
  const kernelOk = tf.getKernel(CausalWindows, tf.getBackend()) !== undefined && u.dtype === 'float32';
  if ((path ?? (kernelOk ? 'kernel' : 'composite')) === 'kernel' && kernelOk)
    return tf.engine().runKernel(CausalWindows, { x: u }, { k }) as tf.Tensor;
  const [b, l, d] = u.shape;
  const up = padTokens(u, k - 1); // [B, L+k−1, D]
  const slices: tf.Tensor[] = [];
  for (let j = 0; j < k; j++) slices.push(up.slice([0, j, 0], [b, l, d]));
  return tf.concat(slices, 2);
}
