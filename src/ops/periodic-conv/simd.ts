/**
 * WebAssembly SIMD loops of the periodic causal depthwise convolution (./periodic-conv.ts):
 * x [B, L, C], taps w [k, P, C], optional bias [P, C], f32x4 over channels (C a multiple of 4).
 *
 *   forward  y[b,i] = (… (0 + x[b,i−k+1]·w[0,τ]) + … + x[b,i]·w[k−1,τ]) + bias[τ],  τ = i mod P
 *   backward dx[b,p] += dy[b,i]·w[j,τ],  dw[j,τ] += dy[b,i]·x[b,p],  dbias[τ] += dy[b,i]   (p = i−k+1+j ≥ 0)
 *
 * Every product and partial sum is a float32 operation in the same order as causalTapSum's chain of
 * tfjs products and adds, so the forward is bit-identical to it; the backward sums in float32 in (b, i)
 * order. Pointers are byte offsets into the module's own memory.
 */
import {
  FuncBuilder,
  I32,
  OP,
  SIMD,
  V128,
  assembleModule,
  f32View,
  instantiateModule,
  whileLt,
  type WasmMemory,
} from '../../util/wasm-assembler';

const PARAMS = (names: string[]): [string, typeof I32][] => names.map((n) => [n, I32]);

/** Byte address of row `row` (of C floats) from base pointer `base`: base + row·C·4. */
function rowAddr(f: FuncBuilder, base: string, row: () => void): void {
  row();
  f.get('c').op(OP.i32Mul).i32(2).op(OP.i32Shl).get(base).op(OP.i32Add);
}

/** Loops over b, i (with tau = i mod P) and, inside, over the j whose source token p = i − k + 1 + j exists. */
function loops(f: FuncBuilder, perRow: () => void, perTap: () => void): void {
  f.i32(0).set('bb');
  whileLt(
    f,
    'bb',
    () => f.get('b'),
    () => {
      f.i32(0).set('i');
      whileLt(
        f,
        'i',
        () => f.get('l'),
        () => {
          f.get('i').get('period').op(OP.i32RemS).set('tau');
          perRow();
          // j from max(0, k − 1 − i): p = i − k + 1 + j ≥ 0
          f.get('k').i32(1).op(OP.i32Sub).get('i').op(OP.i32Sub).set('j');
          f.get('j').i32(0).op(OP.i32LtS).op(OP.if, 0x40).i32(0).set('j').op(OP.end);
          whileLt(
            f,
            'j',
            () => f.get('k'),
            () => {
              f.get('i').get('k').op(OP.i32Sub).i32(1).op(OP.i32Add).get('j').op(OP.i32Add).set('p');
              perTap();
            },
          );
        },
      );
    },
  );
}

function declare(f: FuncBuilder): void {
  for (const v of ['bb', 'i', 'j', 'p', 'tau', 'v', 'cb', 'rY', 'rX', 'rW', 'rB']) f.local(v, I32);
  f.local('acc', V128);
  f.get('c').i32(2).op(OP.i32Shl).set('cb'); // row bytes
}

/** Row addresses used by both passes: rY/rX/rW for output row (b, i), input row (b, p), taps row (j, τ). */
const outRow = (f: FuncBuilder, base: string) =>
  rowAddr(f, base, () => f.get('bb').get('l').op(OP.i32Mul).get('i').op(OP.i32Add));
const srcRow = (f: FuncBuilder, base: string) =>
  rowAddr(f, base, () => f.get('bb').get('l').op(OP.i32Mul).get('p').op(OP.i32Add));
const tapRow = (f: FuncBuilder, base: string) =>
  rowAddr(f, base, () => f.get('j').get('period').op(OP.i32Mul).get('tau').op(OP.i32Add));
const biasRow = (f: FuncBuilder, base: string) => rowAddr(f, base, () => f.get('tau'));

/** `dst[v] = dst[v] + a[v]·b[v]` over the C/4 vectors of three rows (byte addresses in locals). */
function fmaRow(f: FuncBuilder, dst: string, a: string, b: string): void {
  f.i32(0).set('v');
  whileLt(
    f,
    'v',
    () => f.get('cb'),
    () => {
      f.get(dst).get('v').op(OP.i32Add);
      f.get(dst).get('v').op(OP.i32Add).loadV();
      f.get(a).get('v').op(OP.i32Add).loadV();
      f.get(b).get('v').op(OP.i32Add).loadV();
      f.simd(SIMD.f32x4Mul).simd(SIMD.f32x4Add).storeV();
    },
    16,
  );
}

/** `dst[v] = dst[v] + src[v]`. */
function addRow(f: FuncBuilder, dst: string, src: string): void {
  f.i32(0).set('v');
  whileLt(
    f,
    'v',
    () => f.get('cb'),
    () => {
      f.get(dst).get('v').op(OP.i32Add);
      f.get(dst).get('v').op(OP.i32Add).loadV();
      f.get(src).get('v').op(OP.i32Add).loadV();
      f.simd(SIMD.f32x4Add).storeV();
    },
    16,
  );
}

/** conv_fwd(b, l, c, k, period, pX, pW, pBias (−1: none), pY); y must be zeroed by the caller. */
function forwardFunc(): FuncBuilder {
  const f = new FuncBuilder('conv_fwd', PARAMS(['b', 'l', 'c', 'k', 'period', 'pX', 'pW', 'pBias', 'pY']));
  declare(f);
  loops(
    f,
    () => {
      outRow(f, 'pY');
      f.set('rY');
    },
    () => {
      srcRow(f, 'pX');
      f.set('rX');
      tapRow(f, 'pW');
      f.set('rW');
      fmaRow(f, 'rY', 'rX', 'rW');
    },
  );
  // bias after the taps, as causalTapSum(...).add(bias)
  f.get('pBias').i32(0).op(OP.i32GeS).op(OP.if, 0x40);
  f.i32(0).set('bb');
  whileLt(
    f,
    'bb',
    () => f.get('b'),
    () => {
      f.i32(0).set('i');
      whileLt(
        f,
        'i',
        () => f.get('l'),
        () => {
          f.get('i').get('period').op(OP.i32RemS).set('tau');
          outRow(f, 'pY');
          f.set('rY');
          biasRow(f, 'pBias');
          f.set('rB');
          addRow(f, 'rY', 'rB');
        },
      );
    },
  );
  f.op(OP.end);
  return f;
}

/** conv_bwd(b, l, c, k, period, pX, pW, pDy, pDx, pDw, pDb); the three gradients zeroed by the caller. */
function backwardFunc(): FuncBuilder {
  const f = new FuncBuilder('conv_bwd', PARAMS(['b', 'l', 'c', 'k', 'period', 'pX', 'pW', 'pDy', 'pDx', 'pDw', 'pDb']));
  declare(f);
  f.local('rDx', I32);
  f.local('rDw', I32);
  loops(
    f,
    () => {
      outRow(f, 'pDy');
      f.set('rY');
      biasRow(f, 'pDb');
      f.set('rB');
      addRow(f, 'rB', 'rY');
    },
    () => {
      srcRow(f, 'pX');
      f.set('rX');
      srcRow(f, 'pDx');
      f.set('rDx');
      tapRow(f, 'pW');
      f.set('rW');
      tapRow(f, 'pDw');
      f.set('rDw');
      fmaRow(f, 'rDx', 'rY', 'rW');
      fmaRow(f, 'rDw', 'rY', 'rX');
    },
  );
  return f;
}

interface ConvExports {
  mem: WasmMemory;
  conv_fwd: (...args: number[]) => void;
  conv_bwd: (...args: number[]) => void;
}

let instance: ConvExports | null | undefined;

function exportsOrNull(): ConvExports | null {
  if (instance === undefined)
    instance = instantiateModule<ConvExports>(assembleModule([forwardFunc(), backwardFunc()]));
  return instance;
}

/** Whether the SIMD loops run for C channels (else conv.ts's JS loops do). */
export function simdConvUsable(c: number): boolean {
  return c % 4 === 0 && exportsOrNull() !== null;
}

/** Lays out float arrays back to back from byte 0 (16-byte aligned) and returns their byte offsets. */
function layout(sizes: number[]): { ptrs: number[]; end: number } {
  const ptrs: number[] = [];
  let top = 0;
  for (const n of sizes) {
    ptrs.push(top);
    top += Math.ceil(n / 4) * 16;
  }
  return { ptrs, end: top };
}

export interface ConvShape {
  b: number;
  l: number;
  c: number;
  k: number;
  period: number;
}

export function simdConvForward(
  x: Float32Array,
  w: Float32Array,
  bias: Float32Array | null,
  s: ConvShape,
): Float32Array {
  const e = exportsOrNull()!;
  const { ptrs, end } = layout([x.length, w.length, bias ? bias.length : 0, x.length]);
  const [pX, pW, pB, pY] = ptrs;
  const m = f32View(e.mem, end);
  m.set(x, pX / 4);
  m.set(w, pW / 4);
  if (bias) m.set(bias, pB / 4);
  m.fill(0, pY / 4, pY / 4 + x.length);
  e.conv_fwd(s.b, s.l, s.c, s.k, s.period, pX, pW, bias ? pB : -1, pY);
  return m.slice(pY / 4, pY / 4 + x.length);
}

export function simdConvBackward(
  x: Float32Array,
  w: Float32Array,
  dy: Float32Array,
  s: ConvShape,
): { dx: Float32Array; dw: Float32Array; dbias: Float32Array } {
  const e = exportsOrNull()!;
  const nb = s.period * s.c;
  const { ptrs, end } = layout([x.length, w.length, dy.length, x.length, w.length, nb]);
  const [pX, pW, pDy, pDx, pDw, pDb] = ptrs;
  const m = f32View(e.mem, end);
  m.set(x, pX / 4);
  m.set(w, pW / 4);
  m.set(dy, pDy / 4);
  m.fill(0, pDx / 4, end / 4);
  e.conv_bwd(s.b, s.l, s.c, s.k, s.period, pX, pW, pDy, pDx, pDw, pDb);
  return {
    dx: m.slice(pDx / 4, pDx / 4 + x.length),
    dw: m.slice(pDw / 4, pDw / 4 + w.length),
    dbias: m.slice(pDb / 4, pDb / 4 + nb),
  };
}
