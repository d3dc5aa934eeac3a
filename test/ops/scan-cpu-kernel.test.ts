/** The fused typed-array loops themselves, with NaN-poisoned outputs so an unwritten element fails. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fastExp, fusedScanBackward, fusedScanForward, type ScanBuffers } from '../../src/ops/scan/cpu';
import { SCAN_INPUT_NAMES } from '../../src/ops/scan/kernel-names';
import { scanBackwardReference, scanForwardReference } from '../../src/ops/scan/reference';
import { CHECK_SHAPES } from '../helpers/scan-check';
import { randomScanCase, relError } from '../helpers/scan-inputs';

CHECK_SHAPES.forEach(({ dims, opts }, k) => {
  test(`fused CPU loops, poisoned outputs: ${JSON.stringify(dims)} ${JSON.stringify(opts)}`, () => {
    const c = randomScanCase(dims, 500 + k, opts);
    const x: Record<string, Float32Array> = {};
    for (const n of SCAN_INPUT_NAMES) if (c.x[n]) x[n] = Float32Array.from(c.x[n] as Float64Array);
    const out = new Float32Array(c.G.length).fill(NaN);
    fusedScanForward(x as unknown as ScanBuffers, dims, c.deltaSoftplus, out);
    assert.ok(relError(out, scanForwardReference(c.x, dims, c.deltaSoftplus)) < 1e-5, 'forward');
    const g: Record<string, Float32Array> = {};
    for (const n of Object.keys(x)) g[n] = new Float32Array(x[n].length).fill(NaN);
    fusedScanBackward(
      x as unknown as ScanBuffers,
      dims,
      c.deltaSoftplus,
      Float32Array.from(c.G),
      g as unknown as ScanBuffers,
    );
    const ref = scanBackwardReference(c.x, dims, c.G, c.deltaSoftplus);
    for (const n of Object.keys(x)) {
      const e = relError(g[n], ref[n as keyof typeof ref]!);
      assert.ok(e < 1e-5, `d${n}: relative error ${e}`);
    }
  });
});

test('fastExp: relative error under 1e-12 over the normal range, and the edges', () => {
  let worst = 0;
  for (let x = -700; x <= 700; x += 0.0137) worst = Math.max(worst, Math.abs(fastExp(x) / Math.exp(x) - 1));
  assert.ok(worst < 1e-12, `worst relative error ${worst}`);
  // Below about −708 results are subnormal and carry fewer bits; absolutely they are still ~0.
  for (let x = -745; x < -700; x += 0.37) assert.ok(Math.abs(fastExp(x) - Math.exp(x)) < 1e-300);
  assert.equal(fastExp(0), 1);
  assert.equal(fastExp(-1e6), Math.exp(-745) === 0 ? 0 : fastExp(-745));
  assert.equal(fastExp(1e6), fastExp(709.7));
  assert.ok(Number.isNaN(fastExp(NaN)));
});
