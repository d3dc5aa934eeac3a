/**
 * Leaner versions of four tfjs-backend-wasm kernels that the training step runs hundreds of times:
 * - Identity: wasm copies its input, and the engine runs Identity for every tensor an op saves for its
 *   gradient (Engine.clone): ~340 full copies per DMM step. Like the cpu backend's Identity (and wasm's
 *   own Reshape) this one shares the data and bumps its reference count. Safe because no wasm kernel
 *   writes into its inputs (Variable.assign swaps data rather than writing in place).
 * - Cast to the dtype x already has (tf.moments casts its input; ~40 per DMM step): shared the same way,
 *   as the cpu backend does. Real conversions keep the original kernel.
 * - Slice and SplitV: wasm's Slice reads the whole input back through readSync (a copy of all of x) on
 *   every call, and SplitV calls it once per piece. These copy just the slice out of a heap view.
 * Strings keep the original kernels. `useLeanWasmKernels` is idempotent and a no-op where wasm is not loaded.
 */
import * as tf from '@tensorflow/tfjs';

interface WasmBackendLike {
  incRef(dataId: object): void;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

type View = Float32Array | Int32Array | Uint8Array;
const originals = new Map<string, tf.KernelFunc>();

/** Copies the box `begin`..`begin + size` of x (row-major `shape`) into `out`, by innermost runs. */
export function sliceInto(x: View, shape: number[], begin: number[], size: number[], out: View): void {
  const rank = shape.length;
  if (size.some((s) => s === 0)) return;
  if (rank === 0) {
    out[0] = x[0];
    return;
  }
  const strides = tf.util.computeStrides(shape);
  const inner = size[rank - 1];
  const outer = size.slice(0, -1).reduce((a, b) => a * b, 1);
  const idx = new Array<number>(rank - 1).fill(0);
  for (let o = 0, outOff = 0; o < outer; o++, outOff += inner) {
    let off = begin[rank - 1];
    for (let k = 0; k < rank - 1; k++) off += (begin[k] + idx[k]) * strides[k];
    if (inner >= 16) out.set(x.subarray(off, off + inner), outOff);
    else for (let j = 0; j < inner; j++) out[outOff + j] = x[off + j];
    for (let k = rank - 2; k >= 0; k--) {
      if (++idx[k] < size[k]) break;
      idx[k] = 0;
    }
  }
}

function sliceOut(be: WasmBackendLike, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
  const out = be.makeOutput(size, x.dtype); // allocate first: it may grow the heap and detach older views
  sliceInto(be.typedArrayFromHeap(x), x.shape, begin, size, be.typedArrayFromHeap(out));
  return out;
}

const sharedIdentity: tf.KernelFunc = (args) => {
  const x = (args.inputs as { x: tf.TensorInfo }).x;
  if (x.dtype === 'string') return originals.get('Identity')!(args);
  (args.backend as unknown as WasmBackendLike).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

const sharedCast: tf.KernelFunc = (args) => {
  const x = (args.inputs as { x: tf.TensorInfo }).x;
  const { dtype } = args.attrs as unknown as { dtype: tf.DataType };
  if (dtype !== x.dtype || dtype === 'string') return originals.get('Cast')!(args);
  return sharedIdentity(args);
};

const viewSlice: tf.KernelFunc = (args) => {
  const x = (args.inputs as { x: tf.TensorInfo }).x;
  if (x.dtype === 'string') return originals.get('Slice')!(args);
  const a = args.attrs as unknown as { begin: number | number[]; size?: number | number[] };
  const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, a.begin, a.size);
  return sliceOut(args.backend as unknown as WasmBackendLike, x, begin, size);
};

const viewSplitV: tf.KernelFunc = (args) => {
  const x = (args.inputs as { x: tf.TensorInfo }).x;
  if (x.dtype === 'string') return originals.get('SplitV')!(args);
  const a = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
  const axis = tf.util.parseAxisParam(a.axis, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, a.numOrSizeSplits, axis);
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((s) => {
    const size = x.shape.slice();
    size[axis] = s;
    const out = sliceOut(args.backend as unknown as WasmBackendLike, x, begin, size);
    begin[axis] += s;
    return out;
  });
};

const LEAN: Record<string, tf.KernelFunc> = {
  Identity: sharedIdentity,
  Cast: sharedCast,
  Slice: viewSlice,
  SplitV: viewSplitV,
};

/** Registers the lean kernels for the wasm backend (once). */
export function useLeanWasmKernels(): void {
  for (const [name, kernelFunc] of Object.entries(LEAN)) {
    const current = tf.getKernel(name, 'wasm');
    if (!current || current.kernelFunc === kernelFunc) continue;
    originals.set(name, current.kernelFunc);
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc });
  }
}
