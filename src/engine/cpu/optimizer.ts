/**
 * The CPU executor's AdamW (kernels/optimizer.ts's `adamw` launch) as WebAssembly SIMD over the arena: four
 * parameters per f32x4 operation, in the kernel's order. Every f32x4 multiply, add, divide and square root is
 * IEEE float32 with one rounding, exactly what the JavaScript's Math.fround after every operation computes, so
 * the two agree bit for bit. The global norm (a float64 sum of the chunk sums) and the clip coefficient stay in
 * JavaScript, as the kernel computes them.
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
import { NORM_CHUNK, type AdamWSpec } from '../kernels/optimizer';

interface AdamWExports {
  /** adamw(n, pParam, pGrad, pM, pV, coef, b1, c1, b2, c2, eps, decay, stepSize, bc2): n a multiple of 4. */
  adamw(...args: number[]): void;
}

const SCALARS = ['coef', 'b1', 'c1', 'b2', 'c2', 'eps', 'decay', 'stepSize', 'bc2'];

function adamwFunc(): FuncBuilder {
  const f = new FuncBuilder('adamw', [
    ...['n', 'pp', 'pg', 'pm', 'pv'].map((p): [string, typeof I32] => [p, I32]),
    ...SCALARS.map((p): [string, typeof F32] => [p, F32]),
  ]);
  f.local('i', I32);
  for (const v of [...SCALARS.map((c) => `${c}4`), 'g', 'm', 'v', 'd']) f.local(v, V128);
  for (const c of SCALARS) f.get(c).simd(SIMD.f32x4Splat).set(`${c}4`);
  const mul = (a: () => void, c: string) => (a(), f.get(c).simd(SIMD.f32x4Mul));
  f.i32(0).set('i');
  whileLt(
    f,
    'i',
    () => f.get('n').i32(2).op(OP.i32Shl),
    () => {
      const at = (p: string) => f.get(p).get('i').op(OP.i32Add);
      mul(() => at('pg').loadV(), 'coef4');
      f.set('g');
      // m = m·β₁ + g·(1 − β₁);  v = v·β₂ + (g·g)·(1 − β₂)
      mul(() => at('pm').loadV(), 'b14');
      mul(() => f.get('g'), 'c14');
      f.simd(SIMD.f32x4Add).set('m');
      mul(() => at('pv').loadV(), 'b24');
      mul(() => f.get('g').get('g').simd(SIMD.f32x4Mul), 'c24');
      f.simd(SIMD.f32x4Add).set('v');
      // denom = √v / bc2 + ε;  θ = θ·decay − (m / denom)·stepSize
      f.get('v').simd(SIMD.f32x4Sqrt).get('bc24').simd(SIMD.f32x4Div).get('eps4').simd(SIMD.f32x4Add).set('d');
      at('pp');
      mul(() => at('pp').loadV(), 'decay4');
      mul(() => f.get('m').get('d').simd(SIMD.f32x4Div), 'stepSize4');
      f.simd(SIMD.f32x4Sub).storeV();
      at('pm').get('m').storeV();
      at('pv').get('v').storeV();
    },
    16,
  );
  return f;
}

const cache = new WeakMap<object, AdamWExports | null>();

function kernels(memory: { buffer: ArrayBuffer }): AdamWExports | null {
  if (!cache.has(memory))
    cache.set(
      memory,
      instantiateModule<AdamWExports>(assembleModule([adamwFunc()], 1, { importMemory: true }), {
        env: { mem: memory },
      }),
    );
  return cache.get(memory)!;
}

/** The AdamW launch on the SIMD kernel for the packed run whose arena starts at `base` (null: no SIMD here). */
export function adamwFastPath(
  memory: { buffer: ArrayBuffer },
  mem: Float32Array,
  s: AdamWSpec,
  base: number,
): (() => void) | null {
  const k = kernels(memory);
  if (!k) return null;
  const fr = Math.fround;
  const [b1, c1, b2, c2, eps] = [s.beta1, 1 - s.beta1, s.beta2, 1 - s.beta2, s.epsilon].map(fr);
  const chunks = Math.ceil(s.total / NORM_CHUNK);
  const n4 = s.total - (s.total % 4);
  const [param, grad, m, v] = [s.param, s.grad, s.m, s.v].map((o) => base + o);
  return () => {
    let sq = 0;
    for (let c = 0; c < chunks; c++) sq += mem[base + s.normPart + c];
    const norm = Math.sqrt(sq);
    mem[base + s.norm] = norm;
    const coef = fr(Math.min(s.maxNorm / (norm + 1e-6), 1));
    const decay = mem[base + s.step];
    const stepSize = mem[base + s.step + 1];
    const bc2 = mem[base + s.step + 2];
    k.adamw(n4, 4 * param, 4 * grad, 4 * m, 4 * v, coef, b1, c1, b2, c2, eps, decay, stepSize, bc2);
    for (let i = n4; i < s.total; i++) {
      const g = fr(mem[grad + i] * coef);
      const mi = fr(fr(mem[m + i] * b1) + fr(g * c1));
      const vi = fr(fr(mem[v + i] * b2) + fr(fr(g * g) * c2));
      const denom = fr(fr(fr(Math.sqrt(vi)) / bc2) + eps);
      mem[param + i] = fr(mem[param + i] * decay) - fr(fr(mi / denom) * stepSize);
      mem[m + i] = mi;
      mem[v + i] = vi;
    }
  };
}
