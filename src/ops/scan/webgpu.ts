/**
 * The selective-scan kernels of tfjs-backend-webgpu (WGSL in webgpu-shaders.ts).
 *
 * Why not `backend.runWebGPUProgram`: it binds one output and read-only inputs, and tfjs asks the
 * device for the default limit of 8 storage buffers per shader. The backward pass has eight outputs,
 * so this file records its dispatches itself, the same way runWebGPUProgram does (the backend's
 * command encoder and compute pass, its pipeline cache keyed by a shader key, its uniform buffers,
 * its deferred disposal), with several writable bindings. Small inputs are packed by buffer copies
 * (P = [A | D | β], BC = [B | C]) to stay within 8 storage bindings per shader.
 *
 * Nothing here imports tfjs-backend-webgpu: the backend must load after navigator.gpu exists
 * (docs/scan.md, "WebGPU in Node"), and the registry only needs the backend's name.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { namedInputs, presentInputs, type SelectiveScanAttrs } from './kernel-names';
import {
  backwardMainShader,
  backwardReduceShader,
  forwardShader,
  scanTiling,
  UNIFORM_FIELDS,
  type ScanShaderSpec,
  type ScanUniforms,
} from './webgpu-shaders';

/* Minimal structural types of the WebGPU objects used (the project compiles without DOM/WebGPU lib types). */
interface GpuBuffer {
  size: number;
}
interface GpuPass {
  setPipeline(p: unknown): void;
  setBindGroup(i: number, g: unknown): void;
  dispatchWorkgroups(x: number, y: number, z: number): void;
  end(): void;
}
interface GpuEncoder {
  beginComputePass(d: object): GpuPass;
  copyBufferToBuffer(src: GpuBuffer, so: number, dst: GpuBuffer, dOff: number, size: number): void;
  clearBuffer(b: GpuBuffer, offset: number, size: number): void;
}
interface GpuDevice {
  createShaderModule(d: { code: string }): unknown;
  createComputePipeline(d: object): { getBindGroupLayout(i: number): unknown };
  createBindGroup(d: object): unknown;
  queue: { writeBuffer(b: GpuBuffer, offset: number, data: ArrayBufferView): void };
}
interface WebGpuBackendLike {
  device: GpuDevice;
  tensorMap: { get(dataId: object): { resource: GpuBuffer | null } };
  pipelineCache: Record<string, unknown>;
  commandEncoder: GpuEncoder | null;
  computePassEncoder: GpuPass | null;
  dispatchCountInPass: number;
  commandQueueOwnedIds: WeakSet<object>;
  makeTensorInfo(shape: number[], dtype: 'float32'): TensorInfo;
  uploadToGPU(dataId: object): void;
  disposeData(dataId: object, force?: boolean): boolean;
  makeUniforms(u: { type: 'uint32'; data: number[] }[]): unknown;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

let poison = false;
let block = 8;
/** Benchmarks: the block length T of the WGSL kernels (default 8). */
export function setScanBlock(t: number): void {
  block = t;
}

/** Tests: fill every buffer a scan shader writes with NaN before it runs, so an unwritten element shows. */
export function setScanPoison(on: boolean): void {
  poison = on;
}

function bufferOf(be: WebGpuBackendLike, t: TensorInfo): GpuBuffer {
  be.uploadToGPU(t.dataId);
  return be.tensorMap.get(t.dataId).resource!;
}

function temp(be: WebGpuBackendLike, size: number): TensorInfo {
  const t = be.makeTensorInfo([Math.max(1, size)], 'float32');
  be.uploadToGPU(t.dataId);
  return t;
}

/** Workgroup grid for `count` workgroups within the 65,535-per-dimension limit. */
export function dispatchGrid(count: number): [number, number, number] {
  if (count <= 65535) return [Math.max(1, count), 1, 1];
  const y = Math.ceil(count / 65535);
  return [Math.ceil(count / y), y, 1];
}

/** Records one dispatch; `writes` lists the bindings the shader writes. */
function dispatch(
  be: WebGpuBackendLike,
  key: string,
  code: () => string,
  bindings: TensorInfo[],
  writes: number[],
  uniforms: ScanUniforms,
  workgroups: number,
): void {
  const device = be.device;
  let pipeline = be.pipelineCache[key] as { getBindGroupLayout(i: number): unknown } | undefined;
  if (!pipeline) {
    pipeline = device.createComputePipeline({
      layout: 'auto',
      compute: { module: device.createShaderModule({ code: code() }), entryPoint: 'main' },
    });
    be.pipelineCache[key] = pipeline;
  }
  const buffers = bindings.map((t) => bufferOf(be, t));
  if (poison) {
    for (const k of writes) device.queue.writeBuffer(buffers[k], 0, new Float32Array(buffers[k].size / 4).fill(NaN));
  }
  const uniformBinding = be.makeUniforms(UNIFORM_FIELDS.map((f) => ({ type: 'uint32' as const, data: [uniforms[f]] })));
  const entries = buffers.map((buffer, i) => ({ binding: i, resource: { buffer } }));
  entries.push({ binding: buffers.length, resource: uniformBinding as { buffer: GpuBuffer } });
  const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
  for (const t of bindings) be.commandQueueOwnedIds.add(t.dataId);
  be.ensureCommandEncoderReady();
  if (!be.computePassEncoder) be.computePassEncoder = be.commandEncoder!.beginComputePass({});
  be.computePassEncoder.setPipeline(pipeline);
  be.computePassEncoder.setBindGroup(0, bindGroup);
  const [x, y, z] = dispatchGrid(workgroups);
  be.computePassEncoder.dispatchWorkgroups(x, y, z);
  be.dispatchCountInPass++;
  if (tf.env().getNumber('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') <= be.dispatchCountInPass) {
    be.endComputePassEncoder();
    be.submitQueue();
  }
}

/** Packs tensors (or zeros for absent ones) end to end into a fresh buffer by buffer copies. */
function pack(be: WebGpuBackendLike, parts: { t?: TensorInfo; size: number }[]): TensorInfo {
  const total = parts.reduce((s, p) => s + p.size, 0);
  const out = temp(be, total);
  const dst = bufferOf(be, out);
  const srcs = parts.map((p) => (p.t ? bufferOf(be, p.t) : undefined));
  be.endComputePassEncoder();
  be.ensureCommandEncoderReady();
  let offset = 0;
  parts.forEach((p, k) => {
    if (p.size > 0) {
      const src = srcs[k];
      if (src) be.commandEncoder!.copyBufferToBuffer(src, 0, dst, offset * 4, p.size * 4);
      else be.commandEncoder!.clearBuffer(dst, offset * 4, p.size * 4);
      if (p.t) be.commandQueueOwnedIds.add(p.t.dataId);
    }
    offset += p.size;
  });
  be.commandQueueOwnedIds.add(out.dataId);
  return out;
}

interface Prepared {
  be: WebGpuBackendLike;
  x: Record<string, TensorInfo>;
  spec: ScanShaderSpec;
  key: string;
  P: TensorInfo;
  BC: TensorInfo;
  U: ScanUniforms;
  workgroups: number;
}

function prepare(backend: unknown, inputs: unknown, attrs: SelectiveScanAttrs): Prepared {
  const be = backend as WebGpuBackendLike;
  const x = namedInputs(inputs as Record<string, TensorInfo>, attrs);
  const [batch, dim, len] = x.u.shape;
  const N = x.A.shape[1];
  const spec: ScanShaderSpec = { N, block, hasZ: attrs.hasZ, deltaSoftplus: attrs.deltaSoftplus };
  const { T, CH, SB } = scanTiling(N, block);
  const groups = Math.ceil(dim / CH);
  const nBlk = Math.ceil(len / T);
  const nSeg = Math.ceil(nBlk / SB);
  const P = pack(be, [
    { t: x.A, size: dim * N },
    { t: x.D, size: dim },
    { t: x.deltaBias, size: dim },
  ]);
  const BC = pack(be, [
    { t: x.B, size: batch * N * len },
    { t: x.C, size: batch * N * len },
  ]);
  const bnl = batch * N * len;
  const partBC = batch * groups * N * len;
  const U: ScanUniforms = {
    batch,
    dim,
    len,
    groups,
    nwg: batch * groups,
    nBlk,
    nSeg,
    offD: dim * N,
    offBias: dim * N + dim,
    offC: bnl,
    offCk: batch * dim * len,
    offDB: 0,
    offDC: partBC,
    offDA: 2 * partBC,
    offDD: 2 * partBC + batch * dim * N,
    offDBias: 2 * partBC + batch * dim * N + batch * dim,
    total: 0,
  };
  const key = `dmmScan_N${N}_T${T}_z${+attrs.hasZ}_sp${+attrs.deltaSoftplus}`;
  return { be, x, spec, key, P, BC, U, workgroups: batch * groups };
}

export const webgpuForward: KernelFunc = ({ inputs, backend, attrs }) => {
  const p = prepare(backend, inputs, attrs as unknown as SelectiveScanAttrs);
  const { be, x, spec } = p;
  const out = be.makeTensorInfo(x.u.shape, 'float32');
  const bindings = [out, x.u, x.delta, p.BC, p.P];
  if (spec.hasZ) bindings.push(x.z);
  dispatch(be, `${p.key}_fwd`, () => forwardShader(spec, 'fwd'), bindings, [0], p.U, p.workgroups);
  be.disposeData(p.P.dataId);
  be.disposeData(p.BC.dataId);
  return out;
};

export const webgpuBackward: KernelFunc = ({ inputs, backend, attrs }) => {
  const a = attrs as unknown as SelectiveScanAttrs;
  const { dy, ...rest } = inputs as unknown as Record<string, TensorInfo>;
  const p = prepare(backend, rest, a);
  const { be, x, spec, U } = p;
  const [batch, dim, len] = x.u.shape;
  const N = x.A.shape[1];
  const f32 = (shape: number[]): TensorInfo => be.makeTensorInfo(shape, 'float32');
  // pre: ∂z, ∂o and checkpoints
  const ws1 = temp(be, batch * dim * len + batch * dim * U.nSeg * N);
  const dz = spec.hasZ ? f32(x.u.shape) : undefined;
  const preBindings = [ws1, x.u, x.delta, p.BC, p.P, dy];
  if (spec.hasZ) preBindings.push(x.z, dz!);
  dispatch(
    be,
    `${p.key}_pre`,
    () => forwardShader(spec, 'pre'),
    preBindings,
    spec.hasZ ? [0, 7] : [0],
    U,
    p.workgroups,
  );
  // main: ∂u, ∂δ and partial sums
  const du = f32(x.u.shape);
  const ddelta = f32(x.u.shape);
  const ws2 = temp(be, U.offDBias + batch * dim);
  dispatch(
    be,
    `${p.key}_main`,
    () => backwardMainShader(spec),
    [du, ddelta, ws2, x.u, x.delta, p.BC, p.P, ws1],
    [0, 1, 2],
    U,
    p.workgroups,
  );
  // reduce: ∂B, ∂C, ∂A, ∂D, ∂β
  const dB = f32(x.B.shape);
  const dC = f32(x.C.shape);
  const dA = f32(x.A.shape);
  const dD = f32([dim]);
  const dBias = f32([dim]);
  const total = 2 * batch * N * len + dim * N + 2 * dim;
  dispatch(
    be,
    `${p.key}_reduce`,
    () => backwardReduceShader(spec),
    [dB, dC, dA, dD, dBias, ws2],
    [0, 1, 2, 3, 4],
    { ...U, total },
    Math.ceil(total / 256),
  );
  for (const t of [p.P, p.BC, ws1, ws2]) be.disposeData(t.dataId);
  const grads: Record<string, TensorInfo | undefined> = {
    u: du,
    delta: ddelta,
    A: dA,
    B: dB,
    C: dC,
    D: dD,
    z: dz,
    deltaBias: dBias,
  };
  if (!a.hasD) be.disposeData(dD.dataId);
  if (!a.hasDeltaBias) be.disposeData(dBias.dataId);
  return presentInputs(a).map((name) => grads[name]!);
};
