/**
 * The selective scan's kernels, one forward and one backward per backend, and its gradient, for
 * src/ops/register.ts (which registers every kit kernel once). Registering for a backend that is not loaded
 * is harmless: the registry is keyed by name, and the WebGPU kernels import nothing from
 * tfjs-backend-webgpu (which must load after navigator.gpu exists).
 */
import * as tf from '@tensorflow/tfjs';
import { cpuBackward, cpuForward, wasmBackward, wasmForward } from './cpu-kernels';
import { webgpuBackward, webgpuForward } from './webgpu';
import { SelectiveScan, SelectiveScanGrad, presentInputs, type SelectiveScanAttrs } from './kernel-names';

export const SCAN_KERNELS: tf.KernelConfig[] = [
  { kernelName: SelectiveScan, backendName: 'cpu', kernelFunc: cpuForward },
  { kernelName: SelectiveScanGrad, backendName: 'cpu', kernelFunc: cpuBackward },
  { kernelName: SelectiveScan, backendName: 'wasm', kernelFunc: wasmForward },
  { kernelName: SelectiveScanGrad, backendName: 'wasm', kernelFunc: wasmBackward },
  { kernelName: SelectiveScan, backendName: 'webgpu', kernelFunc: webgpuForward },
  { kernelName: SelectiveScanGrad, backendName: 'webgpu', kernelFunc: webgpuBackward },
];

export const scanGradConfig: tf.GradConfig = {
  kernelName: SelectiveScan,
  // The op passes an array of the present inputs in SCAN_INPUT_NAMES order; attrs say which are present.
  saveAllInputs: true,
  gradFunc: (dy, saved, attrs) => {
    const a = attrs as SelectiveScanAttrs;
    const names = presentInputs(a);
    const inputs: tf.NamedTensorMap = {};
    names.forEach((name, k) => (inputs[name] = saved[k]));
    inputs.dy = dy as tf.Tensor;
    const grads = tf.engine().runKernel(SelectiveScanGrad, inputs, a) as tf.Tensor[];
    // Gradients are keyed by the position of the input in the array the op passed.
    const out: Record<string, () => tf.Tensor> = {};
    names.forEach((_, k) => (out[String(k)] = () => grads[k]));
    return out;
  },
};
