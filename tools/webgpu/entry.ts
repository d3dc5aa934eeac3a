/**
 * Browser entry of the WebGPU scan check (bundled by harness.ts with esbuild, platform browser): tfjs,
 * tfjs-backend-webgpu (which registers itself because navigator.gpu exists in the page) and the scan op.
 * Exposes `scanCheck(cases)`, which runs each case through `pathErrors` with poisoned outputs.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { setScanPoison } from '../../src/ops/scan/webgpu';
import { scanPath, type ScanPath } from '../../src/ops/scan';
import { pathErrors } from '../../test/helpers/scan-check';
import type { ScanDims } from '../../src/ops/scan/reference';
import type { CaseOptions } from '../../test/helpers/scan-inputs';

export interface BrowserCase {
  path: ScanPath;
  dims: ScanDims;
  seed: number;
  opts: CaseOptions;
}

(globalThis as unknown as Record<string, unknown>).scanCheck = async (cases: BrowserCase[]) => {
  await tf.setBackend('webgpu');
  await tf.ready();
  setScanPoison(true);
  const results = [];
  for (const c of cases) {
    const t0 = performance.now();
    const errors = await pathErrors(c.path, c.dims, c.seed, c.opts);
    results.push({ ...c, errors, ms: performance.now() - t0 });
  }
  return { backend: tf.getBackend(), defaultPath: scanPath(), results };
};
