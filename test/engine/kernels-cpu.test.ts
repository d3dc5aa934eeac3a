/**
 * The CPU executor's SIMD kernels against the kernels' float64 JavaScript (the reference), launch by launch,
 * on fresh random arenas: the matrix product in every operand layout the DMM program uses (rows by m or k,
 * B rows by n transposed first, a windowed A, B rows read in reverse blocks, split reductions, remainders in
 * rows and columns, reductions and row counts past one packed block, every epilogue, a dropout mask) and the
 * selective scan forward and backward.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Arena, dense, type Launch, type Program, type Rows } from '../../src/engine/program';
import { gemm, type GemmSpec } from '../../src/engine/kernels/gemm';
import { scanBackward, scanForward, type ScanBackwardSpec, type ScanSpec } from '../../src/engine/kernels/scan';
import {
  attention,
  attentionBackward,
  type AttentionBackwardSpec,
  type AttentionSpec,
} from '../../src/engine/kernels/attention';
import { dropoutMul, type DropoutMulSpec } from '../../src/engine/kernels/dropout';
import {
  layerNorm,
  layerNormBackward,
  type LayerNormBackwardSpec,
  type LayerNormSpec,
} from '../../src/engine/kernels/layer-norm';
import { adamw, type AdamWSpec } from '../../src/engine/kernels/optimizer';
import { CpuExecutor } from '../../src/engine/cpu/executor';
import { Rng } from '../../src/util/rng';

/** A one-launch program over an arena of `size` floats. */
function program(size: number, launch: Launch): Program {
  const arena = new Arena();
  arena.alloc('all', size, 'scratch');
  const ctl = new Arena(1);
  ctl.alloc('keys', 2, 'step');
  return {
    key: 'test',
    arena,
    ctl,
    launches: [launch],
    params: new Map(),
    frozen: new Map(),
    inputs: {},
    ctlInputs: {},
    dropoutSites: [],
    outputs: {},
    training: false,
  };
}

/** Runs the launch on the SIMD path (float32) and the float64 reference from the same random arena. */
function compare(size: number, launch: Launch, outputs: [number, number][], seed: number): number {
  const p = program(size, launch);
  const fast = new CpuExecutor(p);
  const ref = new CpuExecutor(p, { precision: 'float64' });
  assert.equal(fast.simdLaunches, 1, `${launch.label} must take the SIMD path`);
  const rng = new Rng(seed);
  for (let i = 0; i < size; i++) {
    const v = Math.fround(rng.normal() * 0.5);
    fast.mem[i] = v;
    ref.mem[i] = v;
  }
  fast.ctlWords.set([0x9e3779b9, 0x7f4a7c15]); // dropout keys, for epilogues with a mask
  ref.ctlWords.set(fast.ctlWords);
  fast.run();
  ref.run();
  let num = 0;
  let den = 1e-30;
  for (const [off, n] of outputs)
    for (let i = off; i < off + n; i++) {
      num = Math.max(num, Math.abs(fast.mem[i] - ref.mem[i]));
      den = Math.max(den, Math.abs(ref.mem[i]));
    }
  return num / den;
}

const TOL = 1e-5;

describe('CPU SIMD matrix product = float64 reference', () => {
  const M = 37; // rows past a multiple of 4
  const cases: { label: string; spec: (base: number) => GemmSpec; size: number }[] = [];
  // NT: x [M, 20] · W [13, 20]ᵀ + bias, with a residual (columns past 8 and past 4).
  cases.push({
    label: 'rows by m, weight rows by n, bias, residual',
    size: 4000,
    spec: () => ({
      M,
      N: 13,
      K: 20,
      a: { rows: dense(0, M, 20), major: 'm' },
      b: { rows: dense(800, 13, 20), major: 'n' },
      bias: 1100,
      out: dense(1200, M, 13),
      epilogue: { kind: 'add', r: dense(1800, M, 13) },
    }),
  });
  // NN with the DSM's overlapping windows (k = 3 rows of D = 8, padded sequences of L = 5) and reversed blocks.
  const L = 5;
  const D = 8;
  const k = 3;
  const win: Rows = { off: 0, g: L, gs: (L + k - 1) * D, rs: D };
  cases.push({
    label: 'windowed A, B rows in reverse blocks (the DSM input gradient)',
    size: 4000,
    spec: () => ({
      M: 4 * L,
      N: D,
      K: k * D,
      a: { rows: win, major: 'm' },
      b: { rows: { off: 1000 + (k - 1) * D, g: D, gs: -D, rs: k * D }, major: 'k' },
      out: dense(2000, 4 * L, D),
    }),
  });
  // TN weight gradient with 3 slices, windowed B.
  cases.push({
    label: 'rows by k on both sides, 3 reduction slices (a weight gradient)',
    size: 6000,
    spec: () => ({
      M: D,
      N: k * D,
      K: 4 * L,
      a: { rows: dense(1000, 4 * L, D), major: 'k' },
      b: { rows: win, major: 'k' },
      out: dense(3000, D, k * D),
      splits: 3,
      sliceStride: D * k * D,
    }),
  });
  cases.push({
    label: 'SiLU split epilogue',
    size: 8000,
    spec: () => ({
      M,
      N: 24,
      K: 16,
      a: { rows: dense(0, M, 16), major: 'm' },
      b: { rows: dense(700, 16, 24), major: 'k' },
      out: dense(1200, M, 24),
      epilogue: { kind: 'silu-split', cols: 12, s: dense(2200, M, 12) },
    }),
  });
  cases.push({
    label: 'SiLU gradient epilogue',
    size: 8000,
    spec: () => ({
      M,
      N: 12,
      K: 16,
      a: { rows: dense(0, M, 16), major: 'm' },
      b: { rows: dense(700, 16, 12), major: 'k' },
      out: dense(1200, M, 12),
      epilogue: { kind: 'silu-grad', r: dense(2200, M, 12), z: dense(3000, M, 24) },
    }),
  });
  cases.push({
    label: 'GELU epilogue with bias (the MLP forward)',
    size: 8000,
    spec: () => ({
      M,
      N: 24,
      K: 16,
      a: { rows: dense(0, M, 16), major: 'm' },
      b: { rows: dense(700, 24, 16), major: 'n' },
      bias: 1150,
      out: dense(1200, M, 24),
      epilogue: { kind: 'act', fn: 'gelu', s: dense(2200, M, 24) },
    }),
  });
  for (const [label, epilogue] of [
    ['ReLU epilogue', { kind: 'act', fn: 'relu', s: dense(2200, M, 24) }],
    ['ReLU gradient epilogue', { kind: 'act-grad', fn: 'relu', z: dense(3000, M, 24) }],
  ] as const)
    cases.push({
      label,
      size: 8000,
      spec: () => ({
        M,
        N: 24,
        K: 16,
        a: { rows: dense(0, M, 16), major: 'm' },
        b: { rows: dense(700, 24, 16), major: 'n' },
        out: dense(1200, M, 24),
        epilogue,
      }),
    });
  cases.push({
    label: 'GELU gradient epilogue',
    size: 8000,
    spec: () => ({
      M,
      N: 12,
      K: 16,
      a: { rows: dense(0, M, 16), major: 'm' },
      b: { rows: dense(700, 16, 12), major: 'k' },
      out: dense(1200, M, 12),
      epilogue: { kind: 'act-grad', fn: 'gelu', z: dense(3000, M, 12) },
    }),
  });
  cases.push({
    label: 'residual add with a dropped-out branch and bias',
    size: 4000,
    spec: () => ({
      M,
      N: 13,
      K: 20,
      a: { rows: dense(0, M, 20), major: 'm' },
      b: { rows: dense(800, 13, 20), major: 'n' },
      bias: 1100,
      out: dense(1200, M, 13),
      epilogue: { kind: 'add', r: dense(1800, M, 13), dropout: { p: 0.3, key: 0 } },
    }),
  });
  cases.push({
    label: 'column sums in 3 slices (a bias gradient)',
    size: 4000,
    spec: () => ({
      M: 13,
      N: 1,
      K: 4 * L,
      a: { rows: { off: 0, g: L, gs: 7 * 13, rs: 13 }, major: 'k' },
      b: { ones: true },
      out: dense(3000, 13, 1),
      splits: 3,
      sliceStride: 13,
    }),
  });
  cases.push({
    label: 'two columns, weight rows by k, residual (dt_proj at D < 64)',
    size: 4000,
    spec: () => ({
      M,
      N: 2,
      K: 20,
      a: { rows: dense(0, M, 20), major: 'm' },
      b: { rows: dense(800, 20, 2), major: 'k' },
      out: dense(1200, M, 2),
      epilogue: { kind: 'add', r: dense(1800, M, 2) },
    }),
  });
  // Past one packed block: K over the 256-deep reduction block, M over the 64-row block, N = 45 (five 8-column
  // panels, a 4-column one and one column in JS); in both A layouts, B rows by k and by n, with split slices.
  const MB = 70;
  const KB = 600;
  const NB = 45;
  cases.push({
    label: 'blocked: rows by m, weight rows by n (K past one reduction block, M past one row block)',
    size: MB * KB + NB * KB + MB * NB + 64,
    spec: () => ({
      M: MB,
      N: NB,
      K: KB,
      a: { rows: dense(0, MB, KB), major: 'm' },
      b: { rows: dense(MB * KB, NB, KB), major: 'n' },
      out: dense(MB * KB + NB * KB, MB, NB),
    }),
  });
  cases.push({
    label: 'blocked: rows by k on both sides, 2 slices (a weight gradient over 600 tokens)',
    size: KB * MB + KB * NB + 2 * MB * NB + 64,
    spec: () => ({
      M: MB,
      N: NB,
      K: KB,
      a: { rows: dense(0, KB, MB), major: 'k' },
      b: { rows: dense(KB * MB, KB, NB), major: 'k' },
      out: dense(KB * MB + KB * NB, MB, NB),
      splits: 2,
      sliceStride: MB * NB,
    }),
  });
  cases.forEach((c, i) =>
    it(c.label, () => {
      const spec = c.spec(0);
      const S = spec.splits ?? 1;
      const outs: [number, number][] = [[spec.out.off, S * (spec.sliceStride ?? spec.M * spec.N)]];
      if (spec.epilogue?.kind === 'silu-split') outs.push([spec.epilogue.s.off, spec.M * spec.epilogue.cols]);
      if (spec.epilogue?.kind === 'act') outs.push([spec.epilogue.s.off, spec.M * spec.N]);
      const e = compare(c.size, { kernel: gemm as Launch['kernel'], spec, label: c.label }, outs, 10 + i);
      assert.ok(e <= TOL, `relative error ${e}`);
    }),
  );
});

describe('CPU SIMD selective scan = float64 reference', () => {
  const B = 3;
  const L = 7;
  const E = 8;
  const N = 16;
  const R = 2;
  const T = B * L;
  const XD = R + 2 * N;
  let o = 0;
  const at = (n: number) => ((o += n), o - n);
  const u = at(T * E);
  const xd = at(T * XD);
  const wdt = at(E * R);
  const bdt = at(E);
  const alog = at(E * N);
  const dskip = at(E);
  const z = at(T * E);
  const out = at(T * E);
  const rho = at(T * E);
  const oo = at(T * E);
  const fwd: ScanSpec = {
    B,
    L,
    E,
    N,
    R,
    u: dense(u, T, E),
    xd: dense(xd, T, XD),
    wdt,
    bdt,
    alog,
    dskip,
    z: dense(z, T, E),
    out: dense(out, T, E),
    rho: dense(rho, T, E),
    o: dense(oo, T, E),
  };
  it('forward: out, ρ and o', () => {
    const e = compare(
      o + 16,
      { kernel: scanForward as Launch['kernel'], spec: fwd, label: 'scan' },
      [
        [out, T * E],
        [rho, T * E],
        [oo, T * E],
      ],
      21,
    );
    assert.ok(e <= TOL, `relative error ${e}`);
  });
  it('backward: ∂u, ∂ρ, ∂z, ∂B | ∂C and the parameter sums', () => {
    const dout = at(T * E);
    const du = at(T * E);
    const drho = at(T * E);
    const dz = at(T * E);
    const dbc = at(T * 2 * N);
    const dalog = at(E * N);
    const dd = at(E);
    const dbdt = at(E);
    const spec: ScanBackwardSpec = {
      ...fwd,
      rho: dense(rho, T, E),
      o: dense(oo, T, E),
      dout: dense(dout, T, E),
      du: dense(du, T, E),
      drho: dense(drho, T, E),
      dz: dense(dz, T, E),
      dbc,
      groupChannels: E,
      batchSlices: 1,
      dalog,
      dd,
      dbdt,
    };
    // ρ and o must be the forward's: run the forward first on the same arena.
    const size = o + 16;
    const launches: Launch[] = [
      { kernel: scanForward as Launch['kernel'], spec: fwd, label: 'fwd' },
      { kernel: scanBackward as Launch['kernel'], spec, label: 'bwd' },
    ];
    const p = { ...program(size, launches[0]), launches };
    const fast = new CpuExecutor(p);
    const ref = new CpuExecutor(p, { precision: 'float64' });
    assert.equal(fast.simdLaunches, 2);
    const rng = new Rng(22);
    for (let i = 0; i < size; i++) fast.mem[i] = ref.mem[i] = Math.fround(rng.normal() * 0.5);
    fast.run();
    ref.run();
    for (const [name, off, n] of [
      ['du', du, T * E],
      ['drho', drho, T * E],
      ['dz', dz, T * E],
      ['dbc', dbc, T * 2 * N],
      ['dalog', dalog, E * N],
      ['dD', dd, E],
      ['dbdt', dbdt, E],
    ] as const) {
      let num = 0;
      let den = 1e-30;
      for (let i = off; i < off + n; i++) {
        num = Math.max(num, Math.abs(fast.mem[i] - ref.mem[i]));
        den = Math.max(den, Math.abs(ref.mem[i]));
      }
      assert.ok(num / den <= TOL, `${name}: relative error ${num / den}`);
    }
  });
});

describe('CPU SIMD AdamW = the float32 JavaScript (bit for bit) and the float64 reference', () => {
  const P = 1031; // past a multiple of 4: the last three in JS
  const chunks = Math.ceil(P / 256);
  const spec: AdamWSpec = {
    total: P,
    param: 0,
    grad: P,
    m: 2 * P,
    v: 3 * P,
    normPart: 4 * P,
    maxNorm: 0.25,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-8,
    step: 4 * P + chunks,
    norm: 4 * P + chunks + 3,
  };
  const size = spec.norm + 1;
  for (const [label, gradScale] of [
    ['clipped (‖g‖ > 0.25)', 0.5],
    ['not clipped', 1e-4],
  ] as const)
    it(label, () => {
      const p = program(size, { kernel: adamw as Launch['kernel'], spec, label: 'adamw' });
      const fast = new CpuExecutor(p);
      const js = new CpuExecutor(p, { simd: false });
      const ref = new CpuExecutor(p, { precision: 'float64' });
      assert.equal(fast.simdLaunches, 1);
      const rng = new Rng(31);
      const init = new Float64Array(size);
      for (let i = 0; i < P; i++) {
        init[i] = Math.fround(rng.normal());
        init[P + i] = Math.fround(rng.normal() * gradScale);
        init[2 * P + i] = Math.fround(rng.normal() * 0.01);
        init[3 * P + i] = Math.fround(rng.uniform() * 1e-4);
      }
      for (let c = 0; c < chunks; c++) {
        let sq = 0;
        for (let i = c * 256; i < Math.min(P, (c + 1) * 256); i++) sq += init[P + i] ** 2;
        init[4 * P + c] = sq;
      }
      init.set(
        [Math.fround(1 - 1e-4 * 1e-4), Math.fround(1e-4 / (1 - 0.9 ** 3)), Math.fround(Math.sqrt(1 - 0.999 ** 3))],
        spec.step,
      );
      for (const ex of [fast, js, ref]) {
        ex.mem.set(init);
        ex.run();
      }
      let bitDiff = 0;
      let num = 0;
      let den = 1e-30;
      for (let i = 0; i < 4 * P; i++) {
        if (fast.mem[i] !== js.mem[i]) bitDiff++;
        num = Math.max(num, Math.abs(fast.mem[i] - ref.mem[i]));
        den = Math.max(den, Math.abs(ref.mem[i]));
      }
      assert.equal(bitDiff, 0, `${bitDiff} values differ from the float32 JavaScript`);
      assert.ok(num / den <= TOL, `relative error ${num / den}`);
      assert.notEqual(fast.mem[0], init[0], 'the parameters must move');
    });
});

describe('CPU SIMD attention = float64 reference', () => {
  // L = 3K = 15 (past multiples of 4 and 8), D = 12 (one 8-column panel and a 4-column one), padded keys, dropout.
  const B = 3;
  const K = 5;
  const L = 3 * K;
  const D = 12;
  const T = B * L;
  let o = 0;
  const at = (n: number) => ((o += n), o - n);
  const qkv = at(T * 3 * D);
  const mask = at(B * K);
  const p = at(B * L * L);
  const out = at(T * D);
  const dout = at(T * D);
  const ds = at(B * L * L);
  const dqkv = at(T * 3 * D);
  const size = o + 16;
  const shape = { B, L, D, qkv: dense(qkv, T, 3 * D), mask, p, dropout: { p: 0.1, key: 0 } };
  const fwd: AttentionSpec = { ...shape, out: dense(out, T, D) };
  const bwd: AttentionBackwardSpec = { ...shape, dout: dense(dout, T, D), ds, dqkv: dense(dqkv, T, 3 * D) };
  it('forward (P and the output) and backward (∂q | ∂k | ∂v)', () => {
    const launches: Launch[] = [
      { kernel: attention as Launch['kernel'], spec: fwd, label: 'fwd' },
      { kernel: attentionBackward as Launch['kernel'], spec: bwd, label: 'bwd' },
    ];
    const prog = { ...program(size, launches[0]), launches };
    const fast = new CpuExecutor(prog);
    const ref = new CpuExecutor(prog, { precision: 'float64' });
    assert.equal(fast.simdLaunches, 2);
    const rng = new Rng(41);
    for (let i = 0; i < size; i++) fast.mem[i] = ref.mem[i] = Math.fround(rng.normal());
    // Sequence 1 padded in its first two steps, sequence 2 in its first four (its early queries see no key).
    for (let i = 0; i < B * K; i++)
      fast.mem[mask + i] = ref.mem[mask + i] = (i >= 5 && i < 7) || (i >= 10 && i < 14) ? 0 : 1;
    for (const ex of [fast, ref]) {
      ex.ctlWords.set([0x9e3779b9, 0x7f4a7c15]);
      ex.run();
    }
    for (const [name, off, n] of [
      ['P', p, B * L * L],
      ['out', out, T * D],
      ['dqkv', dqkv, T * 3 * D],
    ] as const) {
      let num = 0;
      let den = 1e-30;
      for (let i = off; i < off + n; i++) {
        num = Math.max(num, Math.abs(fast.mem[i] - ref.mem[i]));
        den = Math.max(den, Math.abs(ref.mem[i]));
      }
      assert.ok(num / den <= TOL, `${name}: relative error ${num / den}`);
    }
  });
});

describe('CPU SIMD dropout = the JavaScript mask', () => {
  it('y = x·mask on strided rows, 13 columns (one in JS), the same elements dropped', () => {
    const rows = 37;
    const cols = 13;
    const spec: DropoutMulSpec = {
      rows,
      cols,
      x: { off: 0, g: 5, gs: 5 * 20 + 7, rs: 20 },
      y: dense(1000, rows, cols),
      dropout: { p: 0.3, key: 0 },
    };
    const e = compare(
      1000 + rows * cols + 16,
      { kernel: dropoutMul as Launch['kernel'], spec, label: 'drop' },
      [[1000, rows * cols]],
      51,
    );
    assert.ok(e <= TOL, `relative error ${e}`);
  });
});

describe('CPU SIMD LayerNorm = float64 reference', () => {
  it('forward with the input dropout, backward with a residual and the dropout (y, μ, rstd, dx, dγ, dβ)', () => {
    const rows = 37;
    const D = 12;
    let o = 0;
    const at = (n: number) => ((o += n), o - n);
    const x = at(rows * 20);
    const y = at(rows * D);
    const gamma = at(D);
    const beta = at(D);
    const mean = at(rows);
    const rstd = at(rows);
    const dy = at(rows * D);
    const dx = at(rows * D);
    const res = at(rows * D);
    const dgamma = at(D);
    const dbeta = at(D);
    const xRows = { off: x, g: rows, gs: rows * 20, rs: 20 }; // strided rows, as the token streams are
    const dropout = { p: 0.2, key: 0 };
    const fwd: LayerNormSpec = { rows, D, x: xRows, y: dense(y, rows, D), gamma, beta, mean, rstd, eps: 1e-5, dropout };
    const bwd: LayerNormBackwardSpec = {
      rows,
      D,
      x: xRows,
      mean,
      rstd,
      gamma,
      dy: dense(dy, rows, D),
      dx: dense(dx, rows, D),
      residual: dense(res, rows, D),
      dropout,
      dgamma,
      dbeta,
      splits: 1,
      sliceStride: 0,
    };
    const launches: Launch[] = [
      { kernel: layerNorm as Launch['kernel'], spec: fwd, label: 'fwd' },
      { kernel: layerNormBackward as Launch['kernel'], spec: bwd, label: 'bwd' },
    ];
    const size = o + 16;
    const p = { ...program(size, launches[0]), launches };
    const fast = new CpuExecutor(p);
    const ref = new CpuExecutor(p, { precision: 'float64' });
    assert.equal(fast.simdLaunches, 2);
    const rng = new Rng(61);
    for (let i = 0; i < size; i++) fast.mem[i] = ref.mem[i] = Math.fround(rng.normal() + (i < rows * 20 ? 0.7 : 0));
    for (const ex of [fast, ref]) {
      ex.ctlWords.set([0x9e3779b9, 0x7f4a7c15]);
      ex.run();
    }
    for (const [name, off, n] of [
      ['y', y, rows * D],
      ['mean', mean, rows],
      ['rstd', rstd, rows],
      ['dx', dx, rows * D],
      ['dgamma', dgamma, D],
      ['dbeta', dbeta, D],
    ] as const) {
      let num = 0;
      let den = 1e-30;
      for (let i = off; i < off + n; i++) {
        num = Math.max(num, Math.abs(fast.mem[i] - ref.mem[i]));
        den = Math.max(den, Math.abs(ref.mem[i]));
      }
      assert.ok(num / den <= TOL, `${name}: relative error ${num / den}`);
    }
  });
});
