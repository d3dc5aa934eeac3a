/**
 * Every kit kernel and gradient, registered once (tfjs' register_all_kernels / register_all_gradients).
 * Each op imports this module, so using any op registers all of them. A kernel or gradient already
 * registered under its name (a second copy of the module) is left as it is.
 */
import * as tf from '@tensorflow/tfjs';
import { BATCH_MATMUL_KERNELS } from './batch-matmul/kernel';
import { causalWindowsGradConfig } from './causal-windows/gradient';
import { CAUSAL_WINDOWS_KERNELS } from './causal-windows/kernels';
import { EMBEDDING_LOOKUP_KERNELS } from './embedding-lookup/kernel';
import { SCAN_KERNELS, scanGradConfig } from './scan/register';

const KERNELS: tf.KernelConfig[] = [
  ...SCAN_KERNELS,
  ...CAUSAL_WINDOWS_KERNELS,
  ...BATCH_MATMUL_KERNELS,
  ...EMBEDDING_LOOKUP_KERNELS,
];
const GRADIENTS: tf.GradConfig[] = [scanGradConfig, causalWindowsGradConfig];

for (const k of KERNELS) if (!tf.getKernel(k.kernelName, k.backendName)) tf.registerKernel(k);
for (const g of GRADIENTS) if (!tf.getGradient(g.kernelName)) tf.registerGradient(g);
