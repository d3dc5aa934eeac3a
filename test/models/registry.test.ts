/** Config resolution: defaults, validation, unknown keys with the nearest valid key, contradictions. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { officialModelConfig } from '../../src/config/presets';
import { DMM_DEFAULTS, MODEL_DEFAULTS, createModel, resolveModelConfig } from '../../src/models';

describe('resolveModelConfig', () => {
  it('returns frozen defaults merged with overrides', () => {
    const cfg = resolveModelConfig('dmm', { windowSize: 3 });
    assert.equal(cfg.windowSize, 3);
    assert.equal(cfg.hiddenSize, DMM_DEFAULTS.hiddenSize);
    assert.ok(Object.isFrozen(cfg) && Object.isFrozen(MODEL_DEFAULTS.dt));
    assert.deepEqual(JSON.parse(JSON.stringify(cfg)), { ...DMM_DEFAULTS, windowSize: 3 });
  });

  it('names the nearest valid key for an unknown key', () => {
    assert.throws(
      () => resolveModelConfig('dmm', { windowsize: 3 } as never),
      /unknown option 'windowsize'\. Did you mean 'windowSize'\?/,
    );
    assert.throws(() => resolveModelConfig('dt', { tokenMixer: 'dense' } as never), /unknown option 'tokenMixer'/);
  });

  it('rejects bad values with the rule', () => {
    assert.throws(
      () => resolveModelConfig('dmm', { tokenMixer: 'dens' as never }),
      /tokenMixer must be one of .* \(did you mean 'dense'\?\)/,
    );
    assert.throws(() => resolveModelConfig('dmm', { hiddenSize: 6.5 }), /hiddenSize must be an integer/);
    assert.throws(() => resolveModelConfig('dc', { dropout: 1 }), /dropout must be a number in \[0, 0.999\]/);
    assert.throws(
      () => resolveModelConfig('dmamba', { channelMlp: 'no' as never }),
      /channelMlp must be true or false/,
    );
    assert.throws(
      () => resolveModelConfig('transformer' as never, {} as never),
      /model must be one of dt, dc, dmamba, dmm/,
    );
  });

  it('rejects contradictory options, naming them', () => {
    assert.throws(
      () => resolveModelConfig('dmm', { dsmMode: 'shared-frozen', tokenMixer: 'dc-conv' }),
      /dsmMode 'shared-frozen' needs tokenMixer 'dense'/,
    );
    assert.throws(
      () => resolveModelConfig('dmm', { tokenMixer: 'none', windowSize: 3 }),
      /windowSize has no effect with tokenMixer 'none'/,
    );
    assert.throws(
      () => resolveModelConfig('dmm', { globalMixer: 'mamba2', mambaConv: 4 }),
      /mambaConv applies to globalMixer 'mamba1' only/,
    );
    assert.throws(() => resolveModelConfig('dmm', { globalMixer: 'mamba2', hiddenSize: 40 }), /multiple of 16/);
    assert.throws(() => resolveModelConfig('dt', { nHead: 3 }), /divisible by nHead/);
  });

  it('official per-environment settings pick the DSM mode and widths (docs/spec.md §3.5, §5, §6)', () => {
    assert.deepEqual(officialModelConfig('dmm', 'antmaze'), { hiddenSize: 128, dsmMode: 'shared-frozen' });
    assert.deepEqual(officialModelConfig('dmm', 'hopper'), { hiddenSize: 64, dsmMode: 'per-layer' });
    assert.deepEqual(officialModelConfig('dmm', 'kitchen-partial'), { hiddenSize: 128, dsmMode: 'shared-frozen' });
    assert.deepEqual(officialModelConfig('dmm', 'maze2d'), { hiddenSize: 128, dsmMode: 'per-layer' });
    assert.equal(officialModelConfig('dmamba', 'hopper', 'medium').hiddenSize, 256);
    assert.equal(officialModelConfig('dmamba', 'hopper', 'medium-expert').hiddenSize, 128);
    assert.equal(officialModelConfig('dc', 'hopper', 'medium').hiddenSize, 256);
  });

  it('createModel checks dims and seed', () => {
    assert.throws(() => createModel('dmm', {}, { stateDim: 0, actDim: 3 }, 1), /dims must be/);
    assert.throws(() => createModel('dmm', {}, { stateDim: 11, actDim: 3 }, 1.5), /seed must be an integer/);
  });
});
