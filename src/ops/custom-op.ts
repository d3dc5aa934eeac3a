/**
 * A composite op with its own gradient, written in tfjs ops so that it serves every backend (tfjs'
 * `customGrad`, typed once here: tfjs types its variadic inputs loosely). `forward` returns the value and
 * the gradient function; `save` keeps the tensors the gradient reads.
 */
import * as tf from '@tensorflow/tfjs';

export type GradResult = tf.Tensor | tf.Tensor[];

export function customOp<A extends tf.Tensor[]>(
  forward: (
    save: tf.GradSaveFunc,
    ...inputs: A
  ) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => GradResult },
): (...inputs: A) => tf.Tensor {
  const op = tf.customGrad((...args: unknown[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    return forward(save, ...(args.slice(0, -1) as A));
  });
  return (...inputs: A) => (op as unknown as (...t: tf.Tensor[]) => tf.Tensor)(...inputs);
}
