/**
 * The selective-scan kernels of the `cpu` and `wasm` backends: they hand typed arrays to the fused loops
 * of cpu.ts. cpu: values live in `backend.data`; wasm: values live in the wasm heap, read and written in
 * place through `typedArrayFromHeap` (outputs are allocated first, since an allocation may grow the heap
 * and detach earlier views).
 */
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { ScanBuffers } from './cpu';
// The SIMD kernel, which falls back to cpu.ts's JS loops (DMM_SCAN_CPU=js forces them).
import { fusedScanBackward, fusedScanForward } from './simd';
import { namedInputs, presentInputs, type SelectiveScanAttrs } from './kernel-names';
import type { ScanDims } from './reference';

interface CpuBackendLike {
  data: { get(dataId: object): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
}

type Inputs = Record<string, TensorInfo>;

/** Dims from u [B,d,L] and A [d,N]. */
export function scanDims(inputs: Inputs): ScanDims {
  const [batch, dim, len] = inputs.u.shape;
  return { batch, dim, len, nState: inputs.A.shape[1] };
}

function buffers(inputs: Inputs, read: (t: TensorInfo) => Float32Array): ScanBuffers {
  const x: Record<string, Float32Array> = {};
  for (const [name, t] of Object.entries(inputs)) x[name] = read(t);
  return x as unknown as ScanBuffers;
}

function gradShapes(inputs: Inputs, attrs: SelectiveScanAttrs): [string, number[]][] {
  return presentInputs(attrs).map((name) => [name, inputs[name].shape]);
}

function cpuRead(backend: CpuBackendLike): (t: TensorInfo) => Float32Array {
  return (t) => {
    const v = backend.data.get(t.dataId).values;
    return v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>);
  };
}

export const cpuForward: KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as unknown as CpuBackendLike;
  const a = attrs as unknown as SelectiveScanAttrs;
  const ins = namedInputs(inputs as unknown as Inputs, a);
  const out = new Float32Array(ins.u.shape.reduce((p, q) => p * q, 1));
  fusedScanForward(buffers(ins, cpuRead(be)), scanDims(ins), a.deltaSoftplus, out);
  return be.makeTensorInfo(ins.u.shape, 'float32', out);
};

export const cpuBackward: KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as unknown as CpuBackendLike;
  const { dy, ...rest } = inputs as unknown as Inputs;
  const a = attrs as unknown as SelectiveScanAttrs;
  const read = cpuRead(be);
  const shapes = gradShapes(rest, a);
  const g: Record<string, Float32Array> = {};
  for (const [name, shape] of shapes) g[name] = new Float32Array(shape.reduce((p, q) => p * q, 1));
  fusedScanBackward(buffers(rest, read), scanDims(rest), a.deltaSoftplus, read(dy), g as unknown as ScanBuffers);
  return shapes.map(([name, shape]) => be.makeTensorInfo(shape, 'float32', g[name]));
};

export const wasmForward: KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as unknown as WasmBackendLike;
  const a = attrs as unknown as SelectiveScanAttrs;
  const ins = namedInputs(inputs as unknown as Inputs, a);
  const out = be.makeOutput(ins.u.shape, 'float32');
  const read = (t: TensorInfo): Float32Array => be.typedArrayFromHeap(t);
  fusedScanForward(buffers(ins, read), scanDims(ins), a.deltaSoftplus, read(out));
  return out;
};

export const wasmBackward: KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as unknown as WasmBackendLike;
  const { dy, ...rest } = inputs as unknown as Inputs;
  const a = attrs as unknown as SelectiveScanAttrs;
  const shapes = gradShapes(rest, a);
  const outs = shapes.map(([, shape]) => be.makeOutput(shape, 'float32'));
  const read = (t: TensorInfo): Float32Array => be.typedArrayFromHeap(t);
  const g: Record<string, Float32Array> = {};
  shapes.forEach(([name], k) => (g[name] = read(outs[k])));
  fusedScanBackward(buffers(rest, read), scanDims(rest), a.deltaSoftplus, read(dy), g as unknown as ScanBuffers);
  return outs;
};
