/**
 * All registration of the selective scan: the gradient (which calls the backward kernel) and one
 * forward and one backward kernel per backend. Imported for its side effects by index.ts.
 * Registering for a backend that is not loaded is harmless: the registry is keyed by name, and the
 * WebGPU kernels import nothing from tfjs-backend-webgpu (which must load after navigator.gpu exists).
 */
import * as tf from '@tensorflow/tfjs';
import { cpuBackward, cpuForward, wasmBackward, wasmForward } from './cpu-kernels';
import { webgpuBackward, webgpuForward } from './webgpu';
import { SelectiveScan, SelectiveScanGrad, presentInputs, type SelectiveScanAttrs } from './kernel-names';

function registerOnce(kernelName: string, backendName: string, kernelFunc: tf.KernelFunc): void {
  if (!tf.getKernel(kernelName, backendName)) tf.registerKernel({ kernelName, backendName, kernelFunc });
}

registerOnce(SelectiveScan, 'cpu', cpuForward);
registerOnce(SelectiveScanGrad, 'cpu', cpuBackward);
registerOnce(SelectiveScan, 'wasm', wasmForward);
registerOnce(SelectiveScanGrad, 'wasm', wasmBackward);
registerOnce(SelectiveScan, 'webgpu', webgpuForward);
registerOnce(SelectiveScanGrad, 'webgpu', webgpuBackward);

if (!tf.getGradient(SelectiveScan)) {
  tf.registerGradient({
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
  });
}
