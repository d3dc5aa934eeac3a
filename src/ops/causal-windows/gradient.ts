/** The causal windows' gradient: the backward kernel on dy (the overlap-add), for every backend that has it. */
import * as tf from '@tensorflow/tfjs';
import { CausalWindows, CausalWindowsGrad } from './kernel-names';

export const causalWindowsGradConfig: tf.GradConfig = {
  kernelName: CausalWindows,
  gradFunc: (dy, _saved, attrs) => ({
    x: () => tf.engine().runKernel(CausalWindowsGrad, { x: dy as tf.Tensor }, attrs as tf.NamedAttrMap) as tf.Tensor,
  }),
};
