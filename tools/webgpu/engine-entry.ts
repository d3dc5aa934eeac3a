/**
 * Browser entry of the fused engine's WebGPU check (bundled by harness.ts): runs the engine side of the
 * parity check (test/helpers/engine-run.ts) with the WebGPU executor on the page's adapter and returns the
 * results as plain arrays. The tfjs side runs in Node.
 */
import { WebGpuExecutor } from '../../src/engine/webgpu/executor';
import {
  engineModel,
  engineRun,
  writeBatch,
  type EngineInputs,
  type EngineRunResult,
} from '../../test/helpers/engine-run';
import { buildProgram } from '../../src/engine/models';
import { stepScalars, writeStep } from '../../src/engine/executor';
import { readWeights, writeWeights } from '../../src/engine/weights';
import { warmupLearningRate } from '../../src/train/schedule';
import { setGemmTuning, type GemmTuning } from '../../src/engine/kernels/gemm';
import type { EnvDims } from '../../src/models';

export interface EngineBrowserCase {
  inputs: EngineInputs;
  c: { dims: EnvDims; batch: number; seed: number };
  /** The GPU products' tiling for this case (default: the shipped one). */
  gemmTuning?: Partial<GemmTuning>;
}

const plain = (r: EngineRunResult) => ({
  ...r,
  pred: Array.from(r.pred),
  grads: Object.fromEntries(Object.entries(r.grads).map(([k, v]) => [k, Array.from(v)])),
  after: Object.fromEntries(Object.entries(r.after).map(([k, v]) => [k, Array.from(v)])),
});

(globalThis as unknown as Record<string, unknown>).engineCheck = async (cases: EngineBrowserCase[]) => {
  const results = [];
  for (const { inputs, c, gemmTuning } of cases) {
    setGemmTuning(gemmTuning ?? {});
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
    setGemmTuning({});
  }
  return results;
};

/**
 * Packed runs on the page's adapter: `runs` copies of the case trained together, run r with its weights
 * scaled by (1 + r/10), its batches rotated by r and its own dropout seed, against each run trained alone;
 * the largest relative difference of any run's final weights (0 when the packed shaders compute exactly
 * what the lone ones do).
 */
(globalThis as unknown as Record<string, unknown>).enginePackedCheck = async (
  x: EngineBrowserCase & { runs: number },
) => {
  const program = buildProgram(engineModel(x.inputs), x.c.dims, {
    batchSize: x.c.batch,
    training: true,
    target: 'gpu',
    weightDecay: x.inputs.train.weightDecay,
    gradClip: x.inputs.train.gradClip,
  });
  const weightsOf = (r: number) =>
    new Map(Object.entries(x.inputs.before).map(([k, v]) => [k, Float32Array.from(v, (w) => w * (1 + r / 10))]));
  const n = x.inputs.batches.length;
  /** Trains `runs` packed runs whose run r plays run `ids[r]`; returns each one's final weights. */
  const train = async (ids: number[]) => {
    const ex = await WebGpuExecutor.create(program, undefined, ids.length);
    ids.forEach((id, r) => writeWeights(ex, weightsOf(id), r));
    for (let i = 0; i < n; i++) {
      const k = i + 1;
      const lr = warmupLearningRate(k, x.inputs.train.learningRate, x.inputs.train.warmupSteps);
      ids.forEach((id, r) => {
        writeBatch(ex, x.inputs.batches[(i + id) % n], r);
        writeStep(ex, stepScalars(program, x.c.seed + id, k, lr), r);
      });
      ex.run();
    }
    const out = [];
    for (let r = 0; r < ids.length; r++) out.push(await readWeights(ex, 'params', r));
    ex.dispose();
    return out;
  };
  const ids = Array.from({ length: x.runs }, (_, r) => r);
  const packed = await train(ids);
  let worst = 0;
  for (const id of ids) {
    const [alone] = await train([id]);
    for (const [name, v] of alone) {
      const p = packed[id].get(name)!;
      for (let i = 0; i < v.length; i++)
        worst = Math.max(worst, Math.abs(p[i] - v[i]) / Math.max(1e-30, Math.abs(v[i])));
    }
  }
  return { worst };
};
