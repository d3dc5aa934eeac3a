/** The fused typed-array loops themselves, with NaN-poisoned outputs so an unwritten element fails. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fusedScanBackward, fusedScanForward, type ScanBuffers } from '../../src/ops/scan/cpu';
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
