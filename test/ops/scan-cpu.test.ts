/** The scan op on the `cpu` backend: fused kernel, composite and reference paths vs the float64 reference. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../src/backend';
import { scanPath } from '../../src/ops/scan';
import { CHECK_SHAPES, pathErrors } from '../helpers/scan-check';

const TOL = 1e-4;

test('cpu backend: the op picks the fused kernel', async () => {
  await initBackend({ backend: 'cpu', log: false });
  if (!process.env.DMM_SCAN) assert.equal(scanPath(), 'fused');
});

for (const path of ['fused', 'composite', 'reference'] as const) {
  CHECK_SHAPES.forEach(({ dims, opts }, k) => {
    test(`cpu ${path}: B=${dims.batch} d=${dims.dim} L=${dims.len} N=${dims.nState} ${JSON.stringify(opts)}`, async () => {
      await initBackend({ backend: 'cpu', log: false });
      const errs = await pathErrors(path, dims, 100 + k, opts);
      for (const [name, e] of Object.entries(errs)) assert.ok(e < TOL, `${name}: relative error ${e}`);
    });
  });
}
