/**
 * The CPU executor's element-wise work as WebAssembly SIMD over rows of the arena: the products' bias and
 * epilogues (kernels/gemm.ts `Epilogue`) and the dropout mask (kernels/dropout.ts), four columns per f32x4.
 * Every function walks M rows through byte-address tables (tabC[m], tabR[m], …) and the columns [0, nb/4);
 * the callers run the columns past the last multiple of 4 in JavaScript.
 *
 *   bias       C += bias
 *   add        C = R + C·mask(m·N + n)          (a residual, the branch optionally dropped out)
 *   act        S = act(C)                        (ReLU, or exact GELU: erf by Abramowitz–Stegun 7.1.26)
 *   actGrad    C = C·act′(Z)
 *   siluSplit  S = C·σ(C)
 *   siluGrad   C = (C + R)·σ(Z)·(1 + Z·(1 − σ(Z)))
 *   dropout    Y = X·mask(m·N + n)
 *
 * The dropout mask is the kit's counter hash (util/rng.ts counterBits: two rounds of mix32 over i ^ key0, then
 * key1) in i32x4 lanes, so it drops exactly the elements the JavaScript drops. Arithmetic is float32 (the
 * JavaScript evaluates GELU, σ and their derivatives in float64), exp the scan's vector polynomial.
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
import { exp4, expConstants } from '../../ops/scan/simd-program';
import { dropoutThreshold } from '../../util/rng';
import { rowAddr } from '../program';
import { maskAt, type DropoutMulSpec } from '../kernels/dropout';

export interface EpilogueExports {
  bias(M: number, nb: number, pC: number, pBias: number): void;
  add(
    M: number,
    nb: number,
    pC: number,
    pR: number,
    drop: number,
    k0: number,
    k1: number,
    thr: number,
    factor: number,
    N: number,
  ): void;
  act(M: number, nb: number, pC: number, pS: number, gelu: number): void;
  actGrad(M: number, nb: number, pC: number, pZ: number, gelu: number): void;
  siluSplit(M: number, nb: number, pC: number, pS: number): void;
  siluGrad(M: number, nb: number, pC: number, pR: number, pZ: number): void;
  dropout(
    M: number,
    nb: number,
    pX: number,
    pY: number,
    k0: number,
    k1: number,
    thr: number,
    factor: number,
    N: number,
  ): void;
}

const P = 0.3275911;
const A = [0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429];
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

type Body = (f: FuncBuilder, at: (table: string) => FuncBuilder) => void;

/**
 * A function over rows: `tables` name byte-address tables of row starts, `extra` further params; `body` runs
 * per 16 bytes with `at(table)` pushing that table's row start + the column offset.
 */
function rowsFunc(
  name: string,
  tables: string[],
  extra: [string, typeof I32 | typeof F32][],
  body: Body,
  setup?: (f: FuncBuilder) => void,
): FuncBuilder {
  const f = new FuncBuilder(name, [
    ['M', I32],
    ['nb', I32],
    ...tables.map((t): [string, typeof I32] => [t, I32]),
    ...extra,
  ]);
  f.local('m', I32);
  f.local('n', I32);
  for (const t of tables) f.local(`${t}row`, I32);
  for (const v of ['x', 'y', 'z', 'w', 'e']) f.local(v, V128);
  setup?.(f);
  f.i32(0).set('m');
  whileLt(
    f,
    'm',
    () => f.get('M'),
    () => {
      for (const t of tables) f.get(t).get('m').i32(2).op(OP.i32Shl).op(OP.i32Add).op(OP.i32Load, 2, 0).set(`${t}row`);
      f.i32(0).set('n');
      whileLt(
        f,
        'n',
        () => f.get('nb'),
        () => body(f, (t) => f.get(`${t}row`).get('n').op(OP.i32Add)),
        16,
      );
    },
  );
  return f;
}

const splat = (f: FuncBuilder, v: number) => f.f32(v).simd(SIMD.f32x4Splat);
const mul = (f: FuncBuilder) => f.simd(SIMD.f32x4Mul);
const add = (f: FuncBuilder) => f.simd(SIMD.f32x4Add);

/** Dropout: locals for the keys, the threshold and the factor; `keep` pushes the kept-lanes factor vector. */
export const DROP_PARAMS: [string, typeof I32 | typeof F32][] = [
  ['k0', I32],
  ['k1', I32],
  ['thr', I32],
  ['factor', F32],
  ['N', I32],
];
export function dropSetup(f: FuncBuilder): void {
  for (const v of ['k0v', 'k1v', 'thrv', 'fv', 'idx', 'lanes']) f.local(v, V128);
  f.get('k0').simd(SIMD.i32x4Splat).set('k0v');
  f.get('k1').simd(SIMD.i32x4Splat).set('k1v');
  f.get('thr').simd(SIMD.i32x4Splat).set('thrv');
  f.get('factor').simd(SIMD.f32x4Splat).set('fv');
  f.simd(0x0c, ...Array.from(new Uint8Array(Int32Array.of(0, 1, 2, 3).buffer))).set('lanes'); // v128.const
}
/** mix32 of the i32x4 on the stack (util/rng.ts): x ^= x >>> 16; x *= 0x7feb352d; x ^= x >>> 15; … */
function mix32x4(f: FuncBuilder): void {
  const xorShift = (s: number) => f.tee('w').get('w').i32(s).simd(SIMD.i32x4ShrU).simd(SIMD.v128Xor);
  xorShift(16);
  f.i32(0x7feb352d).simd(SIMD.i32x4Splat).simd(SIMD.i32x4Mul);
  xorShift(15);
  f.i32(0x846ca68b | 0)
    .simd(SIMD.i32x4Splat)
    .simd(SIMD.i32x4Mul);
  xorShift(16);
}
/** Pushes the mask factors of flat elements m·N + n/4 + (0..3): `factor` where kept, else 0. */
export function keep(f: FuncBuilder): void {
  f.get('m').get('N').op(OP.i32Mul).get('n').i32(2).op(0x76).op(OP.i32Add); // i32.shr_u
  f.simd(SIMD.i32x4Splat).get('lanes').simd(SIMD.i32x4Add).get('k0v').simd(SIMD.v128Xor);
  mix32x4(f);
  f.get('k1v').simd(SIMD.v128Xor);
  mix32x4(f);
  f.get('thrv').simd(SIMD.i32x4GeU).get('fv').simd(SIMD.v128And);
}

/** σ(v) of the v128 on the stack: 1/(1 + e^−v). */
function sigmoid(f: FuncBuilder): void {
  f.simd(SIMD.f32x4Neg);
  exp4(f);
  splat(f, 1).simd(SIMD.f32x4Add).set('e');
  splat(f, 1).get('e').simd(SIMD.f32x4Div);
}

/**
 * GELU of local x into y, or GELU′ with `grad`: erf(x/√2) by A&S 7.1.26 from one e^(−x²/2), which is
 * both erf's e^(−z²) and the derivative's Gaussian.
 */
function gelu(f: FuncBuilder, grad: boolean): void {
  f.get('x').f32(Math.SQRT1_2).simd(SIMD.f32x4Splat);
  mul(f).simd(SIMD.f32x4Abs).set('z'); // |z|
  f.get('z').get('z');
  mul(f).simd(SIMD.f32x4Neg);
  exp4(f);
  f.set('e'); // e^(−z²)
  splat(f, 1);
  splat(f, 1).get('z');
  splat(f, P);
  mul(f);
  add(f).simd(SIMD.f32x4Div).set('w'); // t
  splat(f, A[4]);
  for (const c of [A[3], A[2], A[1], A[0]]) {
    f.get('w');
    mul(f);
    splat(f, c);
    add(f);
  }
  f.get('w');
  mul(f).get('e');
  mul(f).set('y');
  splat(f, 1).get('y').simd(SIMD.f32x4Sub).set('y'); // erf(|z|)
  // erf(z) = sign(x)·erf(|z|): bitselect(−y, y, x < 0)
  f.get('y').simd(SIMD.f32x4Neg).get('y').get('x');
  splat(f, 0).simd(0x43).simd(SIMD.bitselect); // f32x4.lt
  splat(f, 1);
  add(f);
  splat(f, 0.5);
  mul(f).set('y'); // ½(1 + erf)
  if (!grad) {
    f.get('y').get('x');
    mul(f).set('y');
    return;
  }
  f.get('y').get('x').get('e');
  mul(f);
  splat(f, INV_SQRT_2PI);
  mul(f);
  add(f).set('y');
}

/** ReLU (grad: its derivative [x > 0]) of local x into y. */
function relu(f: FuncBuilder, grad: boolean): void {
  if (!grad) {
    f.get('x');
    splat(f, 0).simd(SIMD.f32x4Max).set('y');
    return;
  }
  splat(f, 1).get('x');
  splat(f, 0).simd(SIMD.f32x4Gt).simd(SIMD.v128And).set('y');
}

/** act or act′ of local x into y, GELU or ReLU by the i32 param `gelu`. */
function activation(f: FuncBuilder, grad: boolean): void {
  f.get('gelu').op(OP.if, 0x40);
  gelu(f, grad);
  f.op(OP.else);
  relu(f, grad);
  f.op(OP.end);
}

function funcs(): FuncBuilder[] {
  return [
    rowsFunc('bias', ['pC'], [['pBias', I32]], (f, at) => {
      at('pC');
      at('pC').loadV();
      f.get('pBias').get('n').op(OP.i32Add).loadV();
      add(f).storeV();
    }),
    rowsFunc(
      'add',
      ['pC', 'pR'],
      [['drop', I32], ...DROP_PARAMS],
      (f, at) => {
        at('pC').loadV().set('x');
        f.get('drop').op(OP.if, 0x40);
        f.get('x');
        keep(f);
        mul(f).set('x');
        f.op(OP.end);
        at('pC');
        at('pR').loadV().get('x');
        add(f).storeV();
      },
      dropSetup,
    ),
    ...(['act', 'actGrad'] as const).map((name) =>
      rowsFunc(
        name,
        ['pC', name === 'act' ? 'pS' : 'pZ'],
        [['gelu', I32]],
        (f, at) => {
          if (name === 'act') {
            at('pC').loadV().set('x');
            activation(f, false);
            at('pS').get('y').storeV();
          } else {
            at('pZ').loadV().set('x');
            activation(f, true);
            at('pC');
            at('pC').loadV().get('y');
            mul(f).storeV();
          }
        },
        expConstants,
      ),
    ),
    rowsFunc(
      'siluSplit',
      ['pC', 'pS'],
      [],
      (f, at) => {
        at('pS');
        at('pC').loadV().tee('x');
        sigmoid(f);
        f.get('x');
        mul(f).storeV();
      },
      expConstants,
    ),
    rowsFunc(
      'siluGrad',
      ['pC', 'pR', 'pZ'],
      [],
      (f, at) => {
        at('pZ').loadV().tee('z');
        sigmoid(f);
        f.set('y'); // σ(Z)
        at('pC');
        at('pC').loadV();
        at('pR').loadV();
        add(f).get('y');
        mul(f);
        splat(f, 1).get('z');
        splat(f, 1).get('y').simd(SIMD.f32x4Sub);
        mul(f);
        add(f);
        mul(f).storeV();
      },
      expConstants,
    ),
    rowsFunc(
      'dropout',
      ['pX', 'pY'],
      DROP_PARAMS,
      (f, at) => {
        at('pY');
        at('pX').loadV();
        keep(f);
        mul(f).storeV();
      },
      dropSetup,
    ),
  ];
}

const cache = new WeakMap<object, EpilogueExports | null>();

/** The functions instantiated over `memory` (null where this runtime lacks WebAssembly SIMD). */
export function epilogueKernels(memory: { buffer: ArrayBuffer }): EpilogueExports | null {
  if (!cache.has(memory))
    cache.set(
      memory,
      instantiateModule<EpilogueExports>(assembleModule(funcs(), 1, { importMemory: true }), { env: { mem: memory } }),
    );
  return cache.get(memory)!;
}

/** Scratch floats of a dropoutMul launch: its two row tables. */
export function dropoutMulScratch(s: DropoutMulSpec): number {
  return 2 * s.rows + 8;
}

/** The dropoutMul launch in SIMD (columns past the last multiple of 4 in JS), or null without SIMD here. */
export function dropoutMulFastPath(
  memory: { buffer: ArrayBuffer },
  mem: Float32Array,
  s: DropoutMulSpec,
  scratch: number,
  base: number,
  ctl: Uint32Array,
): (() => void) | null {
  const ep = epilogueKernels(memory);
  if (!ep) return null;
  const i32 = new Int32Array(mem.buffer);
  const xRows = Int32Array.from({ length: s.rows }, (_, r) => base + rowAddr(s.x, r));
  const yRows = Int32Array.from({ length: s.rows }, (_, r) => base + rowAddr(s.y, r));
  for (let r = 0; r < s.rows; r++) {
    i32[scratch + r] = 4 * xRows[r];
    i32[scratch + s.rows + r] = 4 * yRows[r];
  }
  const c4 = s.cols - (s.cols % 4);
  const d = s.dropout;
  const thr = dropoutThreshold(d.p) | 0;
  const factor = Math.fround(1 / (1 - d.p));
  return () => {
    ep.dropout(s.rows, 4 * c4, 4 * scratch, 4 * (scratch + s.rows), ctl[d.key], ctl[d.key + 1], thr, factor, s.cols);
    if (c4 < s.cols)
      for (let r = 0; r < s.rows; r++)
        for (let c = c4; c < s.cols; c++) mem[yRows[r] + c] = mem[xRows[r] + c] * maskAt(ctl, d, r * s.cols + c);
  };
}
