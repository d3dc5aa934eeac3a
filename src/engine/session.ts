/**
 * A training run on the fused engine: one program, one executor, and the loop the Trainer delegates to when
 * `engine: 'fused'` (src/train/trainer.ts). Each step writes the batch and the step's scalars and runs the
 * program; the loss is summed in the arena and read once per chunk of steps (docs/spec.md §9's step, no read-back
 * inside it). Weights and moments move in and out by PyTorch name (weights.ts), so a checkpoint written by
 * either training path resumes on either.
 */
import type { EnvDims } from '../models';
import type { Batch } from '../train/deps';
import { warmupLearningRate } from '../train/schedule';
import { check } from '../util/check';
import { CpuExecutor } from './cpu/executor';
import { stepScalars, type Executor } from './executor';
import { buildProgram, type EngineModelLike } from './models';
import type { Program, Region } from './program';
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
  /** Optimiser steps taken by each packed run (k of its last update). */
  readonly steps: number[];

  private constructor(
    readonly program: Program,
    readonly executor: Executor,
    readonly runs: readonly Readonly<SessionConfig>[],
  ) {
    this.steps = runs.map(() => 0);
  }

  /** Optimiser steps of run 0 (the only run of an unpacked session). */
  get step(): number {
    return this.steps[0];
  }

  /** The settings of run 0. */
  get config(): Readonly<SessionConfig> {
    return this.runs[0];
  }

  /**
   * Builds the model's program (DMM when given a bare DMM config) for `executor` ('webgpu' on a WebGPU device, else the
   * CPU executor), with one packed run per entry of `config` (pack.ts). Packed runs share the program's shape (batch
   * size, clip); seeds, learning rates, warm-up and weight decay are each run's own.
   */
  static async create(
    model: EngineModelLike,
    dims: EnvDims,
    config: Readonly<SessionConfig> | readonly Readonly<SessionConfig>[],
    executor: 'cpu' | 'webgpu',
  ): Promise<EngineSession> {
    const runs = Array.isArray(config) ? config : [config as SessionConfig];
    check(runs.length > 0, () => 'Error in EngineSession.create: at least one run must be given, got 0.');
    for (const key of ['batchSize', 'gradClip'] as const)
      check(
        runs.every((r) => r[key] === runs[0][key]),
        () =>
          `Error in EngineSession.create: packed runs must share ${key}, got ${runs.map((r) => r[key]).join(', ')}.`,
      );
    const program = buildProgram(model, dims, {
      batchSize: runs[0].batchSize,
      training: true,
      target: executor === 'webgpu' ? 'gpu' : 'cpu',
      weightDecay: runs[0].weightDecay,
      gradClip: runs[0].gradClip,
    });
    const ex =
      executor === 'webgpu'
        ? await WebGpuExecutor.create(program, undefined, runs.length)
        : new CpuExecutor(program, { runs: runs.length });
    return new EngineSession(program, ex, runs);
  }

  /** Loads run `run`'s weights (and frozen tensors), moments (zeros when absent) and step count. */
  load(state: Partial<SessionState> & { weights: NamedArrays }, run = 0): void {
    writeWeights(this.executor, new Map([...state.weights, ...(state.frozen ?? [])]), run);
    if (state.m && state.v) writeMoments(this.executor, state.m, state.v, run);
    else {
      const zeros = new Map([...this.program.params].map(([n, r]) => [n, new Float32Array(r.size)]));
      writeMoments(this.executor, zeros, zeros, run);
    }
    this.steps[run] = state.step ?? 0;
  }

  async state(run = 0): Promise<SessionState> {
    const { m, v } = await readMoments(this.executor, run);
    return {
      weights: await readWeights(this.executor, 'params', run),
      frozen: await readWeights(this.executor, 'frozen', run),
      m,
      v,
      step: this.steps[run],
    };
  }

  /** The batch regions and the step scalars lie in one span of the arena: one write per run and step. */
  private span?: { start: number; buffer: Float32Array; parts: [Region, keyof Batch | 'step'][] };

  private writeInputs(b: Batch, floats: Float32Array, run: number): void {
    if (!this.span) {
      const i = this.program.inputs;
      const step = this.program.arena.get('step');
      const parts: [Region, keyof Batch | 'step'][] = [
        [i.states, 'states'],
        [i.actions, 'actions'],
        [i.returnsToGo, 'returnsToGo'],
        [i.mask, 'mask'],
        [step, 'step'],
      ];
      const start = Math.min(...parts.map(([r]) => r.offset));
      const end = Math.max(...parts.map(([r]) => r.offset + r.size));
      const mine = new Set(parts.map(([r]) => r.name));
      for (const r of this.program.arena.regions.values())
        check(
          mine.has(r.name) || r.offset + r.size <= start || r.offset >= end,
          () => `Error in EngineSession: the batch and step regions must be adjacent, got '${r.name}' between them.`,
        );
      this.span = { start, buffer: new Float32Array(end - start), parts };
    }
    const { start, buffer, parts } = this.span;
    for (const [r, key] of parts) buffer.set(key === 'step' ? floats : (b[key] as Float32Array), r.offset - start);
    this.executor.write({ name: 'inputs', offset: start, size: buffer.length, role: 'batch' }, buffer, false, run);
  }

  /**
   * `steps` optimiser steps of every packed run, each on batches from its own `sample` (one function for an
   * unpacked session); the mean losses are read once, at the end (`meanLoss` is run 0's).
   */
  async train(
    steps: number,
    sample: (() => Batch) | readonly (() => Batch)[],
    onStep?: () => void,
  ): Promise<{ meanLoss: number; meanLosses: number[]; seconds: number }> {
    const t0 = Date.now();
    const ex = this.executor;
    const samplers = typeof sample === 'function' ? [sample] : sample;
    check(
      samplers.length === this.runs.length,
      () =>
        `Error in EngineSession.train: one sampler per packed run (${this.runs.length}) must be given, got ${samplers.length}.`,
    );
    for (let r = 0; r < this.runs.length; r++) ex.write(this.program.outputs.lossSum, [0], false, r);
    for (let i = 0; i < steps; i++) {
      this.runs.forEach((cfg, r) => {
        const k = ++this.steps[r];
        const lr = warmupLearningRate(k, cfg.learningRate, cfg.warmupSteps);
        const scalars = stepScalars(this.program, cfg.seed, k, lr, cfg.weightDecay);
        const batch = samplers[r]();
        this.writeInputs(batch, scalars.floats, r);
        ex.write(this.program.ctl.get('dropoutKeys'), scalars.keys, true, r);
        const timesteps = this.program.ctlInputs.timesteps;
        if (timesteps) ex.write(timesteps, batch.timesteps, true, r);
      });
      ex.run();
      if (ex instanceof WebGpuExecutor) await ex.settle();
      onStep?.();
    }
    const meanLosses: number[] = [];
    for (let r = 0; r < this.runs.length; r++)
      meanLosses.push((await ex.read(this.program.outputs.lossSum, r))[0] / steps);
    meanLosses.forEach((meanLoss, r) =>
      check(
        Number.isFinite(meanLoss),
        () =>
          `Error in Trainer.train: the training loss must be finite, got ${meanLoss} near step ${this.steps[r]}${this.runs.length > 1 ? ` (packed run ${r})` : ''}. Lower the learning rate or check the dataset.`,
      ),
    );
    return { meanLoss: meanLosses[0], meanLosses, seconds: (Date.now() - t0) / 1000 };
  }

  dispose(): void {
    this.executor.dispose();
  }
}
