/**
 * The CPU executor's LayerNorm (kernels/layer-norm.ts) as WebAssembly SIMD, row by row over address tables:
 *
 *   forward   μ and rstd from two f32x4 passes (Σx, then Σ(x − μ)²), then y = ((x − μ)·rstd·γ + β)·mask
 *   backward  one pass for Σg, Σg·x̂ (g = dy·mask·γ) and the dγ, dβ sums, a second for dx (+ the residual)
 *
 * The row sums are float32 in four lanes (the kernel's JavaScript sums in float64); the input dropout's mask is
 * the kit's counter hash (cpu/epilogue.ts), so the same elements drop. D must be a multiple of 4, and the
 * backward's parameter sums one slice (the CPU programs' layout); other shapes run the JavaScript.
 */
import {
  F32,
  FuncBuilder,
  I32,
  OP,
  SIMD,
  V128,
  assembleModule,
  instantiateModule,
  whileLt,
} from '../../util/wasm-assembler';
import { dropoutThreshold } from '../../util/rng';
import { rowAddr } from '../program';
import type { LayerNormBackwardSpec, LayerNormSpec } from '../kernels/layer-norm';
import { DROP_PARAMS, dropSetup, keep } from './epilogue';

interface LayerNormExports {
  /** forward(M, nb, pX, pY, pG, pB, pMean, pRstd, 1/D, eps, drop, k0, k1, thr, factor, N) */
  forward(...args: number[]): void;
  /** backward(M, nb, pX, pDy, pDx, pRes, res, pG, pDg, pDb, pMean, pRstd, 1/D, drop, k0, k1, thr, factor, N) */
  backward(...args: number[]): void;
}

const I = (names: string[]) => names.map((n): [string, typeof I32] => [n, I32]);

/** The lane sum of v128 local `v` as an f32. */
function hsum(f: FuncBuilder, v: string): void {
  f.get(v).simd(SIMD.f32x4ExtractLane, 0);
  for (let l = 1; l < 4; l++) f.get(v).simd(SIMD.f32x4ExtractLane, l).op(OP.f32Add);
}

/** Row loop over tables (row starts, bytes), `perRow` once per row with row starts in locals `<table>row`. */
function rows(f: FuncBuilder, tables: string[], perRow: () => void): void {
  f.i32(0).set('m');
  whileLt(
    f,
    'm',
    () => f.get('M'),
    () => {
      for (const t of tables) f.get(t).get('m').i32(2).op(OP.i32Shl).op(OP.i32Add).op(OP.i32Load, 2, 0).set(`${t}row`);
      perRow();
    },
  );
}
function cols(f: FuncBuilder, body: () => void): void {
  f.i32(0).set('n');
  whileLt(f, 'n', () => f.get('nb'), body, 16);
}
const at = (f: FuncBuilder, p: string) => f.get(p).get('n').op(OP.i32Add);
/** Pushes the f32 at table `p` (a per-row array of floats) for row m. */
const rowScalar = (f: FuncBuilder, p: string) => f.get(p).get('m').i32(2).op(OP.i32Shl).op(OP.i32Add);

function forwardFunc(): FuncBuilder {
  const f = new FuncBuilder('forward', [
    ...I(['M', 'nb', 'pX', 'pY', 'pG', 'pB', 'pMean', 'pRstd']),
    ['invD', F32],
    ['eps', F32],
    ['drop', I32],
    ...DROP_PARAMS,
  ]);
  for (const v of ['m', 'n', 'pXrow', 'pYrow']) f.local(v, I32);
  for (const v of ['mean', 'rstd']) f.local(v, F32);
  for (const v of ['acc', 'x', 'mv', 'rv', 'w']) f.local(v, V128);
  dropSetup(f);
  rows(f, ['pX', 'pY'], () => {
    f.f32(0).simd(SIMD.f32x4Splat).set('acc');
    cols(f, () => at(f, 'pXrow').loadV().get('acc').simd(SIMD.f32x4Add).set('acc'));
    hsum(f, 'acc');
    f.get('invD').op(OP.f32Mul).tee('mean').simd(SIMD.f32x4Splat).set('mv');
    f.f32(0).simd(SIMD.f32x4Splat).set('acc');
    cols(f, () => {
      at(f, 'pXrow').loadV().get('mv').simd(SIMD.f32x4Sub).tee('x').get('x').simd(SIMD.f32x4Mul);
      f.get('acc').simd(SIMD.f32x4Add).set('acc');
    });
    f.f32(1);
    hsum(f, 'acc');
    f.get('invD').op(OP.f32Mul).get('eps').op(OP.f32Add).op(0x91).op(OP.f32Div).tee('rstd'); // f32.sqrt
    f.simd(SIMD.f32x4Splat).set('rv');
    rowScalar(f, 'pMean').get('mean').op(OP.f32Store, 2, 0);
    rowScalar(f, 'pRstd').get('rstd').op(OP.f32Store, 2, 0);
    cols(f, () => {
      at(f, 'pYrow');
      at(f, 'pXrow').loadV().get('mv').simd(SIMD.f32x4Sub).get('rv').simd(SIMD.f32x4Mul);
      at(f, 'pG').loadV().simd(SIMD.f32x4Mul);
      at(f, 'pB').loadV().simd(SIMD.f32x4Add).set('x');
      f.get('drop').op(OP.if, 0x40);
      f.get('x');
      keep(f);
      f.simd(SIMD.f32x4Mul).set('x');
      f.op(OP.end);
      f.get('x').storeV();
    });
  });
  return f;
}

function backwardFunc(): FuncBuilder {
  const f = new FuncBuilder('backward', [
    ...I(['M', 'nb', 'pX', 'pDy', 'pDx', 'pRes', 'res', 'pG', 'pDg', 'pDb', 'pMean', 'pRstd']),
    ['invD', F32],
    ['drop', I32],
    ...DROP_PARAMS,
  ]);
  for (const v of ['m', 'n', 'pXrow', 'pDyrow', 'pDxrow', 'pResrow']) f.local(v, I32);
  for (const v of ['mv', 'rv', 'dy', 'xh', 'g', 'sg', 'sgx', 'w']) f.local(v, V128);
  dropSetup(f);
  /** dy (dropped), x̂ and g = dy·γ of the current 4 columns into locals. */
  const load = () => {
    at(f, 'pDyrow').loadV().set('dy');
    f.get('drop').op(OP.if, 0x40);
    f.get('dy');
    keep(f);
    f.simd(SIMD.f32x4Mul).set('dy');
    f.op(OP.end);
    at(f, 'pXrow').loadV().get('mv').simd(SIMD.f32x4Sub).get('rv').simd(SIMD.f32x4Mul).set('xh');
    f.get('dy');
    at(f, 'pG').loadV().simd(SIMD.f32x4Mul).set('g');
  };
  rows(f, ['pX', 'pDy', 'pDx', 'pRes'], () => {
    rowScalar(f, 'pMean').op(OP.f32Load, 2, 0).simd(SIMD.f32x4Splat).set('mv');
    rowScalar(f, 'pRstd').op(OP.f32Load, 2, 0).simd(SIMD.f32x4Splat).set('rv');
    f.f32(0).simd(SIMD.f32x4Splat).tee('sg').set('sgx');
    cols(f, () => {
      load();
      f.get('sg').get('g').simd(SIMD.f32x4Add).set('sg');
      f.get('sgx').get('g').get('xh').simd(SIMD.f32x4Mul).simd(SIMD.f32x4Add).set('sgx');
      at(f, 'pDg');
      at(f, 'pDg').loadV().get('dy').get('xh').simd(SIMD.f32x4Mul).simd(SIMD.f32x4Add).storeV();
      at(f, 'pDb');
      at(f, 'pDb').loadV().get('dy').simd(SIMD.f32x4Add).storeV();
    });
    hsum(f, 'sg');
    f.get('invD').op(OP.f32Mul).simd(SIMD.f32x4Splat).set('sg'); // mean(g)
    hsum(f, 'sgx');
    f.get('invD').op(OP.f32Mul).simd(SIMD.f32x4Splat).set('sgx'); // mean(g·x̂)
    cols(f, () => {
      load();
      at(f, 'pDxrow');
      f.get('g').get('sg').simd(SIMD.f32x4Sub).get('xh').get('sgx').simd(SIMD.f32x4Mul).simd(SIMD.f32x4Sub);
      f.get('rv').simd(SIMD.f32x4Mul).set('w');
      f.get('res').op(OP.if, 0x40);
      at(f, 'pResrow').loadV().get('w').simd(SIMD.f32x4Add).set('w');
      f.op(OP.end);
      f.get('w').storeV();
    });
  });
  return f;
}

const cache = new WeakMap<object, LayerNormExports | null>();
function kernels(memory: { buffer: ArrayBuffer }): LayerNormExports | null {
  if (!cache.has(memory)) {
    const bytes = assembleModule([forwardFunc(), backwardFunc()], 1, { importMemory: true });
    cache.set(memory, instantiateModule<LayerNormExports>(bytes, { env: { mem: memory } }));
  }
  return cache.get(memory)!;
}

/** Whether the SIMD path takes this launch. */
export function layerNormApplies(s: LayerNormSpec | LayerNormBackwardSpec): boolean {
  return s.D % 4 === 0 && (!('splits' in s) || s.splits === 1);
}

/** Scratch floats of a launch: its row tables. */
export function layerNormScratch(s: LayerNormSpec | LayerNormBackwardSpec): number {
  return 4 * s.rows + 8;
}

const dropArgs = (ctl: Uint32Array, s: { dropout?: { p: number; key: number } }, D: number) => {
  const d = s.dropout;
  return d
    ? [1, ctl[d.key], ctl[d.key + 1], dropoutThreshold(d.p) | 0, Math.fround(1 / (1 - d.p)), D]
    : [0, 0, 0, 0, 0, D];
};

export function layerNormFastPath(
  memory: { buffer: ArrayBuffer },
  mem: Float32Array,
  s: LayerNormSpec,
  scratch: number,
  base: number,
  ctl: Uint32Array,
): (() => void) | null {
  const k = kernels(memory);
  if (!k || !layerNormApplies(s)) return null;
  const i32 = new Int32Array(mem.buffer);
  for (let r = 0; r < s.rows; r++) {
    i32[scratch + r] = 4 * (base + rowAddr(s.x, r));
    i32[scratch + s.rows + r] = 4 * (base + rowAddr(s.y, r));
  }
  const b = (o: number) => 4 * (base + o);
  return () =>
    k.forward(
      s.rows,
      4 * s.D,
      4 * scratch,
      4 * (scratch + s.rows),
      b(s.gamma),
      b(s.beta),
      b(s.mean),
      b(s.rstd),
      1 / s.D,
      s.eps,
      ...dropArgs(ctl, s, s.D),
    );
}

export function layerNormBackwardFastPath(
  memory: { buffer: ArrayBuffer },
  mem: Float32Array,
  s: LayerNormBackwardSpec,
  scratch: number,
  base: number,
  ctl: Uint32Array,
): (() => void) | null {
  const k = kernels(memory);
  if (!k || !layerNormApplies(s)) return null;
  const i32 = new Int32Array(mem.buffer);
  const R = s.rows;
  for (let r = 0; r < R; r++) {
    i32[scratch + r] = 4 * (base + rowAddr(s.x, r));
    i32[scratch + R + r] = 4 * (base + rowAddr(s.dy, r));
    i32[scratch + 2 * R + r] = 4 * (base + rowAddr(s.dx, r));
    i32[scratch + 3 * R + r] = s.residual ? 4 * (base + rowAddr(s.residual, r)) : 0;
  }
  const b = (o: number) => 4 * (base + o);
  const [t0, t1, t2, t3] = [0, 1, 2, 3].map((i) => 4 * (scratch + i * R));
  return () => {
    mem.fill(0, base + s.dgamma, base + s.dgamma + s.D);
    mem.fill(0, base + s.dbeta, base + s.dbeta + s.D);
    k.backward(
      R,
      4 * s.D,
      t0,
      t1,
      t2,
      t3,
      s.residual ? 1 : 0,
      b(s.gamma),
      b(s.dgamma),
      b(s.dbeta),
      b(s.mean),
      b(s.rstd),
      1 / s.D,
      ...dropArgs(ctl, s, s.D),
    );
  };
}
