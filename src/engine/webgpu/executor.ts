/**
 * The WebGPU executor: the arena is one storage buffer and the control words a second; every launch's WGSL
 * is compiled once into a pipeline, all sharing one bind group. A run encodes every dispatch of the program
 * into one compute pass of one command buffer and submits it; nothing is read back unless asked. WebGPU
 * orders the dispatches of a pass, so each sees the writes of the ones before it.
 *
 * Runs in Node through Dawn (the `webgpu` package, on a GPU host) and in a browser (navigator.gpu), which is
 * how CI checks it: headless Chromium's SwiftShader adapter (tools/webgpu).
 *
 * Only the slice of the WebGPU API used here is typed (the kit compiles without the DOM library).
 */
import { check } from '../../util/check';
import type { Executor } from '../executor';
import { maxPackedRuns, packShader, packing, type Packing } from '../pack';
import type { Program, Region } from '../program';

/* eslint-disable @typescript-eslint/no-explicit-any -- WebGPU objects are typed structurally below */
interface GpuBuffer {
  mapAsync(mode: number): Promise<void>;
  getMappedRange(): ArrayBuffer;
  unmap(): void;
  destroy(): void;
}
interface GpuPass {
  setPipeline(p: unknown): void;
  setBindGroup(i: number, g: unknown): void;
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
  end(): void;
}
interface GpuEncoder {
  beginComputePass(): GpuPass;
  copyBufferToBuffer(src: GpuBuffer, so: number, dst: GpuBuffer, d: number, size: number): void;
  finish(): unknown;
}
export interface GpuDevice {
  limits: Record<string, number>;
  queue: {
    writeBuffer(b: GpuBuffer, offset: number, data: ArrayBufferView): void;
    submit(c: unknown[]): void;
    onSubmittedWorkDone(): Promise<void>;
  };
  createBuffer(d: { size: number; usage: number }): GpuBuffer;
  createShaderModule(d: { code: string }): any;
  createComputePipelineAsync(d: any): Promise<unknown>;
  createBindGroupLayout(d: any): unknown;
  createPipelineLayout(d: any): unknown;
  createBindGroup(d: any): unknown;
  createCommandEncoder(): GpuEncoder;
  destroy(): void;
}
interface GpuAdapter {
  limits: Record<string, number>;
  info?: { vendor?: string; architecture?: string; description?: string };
  requestDevice(d?: any): Promise<GpuDevice>;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

const STORAGE = 0x80;
const COPY_SRC = 0x04;
const COPY_DST = 0x08;
const MAP_READ = 0x01;
const COMPUTE = 0x4;
const MAP_MODE_READ = 0x1;

/**
 * A device for programs of up to `bytes` per buffer: navigator.gpu where it exists (browsers; Node after
 * src/backend.ts installed Dawn), else Dawn from the `webgpu` package. Asks only for the limits it needs
 * (asking for the adapter's maxBufferSize aborted Dawn on the GPU host).
 */
/**
 * The storage-binding size packs are planned against: Dawn's maxStorageBufferBindingSize on the H200 host
 * (2 GiB − 4 bytes). An adapter with less refuses a larger pack with one line naming the runs that fit.
 */
export const GPU_BINDING_BYTES = 2 ** 31 - 4;

export async function requestEngineDevice(
  bytes: number,
  hint: (limit: number) => string = () => '',
): Promise<{ device: GpuDevice; adapter: string }> {
  const g = globalThis as unknown as { navigator?: { gpu?: { requestAdapter(): Promise<GpuAdapter | null> } } };
  if (!g.navigator?.gpu) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const webgpu = require('webgpu') as { create(flags: string[]): unknown; globals: object };
    Object.assign(globalThis, webgpu.globals);
    (globalThis as unknown as { navigator: unknown }).navigator = { gpu: webgpu.create([]) };
  }
  const adapter = await g.navigator!.gpu!.requestAdapter();
  check(
    adapter !== null,
    () => 'Error in requestEngineDevice: a WebGPU adapter must exist, got none. Use --engine-backend cpu.',
  );
  const need = Math.max(bytes, 1 << 20);
  const limits: Record<string, number> = {};
  for (const key of ['maxStorageBufferBindingSize', 'maxBufferSize']) {
    check(
      adapter!.limits[key] >= need,
      () =>
        `Error in requestEngineDevice: the adapter's ${key} must be at least ${need} bytes, got ${adapter!.limits[key]}${hint(adapter!.limits[key])}.`,
    );
    if (need > 128 * 2 ** 20) limits[key] = need;
  }
  const device = await adapter!.requestDevice({ requiredLimits: limits });
  const info = adapter!.info ?? {};
  const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'WebGPU adapter';
  return { device, adapter: name };
}

interface Dispatch {
  pipeline: unknown;
  workgroups: [number, number, number];
  label: string;
}

export class WebGpuExecutor implements Executor {
  readonly kind = 'webgpu' as const;
  private readonly arena: GpuBuffer;
  private readonly ctlBuffer: GpuBuffer;
  private bindGroup: unknown;
  private dispatches: Dispatch[] = [];
  /** Completion promises of submitted runs, oldest first (see settle). */
  private readonly inFlight: Promise<void>[] = [];
  private runsSinceFence = 0;

  private constructor(
    readonly program: Program,
    readonly device: GpuDevice,
    readonly adapter: string,
    readonly packing: Packing,
  ) {
    const usage = STORAGE | COPY_SRC | COPY_DST;
    this.arena = device.createBuffer({ size: Math.max(16, packing.runs * packing.stride * 4), usage });
    this.ctlBuffer = device.createBuffer({ size: Math.max(16, packing.runs * packing.ctlStride * 4), usage });
  }

  /** Compiles every launch (pipelines in parallel; identical shaders once), for `runs` packed runs. */
  static async create(
    program: Program,
    dev?: { device: GpuDevice; adapter: string },
    runs = 1,
  ): Promise<WebGpuExecutor> {
    const p = packing(program, runs);
    const { device, adapter } =
      dev ??
      (await requestEngineDevice(p.runs * p.stride * 4, (limit) =>
        p.runs > 1 ? `; pack at most ${maxPackedRuns(program, limit)} runs of this program` : '',
      ));
    const ex = new WebGpuExecutor(program, device, adapter, p);
    const entries = [0, 1].map((binding) => ({ binding, visibility: COMPUTE, buffer: { type: 'storage' } }));
    const layout = device.createBindGroupLayout({ entries });
    const pipelineLayout = device.createPipelineLayout({ bindGroupLayouts: [layout] });
    ex.bindGroup = device.createBindGroup({
      layout,
      entries: [
        { binding: 0, resource: { buffer: ex.arena } },
        { binding: 1, resource: { buffer: ex.ctlBuffer } },
      ],
    });
    const pipelines = new Map<string, Promise<unknown>>();
    const pending: { code: string; workgroups: [number, number, number]; label: string }[] = [];
    for (const l of program.launches)
      for (const d0 of l.kernel.wgsl(l.spec, { runs: p.runs })) {
        const [x, y, z] = d0.workgroups;
        const d = { code: packShader(d0.code, z, p), workgroups: [x, y, z * p.runs] as [number, number, number] };
        if (d.workgroups[2] > 65535)
          throw new Error(
            `Error in WebGpuExecutor: ${l.label} needs ${d.workgroups[2]} workgroups in z; pack fewer runs.`,
          );
        pending.push({ ...d, label: l.label });
        if (!pipelines.has(d.code)) {
          const module = device.createShaderModule({ code: d.code });
          pipelines.set(
            d.code,
            device
              .createComputePipelineAsync({ layout: pipelineLayout, compute: { module, entryPoint: 'main' } })
              .catch((err: Error) => {
                throw new Error(
                  `Error in WebGpuExecutor: launch ${l.label} (${l.kernel.name}) does not compile: ${err.message}`,
                );
              }),
          );
        }
      }
    const built = new Map<string, unknown>();
    for (const [code, p] of pipelines) built.set(code, await p);
    ex.dispatches = pending.map((d) => ({ pipeline: built.get(d.code), workgroups: d.workgroups, label: d.label }));
    return ex;
  }

  get dispatchCount(): number {
    return this.dispatches.length;
  }

  /** The launch label of each dispatch, in order. */
  get dispatchLabels(): string[] {
    return this.dispatches.map((d) => d.label);
  }

  /** The workgroup grid of dispatch i (packed runs included). */
  dispatchGrid(i: number): [number, number, number] {
    return [...this.dispatches[i].workgroups];
  }

  /** Submits dispatch i `times` times in one pass (kernel profiles: bench/engine.ts --profile). */
  runRepeated(i: number, times: number): void {
    const encoder = this.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setBindGroup(0, this.bindGroup);
    const d = this.dispatches[i];
    pass.setPipeline(d.pipeline);
    for (let r = 0; r < times; r++) pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
    pass.end();
    this.device.queue.submit([encoder.finish()]);
  }

  write(region: Region, data: ArrayLike<number>, ctl = false, run = 0): void {
    check(
      data.length === region.size,
      () => `Error in WebGpuExecutor.write: '${region.name}' takes ${region.size} values, got ${data.length}.`,
    );
    const view = ctl ? Uint32Array.from(data) : data instanceof Float32Array ? data : Float32Array.from(data);
    const offset = region.offset + run * (ctl ? this.packing.ctlStride : this.packing.stride);
    this.device.queue.writeBuffer(ctl ? this.ctlBuffer : this.arena, offset * 4, view);
  }

  /** Encodes the dispatches [from, to) (default all) into one pass and submits them. */
  run(from = 0, to = this.dispatches.length): void {
    const encoder = this.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setBindGroup(0, this.bindGroup);
    for (let i = from; i < to; i++) {
      const d = this.dispatches[i];
      pass.setPipeline(d.pipeline);
      pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
    }
    pass.end();
    this.device.queue.submit([encoder.finish()]);
    if (++this.runsSinceFence >= 4) {
      this.runsSinceFence = 0;
      this.inFlight.push(this.device.queue.onSubmittedWorkDone());
    }
  }

  /** Keeps at most ~12 runs queued ahead of the GPU: awaits the oldest fence when more are pending. */
  async settle(): Promise<void> {
    while (this.inFlight.length > 3) await this.inFlight.shift();
  }

  /** Mappable staging buffers by size, reused: the evaluator reads the same region every environment step. */
  private readonly staging = new Map<number, GpuBuffer[]>();

  async read(region: Region, run = 0): Promise<Float32Array> {
    return (await this.readRuns(region, [run]))[0];
  }

  async readRuns(region: Region, runs: readonly number[]): Promise<Float32Array[]> {
    const each = Math.ceil((region.size * 4) / 256) * 256; // copy offsets must be multiples of 4; 256 keeps rows aligned
    const bytes = Math.max(16, each * runs.length);
    const free = this.staging.get(bytes) ?? [];
    this.staging.set(bytes, free);
    const staging = free.pop() ?? this.device.createBuffer({ size: bytes, usage: MAP_READ | COPY_DST });
    const encoder = this.device.createCommandEncoder();
    runs.forEach((run, i) => {
      const offset = region.offset + run * this.packing.stride;
      encoder.copyBufferToBuffer(this.arena, offset * 4, staging, i * each, region.size * 4);
    });
    this.device.queue.submit([encoder.finish()]);
    await staging.mapAsync(MAP_MODE_READ);
    const mapped = staging.getMappedRange();
    const out = runs.map((_, i) => new Float32Array(mapped.slice(i * each, i * each + region.size * 4)));
    staging.unmap();
    free.push(staging);
    return out;
  }

  async finish(): Promise<void> {
    await this.device.queue.onSubmittedWorkDone();
    this.inFlight.length = 0;
  }

  dispose(): void {
    this.arena.destroy();
    this.ctlBuffer.destroy();
    for (const list of this.staging.values()) for (const b of list) b.destroy();
    this.staging.clear();
  }
}
