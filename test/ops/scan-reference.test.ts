/** The float64 reference against central finite differences (docs/spec.md §4: max abs error < 1e-8). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scanBackwardReference, scanForwardReference, type ScanArrays } from '../../src/ops/scan/reference';
import { randomScanCase, type CaseOptions } from '../helpers/scan-inputs';

const KEYS = ['u', 'delta', 'A', 'B', 'C', 'D', 'z', 'deltaBias'] as const;

function checkFiniteDifferences(
  dims: { batch: number; dim: number; len: number; nState: number },
  seed: number,
  opts: CaseOptions,
): void {
  const c = randomScanCase(dims, seed, opts);
  const loss = (x: ScanArrays): number => {
    const out = scanForwardReference(x, dims, c.deltaSoftplus);
    let s = 0;
    for (let i = 0; i < out.length; i++) s += out[i] * c.G[i];
    return s;
  };
  const grads = scanBackwardReference(c.x, dims, c.G, c.deltaSoftplus);
  const eps = 1e-6;
  for (const key of KEYS) {
    const arr = c.x[key] as Float64Array | undefined;
    const g = grads[key];
    assert.equal(arr === undefined, g === undefined, `gradient presence of ${key}`);
    if (!arr || !g) continue;
    let maxErr = 0;
    for (let i = 0; i < arr.length; i++) {
      const keep = arr[i];
      arr[i] = keep + eps;
      const lp = loss(c.x);
      arr[i] = keep - eps;
      const lm = loss(c.x);
      arr[i] = keep;
      maxErr = Math.max(maxErr, Math.abs((lp - lm) / (2 * eps) - g[i]));
    }
    assert.ok(maxErr < 1e-7, `d${key}: max abs error ${maxErr} vs finite differences`);
  }
}

test('reference backward equals central finite differences (all inputs)', () => {
  checkFiniteDifferences({ batch: 2, dim: 3, len: 5, nState: 4 }, 11, {});
});

test('reference backward, L=1 and no optional inputs', () => {
  checkFiniteDifferences({ batch: 2, dim: 2, len: 1, nState: 3 }, 12, {
    D: false,
    z: false,
    deltaBias: false,
  });
});

test('reference backward without softplus, with D only', () => {
  checkFiniteDifferences({ batch: 1, dim: 2, len: 4, nState: 2 }, 13, {
    z: false,
    deltaBias: false,
    deltaSoftplus: false,
  });
});

test('reference forward: softplus threshold and a hand-computed step', () => {
  // One channel, one state: h0 = Δ·B·u, out = (h0·C + D·u)·SiLU(z).
  const dims = { batch: 1, dim: 1, len: 1, nState: 1 };
  const x = {
    u: [2],
    delta: [21],
    A: [-1],
    B: [3],
    C: [0.5],
    D: [0.25],
    z: [1],
    deltaBias: [0],
  };
  const out = scanForwardReference(x, dims)[0];
  const silu = 1 / (1 + Math.exp(-1));
  assert.ok(Math.abs(out - (21 * 3 * 2 * 0.5 + 0.5) * silu) < 1e-12, `got ${out}`);
});
