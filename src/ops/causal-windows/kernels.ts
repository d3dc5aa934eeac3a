/**
 * The causal-window kernels on the CPU backends (cpu, wasm): typed-array loops, one copy of rows forward and
 * their overlap-add backward. Other backends take the op's composite path (causal-windows.ts).
 */
import type * as tf from '@tensorflow/tfjs';
import { CausalWindows, CausalWindowsGrad, type CausalWindowsAttrs } from './kernel-names';

/**
 * out[b, i, j·D + c] = x[b, i − k + 1 + j, c], 0 before the start; x [B, L, D] → out [B, L, kD].
 * The window of token i is the contiguous block of rows max(0, i−k+1)…i: one copy per token.
 */
function windowsInto(x: Float32Array, out: Float32Array, b: number, l: number, d: number, k: number): void {
  const kd = k * d;
  for (let n = 0; n < b; n++) {
    const base = n * l * d;
    for (let i = 0; i < l; i++) {
      const o = (n * l + i) * kd;
      const pad = Math.max(0, k - 1 - i); // window slots before the start
      if (pad > 0) out.fill(0, o, o + pad * d);
      const t0 = i - k + 1 + pad;
      out.set(x.subarray(base + t0 * d, base + (i + 1) * d), o + pad * d);
    }
  }
}

/** The adjoint: dx[b, t, c] = Σ_j dy[b, t + k − 1 − j, j·D + c] over rows inside the sequence. */
function windowsGradInto(dy: Float32Array, dx: Float32Array, b: number, l: number, d: number, k: number): void {
  dx.fill(0);
  const kd = k * d;
  for (let n = 0; n < b; n++) {
    const base = n * l * d;
    for (let i = 0; i < l; i++) {
      const pad = Math.max(0, k - 1 - i);
      const o = (n * l + i) * kd + pad * d;
      const s = base + (i - k + 1 + pad) * d;
      const m = (k - pad) * d;
      for (let c = 0; c < m; c++) dx[s + c] += dy[o + c];
    }
  }
}

interface HeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}
interface CpuBackend {
  data: { get(id: object): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo;
}

/** One direction: its loop, its output shape and the D it runs over, from the input's shape. */
interface Direction {
  name: string;
  run: typeof windowsInto;
  outShape: (s: number[], k: number) => number[];
  dim: (s: number[], k: number) => number;
}

const DIRECTIONS: Direction[] = [
  { name: CausalWindows, run: windowsInto, outShape: (s, k) => [s[0], s[1], k * s[2]], dim: (s) => s[2] },
  {
    name: CausalWindowsGrad,
    run: windowsGradInto,
    outShape: (s, k) => [s[0], s[1], s[2] / k],
    dim: (s, k) => s[2] / k,
  },
];

function input(inputs: tf.NamedTensorInfoMap): tf.TensorInfo {
  return (inputs as unknown as tf.TensorInfo[])[0] ?? inputs.x;
}

function wasmKernel({ name, run, outShape, dim }: Direction): tf.KernelConfig {
  return {
    kernelName: name,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const be = backend as unknown as HeapBackend;
      const x = input(inputs);
      const { k } = attrs as unknown as CausalWindowsAttrs;
      const out = be.makeOutput(outShape(x.shape, k), 'float32'); // first: it may grow the heap
      run(be.typedArrayFromHeap(x), be.typedArrayFromHeap(out), x.shape[0], x.shape[1], dim(x.shape, k), k);
      return out;
    },
  };
}

function cpuKernel({ name, run, outShape, dim }: Direction): tf.KernelConfig {
  return {
    kernelName: name,
    backendName: 'cpu',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const be = backend as unknown as CpuBackend;
      const x = input(inputs);
      const { k } = attrs as unknown as CausalWindowsAttrs;
      const shape = outShape(x.shape, k);
      const out = new Float32Array(shape.reduce((p, q) => p * q, 1));
      run(be.data.get(x.dataId).values as Float32Array, out, x.shape[0], x.shape[1], dim(x.shape, k), k);
      return be.makeTensorInfo(shape, 'float32', out);
    },
  };
}

/** Forward and backward kernels for cpu and wasm. */
export const CAUSAL_WINDOWS_KERNELS: tf.KernelConfig[] = DIRECTIONS.flatMap((d) => [wasmKernel(d), cpuKernel(d)]);
