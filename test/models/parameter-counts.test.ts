/** Parameter counts equal docs/spec.md §7's tables exactly, and names/shapes follow §13. */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createModel } from '../../src/models';
import { setupBackend } from '../helpers/models-fixtures';

const ENVS = {
  hopper: { stateDim: 11, actDim: 3 },
  halfcheetah: { stateDim: 17, actDim: 6 },
  walker2d: { stateDim: 17, actDim: 6 },
  antmaze: { stateDim: 29, actDim: 8 },
  kitchen: { stateDim: 60, actDim: 9 },
  maze2d: { stateDim: 4, actDim: 2 },
};
type Env = keyof typeof ENVS;

// [model, config, env, docs/spec.md §7 total, frozen (shared-frozen DSM) count]
const TABLE: [string, Record<string, unknown>, Env, number, number][] = [
  ['dmm', {}, 'hopper', 123587, 0],
  ['dmm', {}, 'halfcheetah', 124358, 0],
  ['dmm', {}, 'walker2d', 124358, 0],
  ['dmm', { hiddenSize: 128 }, 'hopper', 471427, 0],
  ['dmm', { hiddenSize: 128 }, 'antmaze', 475016, 0],
  ['dmm', { hiddenSize: 128 }, 'kitchen', 479241, 0],
  ['dmm', {}, 'maze2d', 123010, 0],
  ['dmm', { dsmMode: 'shared-frozen' }, 'hopper', 49859, 24576],
  ['dmm', { dsmMode: 'shared-frozen' }, 'halfcheetah', 50630, 24576],
  ['dmm', { hiddenSize: 128, dsmMode: 'shared-frozen' }, 'hopper', 176515, 98304],
  ['dmm', { hiddenSize: 128, dsmMode: 'shared-frozen' }, 'antmaze', 180104, 98304],
  ['dmm', { hiddenSize: 128, dsmMode: 'shared-frozen' }, 'kitchen', 184329, 98304],
  ['dmm', { globalMixer: 'mamba2' }, 'hopper', 167399, 0],
  ['dmm', { globalMixer: 'mamba2' }, 'halfcheetah', 168170, 0],
  ['dmm', { globalMixer: 'mamba2' }, 'walker2d', 168170, 0],
  ['dmm', { globalMixer: 'mamba2', hiddenSize: 128 }, 'antmaze', 557264, 0],
  ['dmm', { globalMixer: 'mamba2', hiddenSize: 128 }, 'kitchen', 561489, 0],
  ['dmamba', { hiddenSize: 256 }, 'hopper', 3155459, 0],
  ['dmamba', { hiddenSize: 128 }, 'hopper', 877315, 0],
  ['dmamba', { hiddenSize: 128 }, 'halfcheetah', 878854, 0],
  ['dmamba', { hiddenSize: 128 }, 'walker2d', 878854, 0],
  ['dmamba', { hiddenSize: 256, channelMlp: false }, 'hopper', 1577219, 0],
  ['dmamba', { hiddenSize: 128, channelMlp: false }, 'hopper', 481411, 0],
  ['dmamba', { hiddenSize: 128, channelMlp: false }, 'walker2d', 482950, 0],
  ['dt', {}, 'hopper', 727695, 0],
  ['dt', {}, 'halfcheetah', 730008, 0],
  ['dt', {}, 'walker2d', 730008, 0],
  ['dt', { hiddenSize: 256 }, 'hopper', 2635023, 0],
  ['dc', {}, 'hopper', 535939, 0],
  ['dc', {}, 'halfcheetah', 537478, 0],
  ['dc', {}, 'walker2d', 537478, 0],
  ['dc', { hiddenSize: 256 }, 'hopper', 1858307, 0],
];

describe('parameter counts (docs/spec.md §7)', () => {
  before(setupBackend);
  for (const [name, config, env, total, frozen] of TABLE) {
    it(`${name} ${JSON.stringify(config)} ${env} = ${total.toLocaleString('en')}`, () => {
      const m = createModel(name as 'dmm', config, ENVS[env], 0);
      try {
        assert.equal(m.parameterCount(), total);
        let f = 0;
        for (const t of m.frozenTensors().values()) f += t.size;
        assert.equal(f, frozen);
      } finally {
        m.dispose();
      }
    });
  }
});

describe('state_dict names and layouts (docs/spec.md §13)', () => {
  before(setupBackend);
  const shapes = (name: string, config: Record<string, unknown>, env: Env) => {
    const m = createModel(name as 'dmm', config, ENVS[env], 0);
    const out = [...m.trainableParameters()].map(([k, v]) => [k, v.shape.join('x')]);
    const frozen = [...m.frozenTensors()].map(([k, v]) => [k, v.shape.join('x')]);
    m.dispose();
    return { out, frozen };
  };

  it('DMM hopper D=64: 40 tensors in the official order', () => {
    const { out } = shapes('dmm', {}, 'hopper');
    assert.equal(out.length, 40);
    const names = out.map((p) => p[0]);
    assert.deepEqual(names.slice(0, 6), [
      'model.ln_1.weight',
      'model.ln_1.bias',
      'model.local_sequence_mixers.0.lin.weight',
      'model.local_sequence_mixers.1.lin.weight',
      'model.local_sequence_mixers.2.lin.weight',
      'model.ln_2.weight',
    ]);
    assert.deepEqual(out.slice(7, 14), [
      ['model.global_sequence_mixers.0.A_log', '64x16'],
      ['model.global_sequence_mixers.0.D', '64'],
      ['model.global_sequence_mixers.0.in_proj.weight', '128x64'],
      ['model.global_sequence_mixers.0.x_proj.weight', '36x64'],
      ['model.global_sequence_mixers.0.dt_proj.weight', '64x4'],
      ['model.global_sequence_mixers.0.dt_proj.bias', '64'],
      ['model.global_sequence_mixers.0.out_proj.weight', '64x64'],
    ]);
    assert.deepEqual(out[2], ['model.local_sequence_mixers.0.lin.weight', '64x384']);
    assert.deepEqual(names.slice(-12), [
      'model.ln_f.weight',
      'model.ln_f.bias',
      'embed_return.weight',
      'embed_return.bias',
      'embed_state.weight',
      'embed_state.bias',
      'embed_action.weight',
      'embed_action.bias',
      'embed_ln.weight',
      'embed_ln.bias',
      'predict_action.0.weight',
      'predict_action.0.bias',
    ]);
  });

  it('DMM shared-frozen keeps the DSM out of the parameters, under model.local_sequence_mixers.shared', () => {
    const { out, frozen } = shapes('dmm', { hiddenSize: 128, dsmMode: 'shared-frozen' }, 'antmaze');
    assert.ok(!out.some((p) => p[0].includes('local_sequence_mixers')));
    assert.deepEqual(frozen, [['model.local_sequence_mixers.shared.lin.weight', '128x768']]);
  });

  it('Decision Mamba block names and the [2D, 1, 4] conv', () => {
    const { out } = shapes('dmamba', { hiddenSize: 128 }, 'hopper');
    const names = out.map((p) => p[0]);
    assert.deepEqual(names.slice(0, 15), [
      'transformer.h.0.norm_mamba.weight',
      'transformer.h.0.norm_mamba.bias',
      'transformer.h.0.mamba.A_log',
      'transformer.h.0.mamba.D',
      'transformer.h.0.mamba.in_proj.weight',
      'transformer.h.0.mamba.conv1d.weight',
      'transformer.h.0.mamba.conv1d.bias',
      'transformer.h.0.mamba.x_proj.weight',
      'transformer.h.0.mamba.dt_proj.weight',
      'transformer.h.0.mamba.dt_proj.bias',
      'transformer.h.0.mamba.out_proj.weight',
      'transformer.h.0.ln_2.weight',
      'transformer.h.0.ln_2.bias',
      'transformer.h.0.mlp_channels.0.weight',
      'transformer.h.0.mlp_channels.0.bias',
    ]);
    assert.deepEqual(out[5], ['transformer.h.0.mamba.conv1d.weight', '256x1x4']);
    assert.ok(names.includes('embed_timestep.weight'));
  });

  it('DT uses the HF Conv1D [in, out] layout and counts wte and the unused heads', () => {
    const { out } = shapes('dt', {}, 'hopper');
    const m = new Map(out as [string, string][]);
    assert.equal(m.get('transformer.wte.weight'), '1x128');
    assert.equal(m.get('transformer.h.0.attn.c_attn.weight'), '128x384');
    assert.equal(m.get('transformer.h.0.mlp.c_fc.weight'), '128x512');
    assert.equal(m.get('transformer.h.0.mlp.c_proj.weight'), '512x128');
    assert.equal(m.get('predict_state.weight'), '11x128');
    assert.equal(m.get('predict_return.weight'), '1x128');
    assert.equal(m.get('embed_timestep.weight'), '1000x128');
  });

  it('DC has three [D, 1, 6] convs per block', () => {
    const { out } = shapes('dc', {}, 'hopper');
    const m = new Map(out as [string, string][]);
    for (const c of ['rtg', 'obs', 'act']) assert.equal(m.get(`transformer.h.2.conv.${c}_conv1d.weight`), '128x1x6');
    assert.equal(m.get('transformer.h.0.mlp.2.weight'), '128x512');
  });

  it('Mamba-2 option: bare dt_bias/A_log/D first, then in_proj, the unused conv, norm, out_proj', () => {
    const { out } = shapes('dmm', { globalMixer: 'mamba2' }, 'hopper');
    const g = out.filter((p) => p[0].startsWith('model.global_sequence_mixers.0.'));
    assert.deepEqual(g, [
      ['model.global_sequence_mixers.0.dt_bias', '4'],
      ['model.global_sequence_mixers.0.A_log', '4'],
      ['model.global_sequence_mixers.0.D', '4'],
      ['model.global_sequence_mixers.0.in_proj.weight', '388x64'],
      ['model.global_sequence_mixers.0.conv1d.weight', '320x1x4'],
      ['model.global_sequence_mixers.0.conv1d.bias', '320'],
      ['model.global_sequence_mixers.0.norm.weight', '64'],
      ['model.global_sequence_mixers.0.out_proj.weight', '64x64'],
    ]);
  });
});
