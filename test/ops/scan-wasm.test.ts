/** The scan op on the `wasm` backend: fused kernel, composite and reference paths vs the float64 reference. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../src/backend';
import { scanPath } from '../../src/ops/scan';
import { CHECK_SHAPES, pathErrors } from '../helpers/scan-check';

const TOL = 1e-4;

test('wasm backend: the op picks the fused kernel', async () => {
  await initBackend({ backend: 'wasm', log: false });
  if (!process.env.DMM_SCAN) assert.equal(scanPath(), 'fused');
});

// composite and reference run the same tfjs code as on cpu; here the wasm kernel and composite.
for (const path of ['fused', 'composite'] as const) {
  CHECK_SHAPES.forEach(({ dims, opts }, k) => {
    test(`wasm ${path}: B=${dims.batch} d=${dims.dim} L=${dims.len} N=${dims.nState} ${JSON.stringify(opts)}`, async () => {
      await initBackend({ backend: 'wasm', log: false });
      const errs = await pathErrors(path, dims, 100 + k, opts);
      for (const [name, e] of Object.entries(errs)) assert.ok(e < TOL, `${name}: relative error ${e}`);
    });
  });
}
