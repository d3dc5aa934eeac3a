/**
 * The WebAssembly SIMD selective scan (src/ops/scan/simd*.ts) against the float64 reference on fresh random
 * inputs, outputs poisoned with NaN first; its vector softplus/σ against Math; the fallback to the JS loops.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ScanBuffers } from '../../src/ops/scan/cpu';
import { SCAN_INPUT_NAMES } from '../../src/ops/scan/kernel-names';
import { scanBackwardReference, scanForwardReference, type ScanDims } from '../../src/ops/scan/reference';
import { exportsOrNull, fusedScanBackward, fusedScanForward, simdScanUsable } from '../../src/ops/scan/simd';
import { scanModuleBytes } from '../../src/ops/scan/simd-program';
import { sleb, uleb, validateModule } from '../../src/util/wasm-assembler';
import { CHECK_SHAPES } from '../helpers/scan-check';
import { randomScanCase, relError, type CaseOptions } from '../helpers/scan-inputs';

const TOL = 1e-5; // float32 arithmetic; the issue asks < 1e-4, observed errors are ~1e-7 to 1e-6

function checkCase(dims: ScanDims, seed: number, opts: CaseOptions): Record<string, number> {
  const c = randomScanCase(dims, seed, opts);
  const x: Record<string, Float32Array> = {};
  for (const n of SCAN_INPUT_NAMES) if (c.x[n]) x[n] = Float32Array.from(c.x[n] as Float64Array);
  const out = new Float32Array(c.G.length).fill(NaN);
  fusedScanForward(x as unknown as ScanBuffers, dims, c.deltaSoftplus, out);
  const errors: Record<string, number> = { out: relError(out, scanForwardReference(c.x, dims, c.deltaSoftplus)) };
  const g: Record<string, Float32Array> = {};
  for (const n of Object.keys(x)) g[n] = new Float32Array(x[n].length).fill(NaN);
  fusedScanBackward(x as unknown as ScanBuffers, dims, c.deltaSoftplus, Float32Array.from(c.G), g as never);
  const ref = scanBackwardReference(c.x, dims, c.G, c.deltaSoftplus);
  for (const n of Object.keys(x)) errors[`d${n}`] = relError(g[n], ref[n as keyof typeof ref]!);
  return errors;
}

test('the module validates and this runtime runs it (else the kernels silently fall back)', () => {
  for (const n of [4, 16, 64]) assert.ok(validateModule(scanModuleBytes(n)), `N = ${n}`);
  assert.throws(() => scanModuleBytes(6), /nState must be a multiple of 4/);
  assert.ok(exportsOrNull() !== null);
});

test('LEB128 encoders', () => {
  assert.deepEqual(uleb(0), [0]);
  assert.deepEqual(uleb(624485), [0xe5, 0x8e, 0x26]);
  assert.deepEqual(sleb(-1), [0x7f]);
  assert.deepEqual(sleb(-123456), [0xc0, 0xbb, 0x78]);
  assert.deepEqual(sleb(64), [0xc0, 0x00]);
});

const SHAPES: { dims: ScanDims; opts: CaseOptions }[] = [
  ...CHECK_SHAPES,
  { dims: { batch: 4, dim: 6, len: 24, nState: 8 }, opts: { deltaSoftplus: false } },
  { dims: { batch: 3, dim: 5, len: 11, nState: 32 }, opts: { z: false } },
];

SHAPES.forEach(({ dims, opts }, k) => {
  test(`SIMD scan vs float64 reference, poisoned outputs: ${JSON.stringify(dims)} ${JSON.stringify(opts)}`, () => {
    assert.ok(simdScanUsable(dims), 'the SIMD kernel should take this shape');
    const seed = 7000 + k; // seeds no other scan test uses
    const errors = checkCase(dims, seed, opts);
    for (const [name, e] of Object.entries(errors)) assert.ok(e < TOL, `${name}: relative error ${e} (seed ${seed})`);
  });
});

test('vector softplus, softplus′ and σ match Math within float32 rounding, tails included', () => {
  const w = exportsOrNull()!;
  const xs = Float32Array.from({ length: 4003 }, (_, i) => -100 + (200 * i) / 4002);
  xs.set([0, -0, 20, -20, 87, -87, 88.5, -88.5, 1e-8, -1e-8], 0);
  const n = xs.length;
  const need = 4 * 4 * (n + 4);
  if (w.mem.buffer.byteLength < need) w.mem.grow(Math.ceil((need - w.mem.buffer.byteLength) / 65536));
  const [pR, pDt, pDsp, pSg] = [0, 1, 2, 3].map((k) => k * 4 * (n + 4));
  const m = new Float32Array(w.mem.buffer);
  m.fill(NaN, 0, need / 4);
  m.set(xs, pR / 4);
  w.softplus4(n, pR, pDt, pDsp);
  w.sigmoid4(n, pR, pSg);
  for (let i = 0; i < n; i++) {
    const r = xs[i];
    const sp = r > 20 ? r : Math.log1p(Math.exp(r));
    const sg = 1 / (1 + Math.exp(-r));
    const eSp = Math.abs(m[pDt / 4 + i] - sp) / Math.max(sp, 1e-30);
    assert.ok(eSp < 1e-6 || Math.abs(m[pDt / 4 + i] - sp) < 1e-37, `softplus(${r}): ${m[pDt / 4 + i]} vs ${sp}`);
    for (const got of [m[pDsp / 4 + i], m[pSg / 4 + i]]) {
      assert.ok(Math.abs(got - sg) <= 1e-6 * sg || Math.abs(got - sg) < 1e-37, `σ(${r}): ${got} vs ${sg}`);
    }
  }
});

test('N not a multiple of 4 and DMM_SCAN_CPU=js fall back to the JS loops, still correct', () => {
  const dims = { batch: 2, dim: 3, len: 5, nState: 6 };
  assert.equal(simdScanUsable(dims), false);
  for (const e of Object.values(checkCase(dims, 91, {}))) assert.ok(e < TOL, String(e));
  const before = process.env.DMM_SCAN_CPU;
  process.env.DMM_SCAN_CPU = 'js';
  try {
    assert.equal(simdScanUsable({ batch: 2, dim: 3, len: 5, nState: 16 }), false);
  } finally {
    if (before === undefined) delete process.env.DMM_SCAN_CPU;
    else process.env.DMM_SCAN_CPU = before;
  }
});
