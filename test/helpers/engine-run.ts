/**
 * The engine side of the parity checks (engine-check.ts): build a model's program, load weights, run training
 * steps on given batches, read the outputs back. It imports no tfjs, so tools/webgpu bundles it for headless
 * Chromium, where it runs the WebGPU executor.
 */
import type { DcConfig, DmambaConfig, DmmConfig, DtConfig, EnvDims } from '../../src/models';
import { warmupLearningRate } from '../../src/train/schedule';
import type { TrainConfig } from '../../src/config/train';
import type { Batch } from '../../src/train/deps';
import { Rng } from '../../src/util/rng';
import { buildProgram, type EngineModel } from '../../src/engine/models';
import { CpuExecutor } from '../../src/engine/cpu/executor';
import { stepScalars, writeStep, type Executor } from '../../src/engine/executor';
import type { Program } from '../../src/engine/program';
import { readWeights, writeWeights } from '../../src/engine/weights';

export type Named = Record<string, number[] | Float32Array>;

/** What the engine needs from a reference run: model, config, batches and the starting weights. */
export interface EngineInputs {
  model: EngineModel['name'];
  config: DmmConfig | DmambaConfig | DcConfig | DtConfig;
  train: TrainConfig;
  batches: Batch[];
  before: Named;
}

export interface EngineRunResult {
  pred: Float32Array;
  grads: Named;
  norm: number;
  loss: number[];
  after: Named;
  layout: [string, number[]][];
}

/** A seeded batch in the sampler's layout; timesteps run on from a random start below 30 (0 on padding). */
export function syntheticBatch(dims: EnvDims, B: number, K: number, seed: number, padded = false): Batch {
  const rng = new Rng(seed);
  const { stateDim: s, actDim: a } = dims;
  const states = Float32Array.from({ length: B * K * s }, () => rng.normal());
  const actions = Float32Array.from({ length: B * K * a }, () => rng.range(-0.99, 0.99));
  const returnsToGo = Float32Array.from({ length: B * K }, () => rng.range(0, 3.6));
  const mask = new Float32Array(B * K).fill(1);
  const timesteps = new Int32Array(B * K);
  for (let b = 0; b < B; b++) {
    const start = rng.int(30);
    for (let t = 0; t < K; t++) timesteps[b * K + t] = start + t;
  }
  if (padded)
    for (let b = 0; b < B; b += 2) {
      const pad = Math.min(K - 1, 1 + (b % K));
      for (let t = 0; t < pad; t++) {
        mask[b * K + t] = 0;
        returnsToGo[b * K + t] = 0;
        timesteps[b * K + t] = 0;
        for (let j = 0; j < s; j++) states[(b * K + t) * s + j] = -0.3;
        for (let j = 0; j < a; j++) actions[(b * K + t) * a + j] = -10;
      }
    }
  return { states, actions, returnsToGo, timesteps, mask };
}

/** Writes a batch into packed run `run` (0 unpacked). */
export function writeBatch(ex: Executor, b: Batch, run = 0): void {
  const i = ex.program.inputs;
  ex.write(i.states, b.states, false, run);
  ex.write(i.actions, b.actions, false, run);
  ex.write(i.returnsToGo, b.returnsToGo, false, run);
  ex.write(i.mask, b.mask, false, run);
  const t = ex.program.ctlInputs.timesteps;
  if (t) ex.write(t, b.timesteps, true, run);
}

export function engineModel(ref: EngineInputs): EngineModel {
  return { name: ref.model, config: ref.config } as EngineModel;
}

/** The engine side: build, load the weights, run the steps, read back. Uses no tfjs. */
export async function engineRun(
  ref: EngineInputs,
  c: { dims: EnvDims; batch: number; seed: number },
  executor: (p: Program) => Executor | Promise<Executor> = (p) => new CpuExecutor(p),
  target: 'cpu' | 'gpu' = 'cpu',
): Promise<EngineRunResult> {
  const program = buildProgram(engineModel(ref), c.dims, {
    batchSize: c.batch,
    training: true,
    target,
    weightDecay: ref.train.weightDecay,
    gradClip: ref.train.gradClip,
  });
  const ex = await executor(program);
  writeWeights(ex, new Map(Object.entries(ref.before).map(([k, v]) => [k, Float32Array.from(v)])));
  const loss: number[] = [];
  let pred = new Float32Array(0);
  const grads: Named = {};
  let norm = 0;
  for (let i = 0; i < ref.batches.length; i++) {
    writeBatch(ex, ref.batches[i]);
    const k = i + 1;
    writeStep(
      ex,
      stepScalars(program, c.seed, k, warmupLearningRate(k, ref.train.learningRate, ref.train.warmupSteps)),
    );
    ex.run();
    loss.push((await ex.read(program.outputs.loss))[0]);
    if (i === 0) {
      pred = await ex.read(program.outputs.pred);
      const all = await ex.read(program.arena.get('grads'));
      const base = program.arena.get('params').offset;
      for (const [name, r] of program.params) grads[name] = all.slice(r.offset - base, r.offset - base + r.size);
      norm = (await ex.read(program.outputs.gradNorm))[0];
    }
  }
  const after: Named = Object.fromEntries(await readWeights(ex));
  const layout: [string, number[]][] = [...program.params].map(([name, r]) => [name, r.shape!.slice()]);
  ex.dispose();
  return { pred, grads, norm, loss, after, layout };
}
