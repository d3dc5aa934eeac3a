/**
 * Browser entry of the fused engine's WebGPU check (bundled by harness.ts): runs the engine side of the
 * parity check (test/helpers/engine-run.ts) with the WebGPU executor on the page's adapter and returns the
 * results as plain arrays. The tfjs side runs in Node.
 */
import { WebGpuExecutor } from '../../src/engine/webgpu/executor';
import { engineRun, type EngineInputs, type EngineRunResult } from '../../test/helpers/engine-run';
import type { EnvDims } from '../../src/models';

export interface EngineBrowserCase {
  inputs: EngineInputs;
  c: { dims: EnvDims; batch: number; seed: number };
}

const plain = (r: EngineRunResult) => ({
  ...r,
  pred: Array.from(r.pred),
  grads: Object.fromEntries(Object.entries(r.grads).map(([k, v]) => [k, Array.from(v)])),
  after: Object.fromEntries(Object.entries(r.after).map(([k, v]) => [k, Array.from(v)])),
});

(globalThis as unknown as Record<string, unknown>).engineCheck = async (cases: EngineBrowserCase[]) => {
  const results = [];
  for (const { inputs, c } of cases) {
    const t0 = performance.now();
    let dispatches = 0;
    const r = await engineRun(
      inputs,
      c,
      async (p) => {
        const ex = await WebGpuExecutor.create(p);
        dispatches = ex.dispatchCount;
        return ex;
      },
      'gpu',
    );
    results.push({ result: plain(r), ms: performance.now() - t0, dispatches });
  }
  return results;
};
