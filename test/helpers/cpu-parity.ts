/**
 * The CPU executor's parity suite for one model's engine program (test/engine/<model>-cpu.test.ts): each case
 * against the tfjs model (test/helpers/engine-check.ts: forward output, every parameter gradient, the global
 * norm, the losses and the weights after 3 AdamW steps with dropout on), and one case also on float64 memory,
 * the kernels' JavaScript that the WGSL is checked against.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setupBackend } from './models-fixtures';
import { compareRuns, referenceRun, type ParityCase } from './engine-check';
import { engineRun } from './engine-run';
import { CpuExecutor } from '../../src/engine/cpu/executor';

const TOL = 1e-5;
// Not asserted: the weights' change alone (e.updates, in the message). AdamW's first updates are ≈ lr·sign(g), so
// an element whose gradient is at round-off level may move the other way (seen: 2e-3 of the largest update).
const KEYS = ['forward', 'grad', 'norm', 'loss', 'weights'] as const;

export function describeCpuParity(
  model: string,
  cases: readonly (ParityCase & { label: string })[],
  float64Case = cases[0],
): void {
  describe(`fused engine, ${model} on the CPU executor = the tfjs model`, () => {
    before(setupBackend);
    for (const c of cases) {
      it(c.label, async () => {
        const ref = referenceRun(c);
        const e = compareRuns(ref, await engineRun(ref, c));
        assert.ok(e.layoutOk, 'parameter names, shapes and order must equal the model');
        for (const key of KEYS) assert.ok(e[key] <= TOL, `${key}: ${JSON.stringify(e)}`);
      });
    }
    it('the float64 run of the program matches too (the WGSL reference)', async () => {
      const ref = referenceRun(float64Case);
      const e = compareRuns(
        ref,
        await engineRun(ref, float64Case, (p) => new CpuExecutor(p, { precision: 'float64' })),
      );
      for (const key of KEYS) assert.ok(e[key] <= TOL, JSON.stringify(e));
    });
  });
}
