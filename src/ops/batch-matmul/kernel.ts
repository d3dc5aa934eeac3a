/** The wasm kernel of the SIMD batched product: operands and result on the wasm heap (./batch-matmul.ts). */
import type * as tf from '@tensorflow/tfjs';
import { batchMatMulInto } from './simd';
import { KIT_BATCH_MATMUL } from './kernel-names';

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

const kitBatchMatMul: tf.KernelFunc = (args) => {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const [batch, n, k] = a.shape;
  const m = b.shape[2];
  const be = args.backend as unknown as WasmBackendLike;
  const out = be.makeOutput([batch, n, m], 'float32');
  // Heap views are taken after makeOutput (allocating may grow the heap and detach older views); growing
  // the kernel module's own memory leaves them valid.
  const view = (t: tf.TensorInfo) => be.typedArrayFromHeap(t) as Float32Array;
  batchMatMulInto(view(a), view(b), view(out), batch, n, k, m);
  return out;
};

export const BATCH_MATMUL_KERNELS: tf.KernelConfig[] = [
  { kernelName: KIT_BATCH_MATMUL, backendName: 'wasm', kernelFunc: kitBatchMatMul },
];
