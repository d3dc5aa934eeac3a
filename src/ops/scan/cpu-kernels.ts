/**
 * The selective-scan kernels of the `cpu` and `wasm` backends: they hand typed arrays to the fused loops
 * of cpu.ts. cpu: values live in `backend.data`; wasm: values live in the wasm heap, read and written in
 * place through `typedArrayFromHeap` (outputs are allocated first, since an allocation may grow the heap
 * and detach earlier views).
 */
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { ScanBuffers } from './cpu';
// The SIMD kernel, which falls back to cpu.ts's JS loops (DMM_SCAN_CPU=js forces them).
import { fusedScanBackward, fusedScanForward, simdScanUsable } from './simd';
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

/** Dims from u ([B,d,L], or [B,L,d] token-major) and A [d,N]. */
export function scanDims(inputs: Inputs, tokenMajor = false): ScanDims {
  const [batch, p, q] = inputs.u.shape;
  return tokenMajor
    ? { batch, dim: q, len: p, nState: inputs.A.shape[1] }
    : { batch, dim: p, len: q, nState: inputs.A.shape[1] };
}

/** dst[b, j, i] = src[b, i, j] for src [batch, p, q]. */
export function swapLastAxes(src: Float32Array, dst: Float32Array, batch: number, p: number, q: number): void {
  for (let b = 0; b < batch; b++) {
    const o = b * p * q;
    for (let i = 0; i < p; i++) {
      const si = o + i * q;
      for (let j = 0, di = o + i; j < q; j++, di += p) dst[di] = src[si + j];
    }
  }
}

// Channel-major scratch for the token-major kernels, reused across calls (same shapes every step).
const scratch = new Map<string, Float32Array>();
function scratchOf(name: string, n: number): Float32Array {
  let a = scratch.get(name);
  if (!a || a.length < n) scratch.set(name, (a = new Float32Array(n)));
  return a.subarray(0, n);
}

/** Token-major buffers → channel-major copies (u, delta, z: [B,L,d] → [B,d,L]; B, C: [B,L,N] → [B,N,L]). */
function toChannelMajor(x: ScanBuffers, dims: ScanDims, tag: string): ScanBuffers {
  const { batch, dim, len, nState: N } = dims;
  const y: Record<string, Float32Array | undefined> = { A: x.A, D: x.D, deltaBias: x.deltaBias };
  for (const k of ['u', 'delta', 'z'] as const) {
    const v = x[k];
    if (v) swapLastAxes(v, (y[k] = scratchOf(tag + k, v.length)), batch, len, dim);
  }
  for (const k of ['B', 'C'] as const) swapLastAxes(x[k], (y[k] = scratchOf(tag + k, x[k].length)), batch, len, N);
  return y as unknown as ScanBuffers;
}

// Token-major: the SIMD kernel takes the layout itself; the JS loops get channel-major copies.
function forward(x: ScanBuffers, dims: ScanDims, a: SelectiveScanAttrs, out: Float32Array): void {
  if (!a.tokenMajor) return fusedScanForward(x, dims, a.deltaSoftplus, out);
  if (simdScanUsable(dims)) return fusedScanForward(x, dims, a.deltaSoftplus, out, true);
  const tmp = scratchOf('out', out.length);
  fusedScanForward(toChannelMajor(x, dims, 'f'), dims, a.deltaSoftplus, tmp);
  swapLastAxes(tmp, out, dims.batch, dims.dim, dims.len);
}

function backward(x: ScanBuffers, dims: ScanDims, a: SelectiveScanAttrs, dy: Float32Array, g: ScanBuffers): void {
  if (!a.tokenMajor) return fusedScanBackward(x, dims, a.deltaSoftplus, dy, g);
  if (simdScanUsable(dims)) return fusedScanBackward(x, dims, a.deltaSoftplus, dy, g, true);
  const { batch, dim, len, nState: N } = dims;
  const dyc = scratchOf('bdy', dy.length);
  swapLastAxes(dy, dyc, batch, len, dim);
  const gc: Record<string, Float32Array | undefined> = { A: g.A, D: g.D, deltaBias: g.deltaBias };
  for (const k of ['u', 'delta', 'z', 'B', 'C'] as const) {
    const v = g[k];
    if (v) gc[k] = scratchOf('g' + k, v.length);
  }
  fusedScanBackward(toChannelMajor(x, dims, 'b'), dims, a.deltaSoftplus, dyc, gc as unknown as ScanBuffers);
  for (const k of ['u', 'delta', 'z'] as const) if (g[k]) swapLastAxes(gc[k]!, g[k]!, batch, dim, len);
  for (const k of ['B', 'C'] as const) swapLastAxes(gc[k]!, g[k], batch, N, len);
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
  forward(buffers(ins, cpuRead(be)), scanDims(ins, a.tokenMajor), a, out);
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
  backward(buffers(rest, read), scanDims(rest, a.tokenMajor), a, read(dy), g as unknown as ScanBuffers);
  return shapes.map(([name, shape]) => be.makeTensorInfo(shape, 'float32', g[name]));
};

export const wasmForward: KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as unknown as WasmBackendLike;
  const a = attrs as unknown as SelectiveScanAttrs;
  const ins = namedInputs(inputs as unknown as Inputs, a);
  const out = be.makeOutput(ins.u.shape, 'float32');
  const read = (t: TensorInfo): Float32Array => be.typedArrayFromHeap(t);
  forward(buffers(ins, read), scanDims(ins, a.tokenMajor), a, read(out));
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
  backward(buffers(rest, read), scanDims(rest, a.tokenMajor), a, read(dy), g as unknown as ScanBuffers);
  return outs;
};
