/**
 * A WebAssembly SIMD batched matrix product C[b] = A[b]·B[b] for the wasm backend. tfjs-backend-wasm
 * (4.22) sends every BatchMatMul with batch > 1 to its scalar fallback (about 1.2 GFLOP/s here against
 * 12–15 for a 2-D product through XNNPACK), which made DT's attention products (Q·Kᵀ and P·V and their
 * four gradient products, [B·h, 3K, ·]) most of its training step. This kernel runs them at several
 * times that speed. Each output element is the plain sequential float32 sum Σ_k a_ik·b_kj (a multiply
 * then an add per term, no FMA), so it equals the reference product to float32 round-off.
 *
 * It is the wasm kernel `KitBatchMatMul` (./kernel.ts: operands read from and the result written to the
 * wasm heap directly), used by `batchMatMul` when the backend is wasm, the shapes are rank 3 with equal
 * batch, m is a multiple of 4 and this runtime has WebAssembly SIMD; tf.matMul otherwise.
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

/** Columns per register tile: 4 f32x4 accumulators. */
const TILE = 16;

/**
 * bmm(batch, n, k, m, pA, pB, pC): byte pointers to row-major A [batch, n, k], B [batch, k, m] and
 * C [batch, n, m]; m a multiple of 4. Per row i of A: column tiles of 16 (then of 4) accumulate over k in
 * vector locals, then are stored.
 */
function bmmFunc(): FuncBuilder {
  const f = new FuncBuilder(
    'bmm',
    ['batch', 'n', 'k', 'm', 'pA', 'pB', 'pC'].map((p): [string, typeof I32] => [p, I32]),
  );
  for (const v of ['b', 'i', 'j', 'kk', 'pa', 'pb', 'pc', 'bBase', 'rowB', 'jEnd16']) f.local(v, I32);
  const acc = [0, 1, 2, 3].map((t) => {
    f.local(`c${t}`, V128);
    return `c${t}`;
  });
  f.local('av', V128);
  // rowB = m·4 bytes; jEnd16 = m − m mod 16
  f.get('m').i32(2).op(OP.i32Shl).set('rowB');
  f.get('m').i32(-TILE).op(OP.i32And).set('jEnd16');
  f.i32(0).set('b');
  whileLt(
    f,
    'b',
    () => f.get('batch'),
    () => {
      // bBase = pB + b·k·m·4
      f.get('pB').get('b').get('k').op(OP.i32Mul).get('rowB').op(OP.i32Mul).op(OP.i32Add).set('bBase');
      f.i32(0).set('i');
      whileLt(
        f,
        'i',
        () => f.get('n'),
        () => {
          const tile = (width: number) => {
            const nv = width / 4;
            for (let t = 0; t < nv; t++) f.f32(0).simd(SIMD.f32x4Splat).set(acc[t]);
            // pa = pA + ((b·n + i)·k)·4; pb = bBase + j·4
            f.get('b').get('n').op(OP.i32Mul).get('i').op(OP.i32Add).get('k').op(OP.i32Mul);
            f.i32(2).op(OP.i32Shl).get('pA').op(OP.i32Add).set('pa');
            f.get('j').i32(2).op(OP.i32Shl).get('bBase').op(OP.i32Add).set('pb');
            f.i32(0).set('kk');
            whileLt(
              f,
              'kk',
              () => f.get('k'),
              () => {
                f.get('pa').op(OP.f32Load, 2, 0).simd(SIMD.f32x4Splat).set('av');
                for (let t = 0; t < nv; t++) {
                  f.get(acc[t])
                    .get('av')
                    .get('pb')
                    .loadV(16 * t)
                    .simd(SIMD.f32x4Mul)
                    .simd(SIMD.f32x4Add)
                    .set(acc[t]);
                }
                f.get('pa').i32(4).op(OP.i32Add).set('pa');
                f.get('pb').get('rowB').op(OP.i32Add).set('pb');
              },
            );
            // pc = pC + ((b·n + i)·m + j)·4
            f.get('b').get('n').op(OP.i32Mul).get('i').op(OP.i32Add).get('m').op(OP.i32Mul).get('j').op(OP.i32Add);
            f.i32(2).op(OP.i32Shl).get('pC').op(OP.i32Add).set('pc');
            for (let t = 0; t < nv; t++)
              f.get('pc')
                .get(acc[t])
                .storeV(16 * t);
          };
          f.i32(0).set('j');
          whileLt(
            f,
            'j',
            () => f.get('jEnd16'),
            () => tile(TILE),
            TILE,
          );
          whileLt(
            f,
            'j',
            () => f.get('m'),
            () => tile(4),
            4,
          );
        },
      );
    },
  );
  return f;
}

interface BmmExports {
  mem: WasmMemory;
  bmm: (batch: number, n: number, k: number, m: number, pA: number, pB: number, pC: number) => void;
}

let instance: BmmExports | null | undefined;

/** The instantiated module, or null where WebAssembly SIMD is missing (exported for the tests). */
export function bmmExports(): BmmExports | null {
  if (instance === undefined) instance = instantiateModule<BmmExports>(assembleModule([bmmFunc()]));
  return instance;
}

/**
 * C = A·B per batch on plain Float32Arrays (a [batch, n, k], b [batch, k, m], m % 4 = 0) through the
 * module's own memory: A and B are copied in, C copied out.
 */
export function batchMatMulInto(
  a: Float32Array,
  b: Float32Array,
  out: Float32Array,
  batch: number,
  n: number,
  k: number,
  m: number,
): void {
  const w = bmmExports()!;
  const pA = 0;
  const pB = pA + a.length * 4;
  const pC = pB + b.length * 4;
  const mem = f32View(w.mem, pC + out.length * 4);
  mem.set(a, pA / 4);
  mem.set(b, pB / 4);
  w.bmm(batch, n, k, m, pA, pB, pC);
  out.set(mem.subarray(pC / 4, pC / 4 + out.length));
}
