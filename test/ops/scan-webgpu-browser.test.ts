/**
 * The WGSL scan kernels in headless Chromium's emulated WebGPU adapter (SwiftShader), against the float64
 * reference, with every written buffer poisoned with NaN first. Small shapes: SwiftShader is slow.
 * Skips (with the reason) only when no Chromium binary is installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { runInChromium } from '../../tools/webgpu/harness';
import type { BrowserCase } from '../../tools/webgpu/entry';

const TOL = 1e-4;
const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';

const CASES: BrowserCase[] = [
  { path: 'fused', dims: { batch: 2, dim: 5, len: 7, nState: 16 }, seed: 1, opts: {} },
  { path: 'fused', dims: { batch: 2, dim: 3, len: 1, nState: 16 }, seed: 2, opts: {} },
  // 3 channel groups (the last one partial) and 3 checkpoint segments of 64 steps.
  { path: 'fused', dims: { batch: 3, dim: 20, len: 150, nState: 16 }, seed: 3, opts: {} },
  {
    path: 'fused',
    dims: { batch: 2, dim: 4, len: 24, nState: 16 },
    seed: 4,
    opts: { D: false, z: false, deltaBias: false },
  },
  { path: 'fused', dims: { batch: 2, dim: 3, len: 9, nState: 4 }, seed: 5, opts: { deltaSoftplus: false, z: false } },
  { path: 'fused', dims: { batch: 1, dim: 2, len: 3000, nState: 16 }, seed: 6, opts: {} },
  { path: 'composite', dims: { batch: 2, dim: 3, len: 24, nState: 16 }, seed: 7, opts: {} },
];

test(
  'WGSL scan kernels in Chromium (SwiftShader) match the float64 reference',
  { skip: existsSync(chromium) ? false : `no chromium at ${chromium}` },
  async () => {
    const r = await runInChromium(CASES, chromium);
    assert.equal(r.backend, 'webgpu');
    assert.equal(r.defaultPath, 'fused');
    assert.equal(r.results.length, CASES.length);
    const bad: string[] = [];
    for (const c of r.results) {
      for (const [name, e] of Object.entries(c.errors)) {
        if (!(typeof e === 'number' && e < TOL))
          bad.push(`${c.path} ${JSON.stringify(c.dims)} ${JSON.stringify(c.opts)}: ${name} relative error ${e}`);
      }
    }
    assert.deepEqual(bad, [], `adapter ${r.adapter}\n${r.logs.join('\n')}`);
  },
);
