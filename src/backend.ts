/**
 * The one place that chooses the TensorFlow.js backend. Everything else calls `initBackend()` (or
 * `tf()` after it) and never `tf.setBackend` directly.
 *
 * Order: an explicit option or `DMM_BACKEND`; otherwise `webgpu` when a WebGPU adapter exists,
 * then `tensorflow` when @tensorflow/tfjs-node(-gpu) is really installed, then `wasm`, then `cpu`.
 * docs/scan.md ("WebGPU in Node") says why `navigator.gpu` must exist before the WebGPU backend loads.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tfjs from '@tensorflow/tfjs';
import { check, nearest } from './util/check';

export const BACKENDS = ['webgpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

let chosen: BackendName | undefined;
let pending: Promise<BackendName> | undefined;

/** The tfjs namespace the kit uses (one engine shared by models, data and danfojs). */
export const tf = tfjs;

/**
 * Whether the Vulkan loader (libvulkan.so.1) is present. Dawn reaches every GPU through it on Linux;
 * without it Dawn prints a multi-line warning and finds nothing, so the probe is skipped instead.
 */
export function vulkanLoaderPresent(): boolean {
  if (process.platform !== 'linux') return true;
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    '/usr/lib/x86_64-linux-gnu',
    '/usr/lib/aarch64-linux-gnu',
    '/lib/x86_64-linux-gnu',
    '/lib/aarch64-linux-gnu',
    '/usr/lib64',
    '/usr/lib',
    '/usr/local/lib',
  ];
  return dirs.some((dir) => fs.existsSync(path.join(dir, 'libvulkan.so.1')));
}

/** Whether Dawn (the `webgpu` package) gives an adapter on this machine. Installs navigator.gpu when it does. */
export async function webgpuAdapterInfo(): Promise<{ available: boolean; description: string }> {
  const g = globalThis as unknown as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } };
  if (!g.navigator?.gpu && !vulkanLoaderPresent()) {
    return { available: false, description: 'Vulkan loader libvulkan.so.1 not found; see README, GPU' };
  }
  try {
    if (!g.navigator?.gpu) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const webgpu = require('webgpu') as { create(flags: string[]): unknown; globals: object };
      Object.assign(globalThis, webgpu.globals);
      (globalThis as unknown as { navigator: unknown }).navigator = { gpu: webgpu.create([]) };
    }
    type AdapterInfo = { vendor?: string; architecture?: string; description?: string };
    const adapter = (await g.navigator!.gpu!.requestAdapter()) as { info?: AdapterInfo } | null;
    if (!adapter) return { available: false, description: 'Dawn found no usable GPU' };
    const info = adapter.info ?? {};
    const words = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ');
    return { available: true, description: words || 'WebGPU adapter' };
  } catch (err) {
    return { available: false, description: `Dawn failed: ${(err as Error).message.split('\n')[0]}` };
  }
}

/** True when a real tfjs-node or tfjs-node-gpu is installed (danfojs' override maps tfjs-node to plain tfjs). */
export function tfjsNodeInstalled(): string | undefined {
  for (const name of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      const pkgPath = require.resolve(`${name}/package.json`);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const pkg = require(pkgPath) as { name: string };
      if (pkg.name === name) return name;
    } catch {
      // not installed
    }
  }
  return undefined;
}

async function activate(name: BackendName): Promise<void> {
  if (name === 'webgpu') {
    const info = await webgpuAdapterInfo();
    check(
      info.available,
      () =>
        `Error in initBackend: backend 'webgpu' needs a WebGPU adapter, got none (${info.description}). Use DMM_BACKEND=wasm, or see the README's GPU section.`,
    );
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@tensorflow/tfjs-backend-webgpu');
  } else if (name === 'wasm') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@tensorflow/tfjs-backend-wasm');
  } else if (name === 'tensorflow') {
    const pkg = tfjsNodeInstalled();
    check(
      pkg,
      () =>
        `Error in initBackend: backend 'tensorflow' needs @tensorflow/tfjs-node-gpu, which is not installed. Add it (network and CUDA 11.2 with cuDNN 8.1 needed) with: npm install --no-save --allow-scripts=@tensorflow/tfjs-node-gpu @tensorflow/tfjs-node-gpu@4.22.0`,
    );
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(pkg);
  }
  const ok = await tfjs.setBackend(name);
  check(ok, () => `Error in initBackend: tf.setBackend('${name}') failed. Try DMM_BACKEND=cpu.`);
  await tfjs.ready();
}

export interface BackendOptions {
  /** Force a backend; overrides DMM_BACKEND. */
  backend?: string;
  /** Print the choice (once per process). Default true. */
  log?: boolean;
}

/**
 * Chooses and activates the backend once per process and returns its name. Later calls return the
 * same choice; asking for a different backend afterwards is an error rather than a silent switch.
 */
export async function initBackend(options: BackendOptions = {}): Promise<BackendName> {
  const requested = options.backend ?? process.env.DMM_BACKEND ?? undefined;
  if (requested !== undefined && requested !== '') {
    check(
      (BACKENDS as readonly string[]).includes(requested),
      () =>
        `Error in initBackend: backend must be one of ${BACKENDS.join(', ')}, got '${requested}'. Did you mean '${nearest(requested, BACKENDS)}'?`,
    );
  }
  if (chosen) {
    check(
      !requested || requested === chosen,
      () =>
        `Error in initBackend: backend '${chosen}' is already active in this process, got a request for '${requested}'. Set DMM_BACKEND before the first use.`,
    );
    return chosen;
  }
  if (!pending) {
    pending = (async () => {
      let name: BackendName;
      if (requested) {
        name = requested as BackendName;
      } else if ((await webgpuAdapterInfo()).available) {
        name = 'webgpu';
      } else if (tfjsNodeInstalled()) {
        name = 'tensorflow';
      } else {
        name = 'wasm';
      }
      try {
        await activate(name);
      } catch (err) {
        if (requested) throw err;
        name = 'cpu';
        await activate(name);
      }
      chosen = name;
      // Published for modules that must not load tfjs themselves (figure captions name the backend).
      (globalThis as Record<symbol, unknown>)[Symbol.for('dmm-kit.backend')] = name;
      if (options.log !== false && !process.env.DMM_QUIET) console.error(`[dmm] tfjs backend: ${name}`);
      return name;
    })();
  }
  return pending;
}

/**
 * Makes `dataSync()` safe on these tensors. In Node the WebGPU backend's synchronous read needs an
 * OffscreenCanvas, which only browsers have; an awaited `data()` downloads the values and the backend keeps
 * them on the CPU, where a later `dataSync()` finds them. A no-op on the other backends (their reads are sync).
 */
export async function downloadForSyncRead(tensors: Iterable<tfjs.Tensor>): Promise<void> {
  if (chosen !== 'webgpu' && tfjs.getBackend() !== 'webgpu') return;
  await Promise.all([...tensors].map((t) => t.data()));
}

/**
 * Sum of same-shape tensors. WebGPU's AddN binds one storage buffer per input and Dawn allows 8 per shader
 * stage by default, so there it sums in groups of 7; elsewhere it is one tf.addN (same rounding as before).
 */
export function addMany<T extends tfjs.Tensor>(tensors: T[]): T {
  return (tfjs.getBackend() === 'webgpu' ? addInGroups(tensors, 7) : tfjs.addN(tensors)) as T;
}

/** Sum of same-shape tensors by tf.addN over groups of at most `group`, level by level. */
export function addInGroups(tensors: tfjs.Tensor[], group: number): tfjs.Tensor {
  check(
    tensors.length > 0 && Number.isInteger(group) && group >= 2,
    () =>
      `Error in addInGroups: needs at least one tensor and a group of 2 or more, got ${tensors.length} and ${group}.`,
  );
  return tfjs.tidy(() => {
    let level = tensors;
    while (level.length > 1) {
      const next: tfjs.Tensor[] = [];
      for (let i = 0; i < level.length; i += group) next.push(tfjs.addN(level.slice(i, i + group)));
      level = next;
    }
    return level[0].clone();
  });
}

/** The active backend; throws if `initBackend` has not run. */
export function backendName(): BackendName {
  check(chosen, () => 'Error in backendName: no backend chosen yet. Call `await initBackend()` first.');
  return chosen;
}
