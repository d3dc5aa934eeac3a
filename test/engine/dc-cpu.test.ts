/**
 * The fused engine's Decision ConvFormer program on the CPU executor against the tfjs model
 * (test/helpers/engine-check.ts): forward output, every parameter gradient, the global norm, the losses and the
 * weights after 3 AdamW steps with dropout on (input and MLP), at two sizes with padded batches, and the
 * float64 run of the program (the WGSL reference).
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setupBackend } from '../helpers/models-fixtures';
import { compareRuns, referenceRun, type ParityCase } from '../helpers/engine-check';
import { engineRun } from '../helpers/engine-run';
import { CpuExecutor } from '../../src/engine/cpu/executor';

const HOPPER = { stateDim: 11, actDim: 3 };
const CHEETAH = { stateDim: 17, actDim: 6 };
export const DC_CASES: (ParityCase & { label: string })[] = [
  {
    label: 'D 16, K 4, batch 3, 2 blocks, window 6, padded',
    model: 'dc',
    config: { hiddenSize: 16, contextLength: 4, nLayer: 2, maxEpLen: 64 },
    dims: HOPPER,
    batch: 3,
    seed: 31,
    padded: true,
  },
  {
    label: 'D 32, K 8, batch 4, 3 blocks, halfcheetah dims, padded',
    model: 'dc',
    config: { hiddenSize: 32, contextLength: 8, maxEpLen: 64 },
    dims: CHEETAH,
    batch: 4,
    seed: 32,
    padded: true,
  },
];

const TOL = 1e-5;
const KEYS = ['forward', 'grad', 'norm', 'loss', 'weights'] as const;

describe('fused engine, Decision ConvFormer on the CPU executor = the tfjs model', () => {
  before(setupBackend);
  for (const c of DC_CASES) {
    it(c.label, async () => {
      const ref = referenceRun(c);
      const e = compareRuns(ref, await engineRun(ref, c));
      assert.ok(e.layoutOk, 'parameter names, shapes and order must equal the model');
      for (const key of KEYS) assert.ok(e[key] <= TOL, `${key}: ${JSON.stringify(e)}`);
    });
  }
  it('the float64 run of the program matches too (the WGSL reference)', async () => {
    const c = DC_CASES[0];
    const ref = referenceRun(c);
    const e = compareRuns(ref, await engineRun(ref, c, (p) => new CpuExecutor(p, { precision: 'float64' })));
    for (const key of KEYS) assert.ok(e[key] <= TOL, JSON.stringify(e));
  });
});
