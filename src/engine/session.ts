/**
 * A training run on the fused engine: one program, one executor, and the loop the Trainer delegates to when
 * `engine: 'fused'` (src/train/trainer.ts). Each step writes the batch and the step's scalars and runs the
 * program; the loss is summed in the arena and read once per chunk of steps (docs/spec.md §9's step, no read-back
 * inside it). Weights and moments move in and out by PyTorch name (weights.ts), so a checkpoint written by
 * either training path resumes on either.
 */
import type { DmmConfig, EnvDims } from '../models';
import type { Batch } from '../train/deps';
import { warmupLearningRate } from '../train/schedule';
import { check } from '../util/check';
import { CpuExecutor } from './cpu/executor';
import { stepScalars, writeStep, type Executor } from './executor';
import { buildDmmProgram } from './models/dmm';
import type { Program } from './program';
import { readMoments, readWeights, writeMoments, writeWeights, type NamedArrays } from './weights';
import { WebGpuExecutor } from './webgpu/executor';

export interface SessionConfig {
  batchSize: number;
  learningRate: number;
  warmupSteps: number;
  weightDecay: number;
  gradClip: number;
  /** The run seed: step k's dropout stream is derived from it as on the tfjs path. */
  seed: number;
}

export interface SessionState {
  weights: NamedArrays;
  frozen: NamedArrays;
  m: NamedArrays;
  v: NamedArrays;
  step: number;
}

export class EngineSession {
  /** Optimiser steps taken (k of the last update). */
  step = 0;

  private constructor(
    readonly program: Program,
    readonly executor: Executor,
    readonly config: Readonly<SessionConfig>,
  ) {}

  /** Builds the DMM program for `executor` ('webgpu' on a WebGPU device, else the CPU executor). */
  static async create(
    modelConfig: Readonly<DmmConfig>,
    dims: EnvDims,
    config: Readonly<SessionConfig>,
    executor: 'cpu' | 'webgpu',
  ): Promise<EngineSession> {
    const program = buildDmmProgram(modelConfig, dims, {
      batchSize: config.batchSize,
      training: true,
      target: executor === 'webgpu' ? 'gpu' : 'cpu',
      weightDecay: config.weightDecay,
      gradClip: config.gradClip,
    });
    const ex = executor === 'webgpu' ? await WebGpuExecutor.create(program) : new CpuExecutor(program);
    return new EngineSession(program, ex, config);
  }

  /** Loads weights (and frozen tensors), moments (zeros when absent) and the step count. */
  load(state: Partial<SessionState> & { weights: NamedArrays }): void {
    writeWeights(this.executor, new Map([...state.weights, ...(state.frozen ?? [])]));
    if (state.m && state.v) writeMoments(this.executor, state.m, state.v);
    else {
      const zeros = new Map([...this.program.params].map(([n, r]) => [n, new Float32Array(r.size)]));
      writeMoments(this.executor, zeros, zeros);
    }
    this.step = state.step ?? 0;
  }

  async state(): Promise<SessionState> {
    const { m, v } = await readMoments(this.executor);
    return {
      weights: await readWeights(this.executor),
      frozen: await readWeights(this.executor, 'frozen'),
      m,
      v,
      step: this.step,
    };
  }

  private writeBatch(b: Batch): void {
    const i = this.program.inputs;
    this.executor.write(i.states, b.states);
    this.executor.write(i.actions, b.actions);
    this.executor.write(i.returnsToGo, b.returnsToGo);
    this.executor.write(i.mask, b.mask);
  }

  /** `steps` optimiser steps on batches from `sample`; the mean loss is read once, at the end. */
  async train(steps: number, sample: () => Batch, onStep?: () => void): Promise<{ meanLoss: number; seconds: number }> {
    const t0 = Date.now();
    const ex = this.executor;
    ex.write(this.program.outputs.lossSum, [0]);
    const { learningRate, warmupSteps, seed } = this.config;
    for (let i = 0; i < steps; i++) {
      const k = ++this.step;
      this.writeBatch(sample());
      writeStep(ex, stepScalars(this.program, seed, k, warmupLearningRate(k, learningRate, warmupSteps)));
      ex.run();
      if (ex instanceof WebGpuExecutor) await ex.settle();
      onStep?.();
    }
    const meanLoss = (await ex.read(this.program.outputs.lossSum))[0] / steps;
    check(
      Number.isFinite(meanLoss),
      () =>
        `Error in Trainer.train: the training loss must be finite, got ${meanLoss} near step ${this.step}. Lower the learning rate or check the dataset.`,
    );
    return { meanLoss, seconds: (Date.now() - t0) / 1000 };
  }

  dispose(): void {
    this.executor.dispose();
  }
}
