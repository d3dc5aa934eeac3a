/**
 * The WebAssembly SIMD programs of the selective scan (docs/spec.md §4): f32x4 over the state dimension N.
 * They run the (b, d, l, n) recurrences only; simd.ts does the per-element work around them (softplus of
 * Δ, the SiLU(z) gate, transposes, the D and Δ-bias sums) in JS.
 *
 * Memory layout (byte pointers passed as arguments, all float32):
 *   u, dt (softplus already applied), y, dy, gradients of u and Δ: [B, d, L];
 *   A, ∂A: [d, N]; Bt, Ct, ∂Bt, ∂Ct: [B, L, N] (B and C transposed so n is contiguous).
 * N must be a multiple of 4; each module is built for one N (loops over n unrolled, vectors in locals).
 *
 * exp(x) is a vector polynomial with range reduction: x clamped to [−87, 88], k = nearest(x·log₂e),
 * f = x − k·ln2 (ln2 split in a high part exact under multiplication by k, and a low part), e^f by its
 * degree-7 Taylor polynomial (|f| ≤ ln2/2, truncation < 1e-8), times 2^k built in the exponent bits.
 * Below −87 it returns e^−87 ≈ 1.6e-38 rather than a subnormal or 0: Ā·h is then ~1e-38·h, immaterial.
 */
import { F32, FuncBuilder, I32, OP, SIMD, V128, assembleModule } from '../../util/wasm-assembler';

const EXP_CONSTS: [string, number][] = [
  ['cHi', 88],
  ['cLo', -87],
  ['cLog2e', Math.LOG2E],
  ['cLn2Hi', 0.693359375],
  ['cLn2Lo', -2.1219444e-4],
  ['c1', 1],
  ['c2', 1 / 2],
  ['c3', 1 / 6],
  ['c4', 1 / 24],
  ['c5', 1 / 120],
  ['c6', 1 / 720],
  ['c7', 1 / 5040],
];

/** Hoists the exp constants into v128 locals (once per call, outside the loops). */
export function expConstants(f: FuncBuilder): void {
  for (const [name, v] of EXP_CONSTS) {
    f.local(name, V128);
    f.f32(v).simd(SIMD.f32x4Splat).set(name);
  }
  f.local('i127', V128);
  f.i32(127).simd(SIMD.i32x4Splat).set('i127');
  f.local('ex', V128);
  f.local('ek', V128);
}

/** Replaces the v128 on top of the stack by its lane-wise exp. */
export function exp4(f: FuncBuilder): void {
  const mul = (): void => void f.simd(SIMD.f32x4Mul);
  const add = (): void => void f.simd(SIMD.f32x4Add);
  f.get('cHi').simd(SIMD.f32x4Min).get('cLo').simd(SIMD.f32x4Max).tee('ex');
  f.get('cLog2e');
  mul();
  f.simd(SIMD.f32x4Nearest).set('ek');
  // f = x − k·ln2_hi − k·ln2_lo
  f.get('ex').get('ek').get('cLn2Hi');
  mul();
  f.simd(SIMD.f32x4Sub).get('ek').get('cLn2Lo');
  mul();
  f.simd(SIMD.f32x4Sub).set('ex');
  // Horner: ((c7·f + c6)·f + … + c1)·f + 1
  f.get('c7');
  for (const c of ['c6', 'c5', 'c4', 'c3', 'c2', 'c1', 'c1']) {
    f.get('ex');
    mul();
    f.get(c);
    add();
  }
  // · 2^k: (k + 127) << 23 reinterpreted as f32.
  f.get('ek').simd(SIMD.i32x4TruncSatF32x4S).get('i127').simd(SIMD.i32x4Add).i32(23).simd(SIMD.i32x4Shl);
  mul();
}

/** Pushes the sum of the four lanes of a v128 local. */
function hsum(f: FuncBuilder, name: string): void {
  f.get(name).simd(SIMD.f32x4ExtractLane, 0);
  for (let lane = 1; lane < 4; lane++) f.get(name).simd(SIMD.f32x4ExtractLane, lane).op(OP.f32Add);
}

/** ptr + 4·(index expression already on the stack). */
function scale4(f: FuncBuilder): FuncBuilder {
  return f.i32(2).op(OP.i32Shl);
}

/** `loop … (counter += step) while counter < limit` (a do-while: the body runs at least once). */
function countUp(f: FuncBuilder, counter: string, step: number, limit: string, body: () => void): void {
  f.i32(0).set(counter);
  f.op(OP.loop, 0x40);
  body();
  f.get(counter).i32(step).op(OP.i32Add).tee(counter).get(limit).op(OP.i32LtS).op(OP.brIf, 0);
  f.op(OP.end);
}

const I32_PARAMS = (names: string[]): [string, typeof I32][] => names.map((n) => [n, I32]);

/** Declares `count` v128 locals `prefix0`, `prefix1`, … and returns their names. */
function vecLocals(f: FuncBuilder, prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, j) => {
    f.local(`${prefix}${j}`, V128);
    return `${prefix}${j}`;
  });
}

/**
 * scan_fwd: y[b,d,l] = Σ_n h[l,n]·C[b,n,l], h[l] = exp(dt·A)·h[l−1] + dt·u·B[l]. Built for one N: the N/4
 * vectors of h and of the A row live in locals (registers) and the loop over n is unrolled.
 */
function forwardFunc(nState: number): FuncBuilder {
  const f = new FuncBuilder(
    'scan_fwd',
    I32_PARAMS(['batch', 'dim', 'len', 'nState', 'pU', 'pDt', 'pA', 'pBt', 'pCt', 'pY', 'pH']),
  );
  const nv = nState / 4;
  const rowBytes = nState * 4;
  for (const n of ['b', 'd', 'l', 'i', 'pBl', 'pCl', 'bc']) f.local(n, I32);
  f.local('dt', F32);
  for (const n of ['dtv', 'dtu', 'yacc']) f.local(n, V128);
  const h = vecLocals(f, 'h', nv);
  const a = vecLocals(f, 'a', nv);
  expConstants(f);
  countUp(f, 'b', 1, 'batch', () => {
    f.get('b').get('len').op(OP.i32Mul).i32(rowBytes).op(OP.i32Mul).set('bc'); // b·L·N·4
    countUp(f, 'd', 1, 'dim', () => {
      for (let j = 0; j < nv; j++) {
        f.f32(0).simd(SIMD.f32x4Splat).set(h[j]);
        f.get('pA')
          .get('d')
          .i32(rowBytes)
          .op(OP.i32Mul)
          .op(OP.i32Add)
          .loadV(16 * j)
          .set(a[j]);
      }
      f.get('b').get('dim').op(OP.i32Mul).get('d').op(OP.i32Add).get('len').op(OP.i32Mul).set('i'); // (b·dim + d)·L
      f.get('pBt').get('bc').op(OP.i32Add).set('pBl');
      f.get('pCt').get('bc').op(OP.i32Add).set('pCl');
      countUp(f, 'l', 1, 'len', () => {
        f.get('pDt');
        scale4(f.get('i')).op(OP.i32Add).loadF32().tee('dt').simd(SIMD.f32x4Splat).set('dtv');
        f.get('dt').get('pU');
        scale4(f.get('i')).op(OP.i32Add).loadF32().op(OP.f32Mul).simd(SIMD.f32x4Splat).set('dtu');
        f.f32(0).simd(SIMD.f32x4Splat).set('yacc');
        for (let j = 0; j < nv; j++) {
          f.get('dtv').get(a[j]).simd(SIMD.f32x4Mul);
          exp4(f);
          f.get(h[j]).simd(SIMD.f32x4Mul);
          f.get('dtu')
            .get('pBl')
            .loadV(16 * j)
            .simd(SIMD.f32x4Mul)
            .simd(SIMD.f32x4Add)
            .tee(h[j]);
          f.get('pCl')
            .loadV(16 * j)
            .simd(SIMD.f32x4Mul)
            .get('yacc')
            .simd(SIMD.f32x4Add)
            .set('yacc');
        }
        f.get('pY');
        scale4(f.get('i')).op(OP.i32Add);
        hsum(f, 'yacc');
        f.storeF32();
        f.get('i').i32(1).op(OP.i32Add).set('i');
        f.get('pBl').i32(rowBytes).op(OP.i32Add).set('pBl');
        f.get('pCl').i32(rowBytes).op(OP.i32Add).set('pCl');
      });
    });
  });
  return f;
}

/**
 * scan_bwd: per (b, d) row, replays h into pHs (row l at pHs + (l+1)·N·4; the first row is zero, so
 * h[−1] = 0) and Ā into pAbar, then runs the reverse recurrence ĥ[l] = dO[l]·C[l] + Ā[l+1]·ĥ[l+1]
 * (carry = Ā[l+1]·ĥ[l+1]). With hasZ, dO = dy·z·σ(z) and ∂z = dy·o·σ(z)·(1 + z·(1 − σ(z))), o = y + D·u,
 * σ(z) read from pSg. Writes ∂u, ∂ρ (= ∂dt·dsp, dsp = softplus′ or 1), ∂z and dOg (the gated dO, for ∂D
 * in JS) per element; accumulates ∂Bt, ∂Ct (zeroed by the caller) and ∂A (per row in registers, then
 * added). Built for one N: A row, carry and the row's ∂A live in locals; the loop over n is unrolled.
 */
function backwardFunc(nState: number): FuncBuilder {
  const f = new FuncBuilder(
    'scan_bwd',
    I32_PARAMS([
      'batch',
      'dim',
      'len',
      'nState',
      'hasZ',
      'pU',
      'pDt',
      'pDsp',
      'pZ',
      'pSg',
      'pDy',
      'pA',
      'pD',
      'pBt',
      'pCt',
      'pGu',
      'pGdelta',
      'pGz',
      'pDOg',
      'pDA',
      'pDBt',
      'pDCt',
      'pHs',
      'pAbar',
      'pCarry',
    ]),
  );
  const nv = nState / 4;
  const rowBytes = nState * 4;
  for (const n of ['b', 'd', 'l', 'i0', 'i4', 'pDAd', 'bc', 'k', 'pHp', 'pAbl', 'pB', 'pC', 'pDB', 'pDC'])
    f.local(n, I32);
  for (const n of ['dt', 'dS', 'dO', 'uu', 'sg', 'zz', 'o']) f.local(n, F32);
  for (const n of ['dtv', 'dtu', 'dOv', 'uv', 'hh', 'hv', 'bn', 'ab', 'prev', 'acc', 'shb', 'ddt']) f.local(n, V128);
  const h = vecLocals(f, 'h', nv);
  const a = vecLocals(f, 'a', nv);
  const carry = vecLocals(f, 'carry', nv);
  const dA = vecLocals(f, 'dA', nv);
  expConstants(f);
  const zero = (name: string): void => void f.f32(0).simd(SIMD.f32x4Splat).set(name);
  const at = (base: string, off: string): void => void f.get(base).get(off).op(OP.i32Add);
  /** Row pointers for step l: k = l·N·4, pHp = pHs + k (h[l−1]; h[l] is +N·4), pAbl = pAbar + k. */
  const rowPointers = (): void => {
    scale4(f.get('i0').get('l').op(OP.i32Add)).set('i4');
    f.get('l').i32(rowBytes).op(OP.i32Mul).set('k');
    at('pHs', 'k');
    f.set('pHp');
    at('pAbar', 'k');
    f.set('pAbl');
    f.get('bc').get('k').op(OP.i32Add).set('k'); // now the offset of (b, l) in Bt/Ct
    for (const [p, base] of [
      ['pB', 'pBt'],
      ['pC', 'pCt'],
      ['pDB', 'pDBt'],
      ['pDC', 'pDCt'],
    ]) {
      at(base, 'k');
      f.set(p);
    }
  };
  countUp(f, 'b', 1, 'batch', () => {
    f.get('b').get('len').op(OP.i32Mul).i32(rowBytes).op(OP.i32Mul).set('bc');
    countUp(f, 'd', 1, 'dim', () => {
      f.get('pDA').get('d').i32(rowBytes).op(OP.i32Mul).op(OP.i32Add).set('pDAd');
      for (let j = 0; j < nv; j++) {
        f.get('pA')
          .get('d')
          .i32(rowBytes)
          .op(OP.i32Mul)
          .op(OP.i32Add)
          .loadV(16 * j)
          .set(a[j]);
        zero(h[j]);
        zero(carry[j]);
        zero(dA[j]);
      }
      f.get('pD');
      scale4(f.get('d')).op(OP.i32Add).loadF32().set('dS');
      f.get('b').get('dim').op(OP.i32Mul).get('d').op(OP.i32Add).get('len').op(OP.i32Mul).set('i0');
      // Replay.
      countUp(f, 'l', 1, 'len', () => {
        rowPointers();
        at('pDt', 'i4');
        f.loadF32().tee('dt').simd(SIMD.f32x4Splat).set('dtv');
        f.get('dt');
        at('pU', 'i4');
        f.loadF32().op(OP.f32Mul).simd(SIMD.f32x4Splat).set('dtu');
        for (let j = 0; j < nv; j++) {
          f.get('pAbl');
          f.get('dtv').get(a[j]).simd(SIMD.f32x4Mul);
          exp4(f);
          f.tee('ab').storeV(16 * j);
          f.get('pHp');
          f.get('ab').get(h[j]).simd(SIMD.f32x4Mul);
          f.get('dtu')
            .get('pB')
            .loadV(16 * j)
            .simd(SIMD.f32x4Mul)
            .simd(SIMD.f32x4Add)
            .tee(h[j]);
          f.storeV(rowBytes + 16 * j);
        }
      });
      // Reverse: l from L−1 down to 0.
      f.get('len').i32(1).op(OP.i32Sub).set('l');
      f.op(OP.loop, 0x40);
      {
        rowPointers();
        at('pDy', 'i4');
        f.loadF32().set('dO');
        at('pU', 'i4');
        f.loadF32().set('uu');
        at('pDt', 'i4');
        f.loadF32().set('dt');
        f.get('hasZ').op(OP.if, 0x40);
        {
          zero('acc');
          for (let j = 0; j < nv; j++) {
            f.get('acc')
              .get('pHp')
              .loadV(rowBytes + 16 * j)
              .get('pC')
              .loadV(16 * j);
            f.simd(SIMD.f32x4Mul).simd(SIMD.f32x4Add).set('acc');
          }
          hsum(f, 'acc');
          f.get('dS').get('uu').op(OP.f32Mul).op(OP.f32Add).set('o');
          at('pSg', 'i4');
          f.loadF32().set('sg');
          at('pZ', 'i4');
          f.loadF32().set('zz');
          at('pGz', 'i4'); // ∂z = dO·o·σ·(1 + z·(1 − σ))
          f.get('dO').get('o').op(OP.f32Mul).get('sg').op(OP.f32Mul);
          f.f32(1).get('zz').f32(1).get('sg').op(OP.f32Sub).op(OP.f32Mul).op(OP.f32Add).op(OP.f32Mul);
          f.storeF32();
          f.get('dO').get('zz').op(OP.f32Mul).get('sg').op(OP.f32Mul).set('dO');
        }
        f.op(OP.end);
        at('pDOg', 'i4');
        f.get('dO').storeF32();
        f.get('dO').simd(SIMD.f32x4Splat).set('dOv');
        f.get('dt').simd(SIMD.f32x4Splat).set('dtv');
        f.get('uu').simd(SIMD.f32x4Splat).set('uv');
        f.get('dt').get('uu').op(OP.f32Mul).simd(SIMD.f32x4Splat).set('dtu');
        zero('shb');
        zero('ddt');
        for (let j = 0; j < nv; j++) {
          const o = 16 * j;
          // hh = dO·C + carry
          f.get('dOv').get('pC').loadV(o).simd(SIMD.f32x4Mul).get(carry[j]).simd(SIMD.f32x4Add).set('hh');
          f.get('pHp')
            .loadV(rowBytes + o)
            .set('hv');
          f.get('pB').loadV(o).set('bn');
          // prev = Ā[l]·h[l−1]
          f.get('pAbl').loadV(o).tee('ab').get('pHp').loadV(o).simd(SIMD.f32x4Mul).set('prev');
          // ∂Ct += dO·h
          f.get('pDC').get('pDC').loadV(o).get('dOv').get('hv').simd(SIMD.f32x4Mul).simd(SIMD.f32x4Add).storeV(o);
          // shb += hh·B
          f.get('shb').get('hh').get('bn').simd(SIMD.f32x4Mul).simd(SIMD.f32x4Add).set('shb');
          // ddt += hh·(A·prev + B·u)
          f.get('ddt').get('hh').get(a[j]).get('prev').simd(SIMD.f32x4Mul);
          f.get('bn').get('uv').simd(SIMD.f32x4Mul).simd(SIMD.f32x4Add).simd(SIMD.f32x4Mul);
          f.simd(SIMD.f32x4Add).set('ddt');
          // ∂A (row) += hh·dt·prev
          f.get(dA[j]).get('hh').get('dtv').simd(SIMD.f32x4Mul).get('prev').simd(SIMD.f32x4Mul);
          f.simd(SIMD.f32x4Add).set(dA[j]);
          // ∂Bt += hh·dt·u
          f.get('pDB').get('pDB').loadV(o).get('hh').get('dtu').simd(SIMD.f32x4Mul).simd(SIMD.f32x4Add).storeV(o);
          // carry = Ā[l]·hh
          f.get('ab').get('hh').simd(SIMD.f32x4Mul).set(carry[j]);
        }
        // ∂u = dO·D + dt·Σ hh·B
        at('pGu', 'i4');
        f.get('dO').get('dS').op(OP.f32Mul).get('dt');
        hsum(f, 'shb');
        f.op(OP.f32Mul).op(OP.f32Add).storeF32();
        // ∂ρ = (Σ ddt)·dsp
        at('pGdelta', 'i4');
        hsum(f, 'ddt');
        at('pDsp', 'i4');
        f.loadF32().op(OP.f32Mul).storeF32();
        f.get('l').i32(1).op(OP.i32Sub).tee('l').i32(0).op(OP.i32GeS).op(OP.brIf, 0);
      }
      f.op(OP.end);
      for (let j = 0; j < nv; j++) {
        f.get('pDAd')
          .get('pDAd')
          .loadV(16 * j)
          .get(dA[j])
          .simd(SIMD.f32x4Add)
          .storeV(16 * j);
      }
    });
  });
  return f;
}

/**
 * Element-wise helpers over `count` floats (rounded up to whole vectors; buffers are 16-byte padded):
 * softplus4: dt = softplus(r) = max(r, 0) + log1p(e^−|r|) and dsp = σ(r) (softplus′);
 * sigmoid4: sg = σ(z). With t = e^−|x| ∈ (0, 1]: σ(x) = 1/(1 + t) for x ≥ 0, t/(1 + t) otherwise, and
 * log1p(t) = 2·atanh(s), s = t/(2 + t) ∈ (0, 1/3], by its odd series to s^15 (next term < 2e-9 relative),
 * computed from t directly so small t loses nothing to 1 + t.
 */
function elementwiseFunc(name: 'softplus4' | 'sigmoid4'): FuncBuilder {
  const withLog = name === 'softplus4';
  const f = new FuncBuilder(name, I32_PARAMS(withLog ? ['count', 'pR', 'pDt', 'pDsp'] : ['count', 'pR', 'pSg']));
  f.local('k', I32);
  f.local('limit', I32);
  for (const n of ['r', 't', 'q', 's', 's2']) f.local(n, V128);
  expConstants(f);
  scale4(f.get('count')).set('limit');
  countUp(f, 'k', 16, 'limit', () => {
    f.get('pR').get('k').op(OP.i32Add).loadV().tee('r');
    f.simd(SIMD.f32x4Abs).simd(SIMD.f32x4Neg);
    exp4(f);
    f.set('t');
    // q = 1/(1 + t); σ = r ≥ 0 ? q : t·q
    f.get('c1').get('c1').get('t').simd(SIMD.f32x4Add).simd(SIMD.f32x4Div).set('q');
    f.get(withLog ? 'pDsp' : 'pSg')
      .get('k')
      .op(OP.i32Add);
    f.get('q').get('t').get('q').simd(SIMD.f32x4Mul).get('r').f32(0).simd(SIMD.f32x4Splat).simd(SIMD.f32x4Ge);
    f.simd(SIMD.bitselect).storeV();
    if (!withLog) return;
    f.get('t').get('c1').get('c1').simd(SIMD.f32x4Add).get('t').simd(SIMD.f32x4Add).simd(SIMD.f32x4Div).tee('s');
    f.get('s').simd(SIMD.f32x4Mul).set('s2');
    f.f32(1 / 15).simd(SIMD.f32x4Splat);
    for (const c of [1 / 13, 1 / 11, 1 / 9, 1 / 7, 1 / 5, 1 / 3, 1]) {
      f.get('s2').simd(SIMD.f32x4Mul).f32(c).simd(SIMD.f32x4Splat).simd(SIMD.f32x4Add);
    }
    f.get('s').simd(SIMD.f32x4Mul).tee('q').get('q').simd(SIMD.f32x4Add).set('q');
    f.get('pDt').get('k').op(OP.i32Add);
    f.get('r').f32(0).simd(SIMD.f32x4Splat).simd(SIMD.f32x4Max).get('q').simd(SIMD.f32x4Add).storeV();
  });
  return f;
}

/**
 * transpose: dst[b, j, i] = src[b, i, j] for src [batch, p, q] (scalar f32 copies; the token-major scan's
 * layout changes, several times faster here than in JS).
 */
function transposeFunc(): FuncBuilder {
  const f = new FuncBuilder('transpose', I32_PARAMS(['batch', 'p', 'q', 'pSrc', 'pDst']));
  for (const n of ['b', 'i', 'j', 's', 'd', 'stride']) f.local(n, I32);
  f.get('pSrc').set('s');
  scale4(f.get('p')).set('stride');
  countUp(f, 'b', 1, 'batch', () => {
    countUp(f, 'i', 1, 'p', () => {
      // d = pDst + (b·p·q + i)·4
      f.get('pDst');
      scale4(f.get('b').get('p').op(OP.i32Mul).get('q').op(OP.i32Mul).get('i').op(OP.i32Add));
      f.op(OP.i32Add).set('d');
      countUp(f, 'j', 1, 'q', () => {
        f.get('d').get('s').loadF32().storeF32();
        f.get('s').i32(4).op(OP.i32Add).set('s');
        f.get('d').get('stride').op(OP.i32Add).set('d');
      });
    });
  });
  return f;
}

/** The largest N the unrolled kernels are built for (beyond it the locals would only spill). */
export const SIMD_MAX_STATE = 64;

/** The module's bytes for state size N (a multiple of 4, ≤ SIMD_MAX_STATE): exports `mem`, `scan_fwd`, `scan_bwd`, `softplus4`, `sigmoid4`, `transpose`. */
export function scanModuleBytes(nState: number): Uint8Array {
  if (!(Number.isInteger(nState) && nState > 0 && nState % 4 === 0 && nState <= SIMD_MAX_STATE)) {
    throw new Error(
      `Error in scanModuleBytes: nState must be a multiple of 4 in [4, ${SIMD_MAX_STATE}], got ${nState}.`,
    );
  }
  const funcs = [
    forwardFunc(nState),
    backwardFunc(nState),
    elementwiseFunc('softplus4'),
    elementwiseFunc('sigmoid4'),
    transposeFunc(),
  ];
  return assembleModule(funcs);
}
