/**
 * Same seed same outputs; dropout is seeded and off in eval mode; taps and token-gradient norms have
 * the documented shapes; forward leaks no tensors; weights round-trip through safetensors; the
 * official initialisation rules hold (docs/spec.md §3.4).
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  createModel,
  forwardWithTaps,
  loadModelWeights,
  maskedActionLoss,
  saveModelWeights,
  tokenGradientNorms,
} from '../../src/models';
import { decodeSafetensors } from '../../src/nn';
import {
  TINY_CASES,
  TINY_DIMS,
  disposeInputs,
  randomInputs,
  randomTensor,
  setupBackend,
  tinyModel,
} from '../helpers/models-fixtures';

const byLabel = (label: string) => TINY_CASES.find((c) => c.label === label)!;

describe('determinism and dropout', () => {
  before(setupBackend);
  it('same seed gives the same weights and outputs; another seed differs', () => {
    for (const c of TINY_CASES) {
      const [m1, m2, m3] = [tinyModel(c, 5), tinyModel(c, 5), tinyModel(c, 6)];
      const inputs = randomInputs(TINY_DIMS, 2, 3, 1);
      const [y1, y2, y3] = [m1, m2, m3].map((m) => m.forward(inputs, { training: true, dropoutSeed: 4 }).dataSync());
      assert.deepEqual(y1, y2, c.label);
      assert.notDeepEqual(y1, y3, c.label);
      [m1, m2, m3].forEach((m) => m.dispose());
      disposeInputs(inputs);
    }
  });

  it('dropout masks follow dropoutSeed in training and are off in eval mode', () => {
    const m = tinyModel(byLabel('dmamba'));
    const inputs = randomInputs(TINY_DIMS, 2, 3, 1);
    const run = (training: boolean, dropoutSeed?: number) => m.forward(inputs, { training, dropoutSeed }).dataSync();
    assert.deepEqual(run(true, 1), run(true, 1));
    assert.notDeepEqual(run(true, 1), run(true, 2));
    assert.deepEqual(run(false), run(false, 9));
    assert.notDeepEqual(run(false), run(true, 1));
    assert.throws(() => run(true), /dropoutSeed must be an integer in training mode/);
    m.dispose();
    disposeInputs(inputs);
  });

  it('forward and tokenGradientNorms leak no tensors', () => {
    const m = tinyModel(byLabel('dmm dense'));
    const inputs = randomInputs(TINY_DIMS, 2, 3, 1);
    const target = randomTensor([2, 3, 2], 3);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      m.forward(inputs, { training: true, dropoutSeed: i }).dispose();
      const g = tokenGradientNorms(m, inputs, target);
      tf.dispose([g.mean, g.perWindow]);
      const { value, grads } = tf.variableGrads(() =>
        maskedActionLoss(m.forward(inputs, { training: true, dropoutSeed: i }), target, inputs.mask),
      );
      tf.dispose([value, ...Object.values(grads)]);
    }
    assert.equal(tf.memory().numTensors, before);
    m.dispose();
    disposeInputs(inputs);
    target.dispose();
  });
});

describe('introspection', () => {
  before(setupBackend);
  it('taps are [B, 3K, C] per layer with the documented names', () => {
    const expect: Record<string, string[]> = {
      'dmm dense': ['mixerInput', 'localMixerOutput', 'globalMixerInput', 'scanInput', 'scanOutput', 'blockOutput'],
      'dmm mamba2': ['mixerInput', 'localMixerOutput', 'globalMixerInput', 'scanInput', 'scanOutput', 'blockOutput'],
      dmamba: ['mixerInput', 'scanInput', 'scanOutput', 'blockOutput'],
      dt: ['mixerInput', 'localMixerOutput', 'blockOutput'],
      dc: ['mixerInput', 'localMixerOutput', 'blockOutput'],
    };
    for (const [label, names] of Object.entries(expect)) {
      const c = byLabel(label);
      const m = tinyModel(c);
      const inputs = randomInputs(TINY_DIMS, 2, 3, 1);
      const { output, taps } = forwardWithTaps(m, inputs);
      const d = c.config.hiddenSize as number;
      const inner = label === 'dmamba' ? 2 * d : d;
      const want = Array.from({ length: c.config.nLayer as number }, (_, i) => names.map((n) => `layers.${i}.${n}`))
        .flat()
        .sort();
      assert.deepEqual(Object.keys(taps).sort(), want, label);
      for (const [name, t] of Object.entries(taps))
        assert.deepEqual(t.shape, [2, 9, name.includes('.scan') ? inner : d], `${label} ${name}`);
      assert.deepEqual(
        output.dataSync(),
        m.forward(inputs, { training: false }).dataSync(),
        `${label}: taps change the output`,
      );
      tf.dispose([output, ...Object.values(taps)]);
      m.dispose();
      disposeInputs(inputs);
    }
  });

  it('token-gradient norms: [3K] and [B, 3K]; the last action token gets exactly zero (causality)', () => {
    for (const label of ['dmm dense', 'dmamba', 'dt', 'dc']) {
      const m = tinyModel(byLabel(label));
      const inputs = randomInputs(TINY_DIMS, 4, 3, 2);
      const target = randomTensor([4, 3, 2], 3);
      const { mean, perWindow } = tokenGradientNorms(m, inputs, target);
      assert.deepEqual(mean.shape, [9]);
      assert.deepEqual(perWindow.shape, [4, 9]);
      const pw = perWindow.arraySync();
      const mu = mean.dataSync();
      for (let j = 0; j < 9; j++)
        assert.ok(Math.abs(mu[j] - pw.reduce((s, r) => s + r[j], 0) / 4) < 1e-6 * (1 + mu[j]));
      for (const row of pw) assert.equal(row[8], 0, `${label}: a_{K-1} reaches a prediction`);
      assert.ok(
        pw.every((row) => row.slice(0, 8).every((v) => v > 0)),
        `${label}: some earlier token has zero gradient`,
      );
      tf.dispose([mean, perWindow, target]);
      m.dispose();
      disposeInputs(inputs);
    }
  });
});

describe('weights as safetensors', () => {
  before(setupBackend);
  it('save → load into a model of another seed reproduces outputs, frozen DSM included', () => {
    for (const label of ['dmm shared-frozen', 'dmamba', 'dt', 'dc', 'dmm mamba2']) {
      const c = byLabel(label);
      const [a, b] = [tinyModel(c, 1), tinyModel(c, 2)];
      const inputs = randomInputs(TINY_DIMS, 2, 3, 1);
      const bytes = saveModelWeights(a);
      const { metadata, unused } = loadModelWeights(b, bytes);
      assert.deepEqual(unused, []);
      assert.equal(metadata.model, c.name);
      assert.deepEqual(
        b.forward(inputs, { training: false }).dataSync(),
        a.forward(inputs, { training: false }).dataSync(),
        label,
      );
      const { tensors } = decodeSafetensors(bytes);
      assert.equal(Object.keys(tensors).length, a.trainableParameters().size + a.frozenTensors().size);
      if (label === 'dmm shared-frozen')
        assert.deepEqual(JSON.parse(metadata.frozen), ['model.local_sequence_mixers.shared.lin.weight']);
      a.dispose();
      b.dispose();
      disposeInputs(inputs);
    }
  });

  it('loading rejects a missing or misshapen tensor by name', () => {
    const c = byLabel('dc');
    const a = tinyModel(c);
    const other = createModel('dc', { ...c.config, hiddenSize: 32 } as never, TINY_DIMS, 1);
    assert.throws(
      () => loadModelWeights(a, saveModelWeights(other)),
      /'transformer\.h\.0\.ln_1\.weight' must have shape \[16\], got \[32\]/,
    );
    a.dispose();
    other.dispose();
  });
});

describe('official initialisation (docs/spec.md §3.4, §5, §6)', () => {
  before(setupBackend);
  const stats = (t: tf.Tensor) => {
    const v = Array.from(t.dataSync() as Float32Array);
    const mean = v.reduce((s, x) => s + x, 0) / v.length;
    const std = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length);
    return { mean, std, min: Math.min(...v), max: Math.max(...v) };
  };

  it('DMM: backbone N(0, 0.02²), b_dt = 0, A_log = ln(1..16), D = 1, embed_return U(±1), shared-frozen DSM U(±1/√(kD))', () => {
    const m = createModel('dmm', {}, { stateDim: 11, actDim: 3 }, 3);
    const p = m.trainableParameters();
    const w = stats(p.get('model.local_sequence_mixers.0.lin.weight')!);
    assert.ok(Math.abs(w.std - 0.02) < 0.0005 && Math.abs(w.mean) < 0.0005, JSON.stringify(w));
    assert.ok(Math.abs(stats(p.get('model.global_sequence_mixers.1.dt_proj.weight')!).std - 0.02) < 0.003);
    assert.deepEqual([...new Set(p.get('model.global_sequence_mixers.2.dt_proj.bias')!.dataSync())], [0]);
    const aLog = p.get('model.global_sequence_mixers.0.A_log')!.arraySync() as number[][];
    for (const row of [aLog[0], aLog[63]]) row.forEach((v, n) => assert.ok(Math.abs(v - Math.log(n + 1)) < 1e-6));
    assert.deepEqual([...new Set(p.get('model.global_sequence_mixers.0.D')!.dataSync())], [1]);
    const er = stats(p.get('embed_return.weight')!);
    assert.ok(er.min >= -1 && er.max <= 1 && er.max - er.min > 1.5, JSON.stringify(er));
    const es = stats(p.get('embed_state.weight')!);
    assert.ok(es.max <= 1 / Math.sqrt(11) && es.min >= -1 / Math.sqrt(11) && es.max > 0.9 / Math.sqrt(11));
    m.dispose();
    const f = createModel('dmm', { hiddenSize: 128, dsmMode: 'shared-frozen' }, { stateDim: 29, actDim: 8 }, 3);
    const s = stats(f.frozenTensors().get('model.local_sequence_mixers.shared.lin.weight')!);
    assert.ok(s.max <= 0.03609 && s.min >= -0.03609 && s.max > 0.0359, JSON.stringify(s));
    f.dispose();
  });

  it('Decision Mamba: conv U(±0.5), embed_timestep N(0, 1); dtInit mamba-default gives softplus(b_dt) in [1e-3, 0.1]', () => {
    const m = createModel('dmamba', { hiddenSize: 64 }, { stateDim: 11, actDim: 3 }, 3);
    const p = m.trainableParameters();
    const cw = stats(p.get('transformer.h.0.mamba.conv1d.weight')!);
    assert.ok(cw.max <= 0.5 && cw.min >= -0.5 && cw.max > 0.45);
    assert.ok(Math.abs(stats(p.get('embed_timestep.weight')!).std - 1) < 0.02);
    m.dispose();
    const d = createModel('dmamba', { hiddenSize: 64, dtInit: 'mamba-default' }, { stateDim: 11, actDim: 3 }, 3);
    const dt = d.trainableParameters().get('transformer.h.0.mamba.dt_proj.bias')!.dataSync();
    for (const b of dt) {
      const delta = Math.log1p(Math.exp(b));
      assert.ok(delta >= 1e-3 * 0.999 && delta <= 0.1 * 1.001, `softplus(b_dt) = ${delta}`);
    }
    const w = stats(d.trainableParameters().get('transformer.h.0.mamba.dt_proj.weight')!);
    assert.ok(w.max <= 0.5 && w.min >= -0.5 && w.max > 0.45); // U(±r^−½), r = ⌈64/16⌉ = 4
    d.dispose();
  });
});

describe('DT padding mask (docs/spec.md §6.1)', () => {
  before(setupBackend);
  it('padded steps have no effect on the predictions at real steps; DMM has no mask, so they do', () => {
    for (const [label, masked] of [
      ['dt', true],
      ['dmm dense', false],
    ] as const) {
      const m = tinyModel(byLabel(label));
      const inputs = randomInputs(TINY_DIMS, 1, 3, 5, 20, true); // step 0 of window 0 is padding
      const states = tf.tidy(() => inputs.states.add(tf.oneHot([0], 3).reshape([1, 3, 1]).mul(5)));
      const a = m.forward(inputs, { training: false }).arraySync() as number[][][];
      const b = m.forward({ ...inputs, states }, { training: false }).arraySync() as number[][][];
      const same = JSON.stringify(a[0].slice(1)) === JSON.stringify(b[0].slice(1));
      assert.equal(same, masked, label);
      states.dispose();
      disposeInputs(inputs);
      m.dispose();
    }
  });
});
