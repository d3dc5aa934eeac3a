/**
 * The training step of docs/spec.md §9: sample a batch → forward in training mode → masked action MSE
 * → backward → clip the global grad norm to 0.25 → AdamW at the warm-up learning rate. Dropout masks
 * come from a seed derived per step from the run seed, so a resumed run draws the same masks.
 *
 * Two paths compute the same step. `engine: 'fused'` (the default) runs it as one fixed program of kit
 * kernels (src/engine/: WebGPU on the webgpu backend, the CPU executor otherwise) for the models and variants
 * the engine covers, and says in one line why it falls back to tfjs for the others. `engine: 'tfjs'` runs it
 * op by op through the tfjs models, the reference implementation. The fused path keeps the weights and
 * AdamW moments in its own arena while it trains; `syncModel()` copies them back into the model and the
 * optimizer (before an evaluation or a checkpoint), and the next `train()` reloads them from there, so a
 * checkpoint written by either path resumes on either.
 */
import type { Scalar, Tensor, Variable } from '@tensorflow/tfjs';
import { downloadForSyncRead, tf } from '../backend';
import type { TrainConfig } from '../config/train';
import { check } from '../util/check';
import { deriveSeed } from '../util/rng';
import { AdamW, clipGlobalNorm, warmupLearningRate } from './adamw';
import { reusedBatches, type Batch, type BatchSource, type EngineDeps, type SequenceModel } from './deps';
import { engineCpuDefaultGap, engineModelGap, type EngineModel } from '../engine/models';
import { EngineSession } from '../engine/session';
import { EngineForward } from '../engine/forward';
import type { EvalModel } from '../eval/rollout';

import { ENGINES, type EngineChoice } from '../config/names';
export type { EngineChoice };

/** `DMM_ENGINE` (set by `dmm train --engine`, inherited by the pool's child processes), else undefined. */
function askedEngine(): EngineChoice | undefined {
  const v = typeof process !== 'undefined' ? process.env?.DMM_ENGINE : undefined;
  if (v === undefined || v === '') return undefined;
  check(
    (ENGINES as readonly string[]).includes(v),
    () => `Error in Trainer: DMM_ENGINE must be one of ${ENGINES.join(', ')}, got '${v}'. Unset it for the default.`,
  );
  return v as EngineChoice;
}

/** The engine a Trainer asks for unless told: DMM_ENGINE, else 'fused'. */
export function defaultEngine(): EngineChoice {
  return askedEngine() ?? 'fused';
}

export interface TrainerOptions {
  /**
   * Default DMM_ENGINE, else 'fused' where the engine covers the model, tfjs otherwise; on the CPU the default is
   * tfjs for the models whose fused CPU path is slower (engineCpuDefaultGap), and asking for 'fused' forces it.
   */
  engine?: EngineChoice;
  /** Where the one-line engine note goes; default stderr, unless DMM_QUIET is set. */
  log?: (line: string) => void;
}

/** Why the fused engine cannot train `model`, or null when it can. */
export function engineGap(model: SequenceModel): string | null {
  return engineModelGap(model.name, model.config);
}

/** `model` as the engine sees it (call where engineGap is null). */
export function engineModelOf(model: SequenceModel): EngineModel {
  return { name: model.name, config: model.config } as EngineModel;
}

export class Trainer {
  readonly optimizer: AdamW;
  /** The path that trains this model (the fused engine where it covers the model). */
  readonly engine: EngineChoice;
  /** Why the fused engine was not used, when it was asked for and does not cover the model. */
  readonly engineNote?: string;
  private readonly params: Map<string, Variable>;
  private readonly K: number;
  private session?: EngineSession;
  private forwardEngine?: EngineForward;
  /** Whether the session holds newer weights than the model (then syncModel copies them back). */
  private sessionAhead = false;
  /** The engine path's batches, in reused arrays. */
  private batches?: () => Batch;

  constructor(
    readonly model: SequenceModel,
    readonly sampler: BatchSource,
    readonly config: Readonly<TrainConfig>,
    readonly seed: number,
    private readonly loss: EngineDeps['maskedActionLoss'],
    opts: TrainerOptions = {},
  ) {
    this.params = model.trainableParameters();
    this.optimizer = new AdamW(this.params, { weightDecay: config.weightDecay });
    this.K = Number(model.config.contextLength);
    check(
      Number.isInteger(this.K) && this.K > 0,
      () =>
        `Error in Trainer: model.config.contextLength must be a positive integer, got ${model.config.contextLength}.`,
    );
    const asked = opts.engine ?? askedEngine();
    const want = asked ?? 'fused';
    check(
      (ENGINES as readonly string[]).includes(want),
      () => `Error in Trainer: engine must be one of ${ENGINES.join(', ')}, got '${want}'.`,
    );
    const onCpu = tf.getBackend() !== 'webgpu';
    const gap =
      want === 'fused' ? (engineGap(model) ?? (asked || !onCpu ? null : engineCpuDefaultGap(model.name))) : null;
    this.engine = gap ? 'tfjs' : want;
    if (gap) {
      this.engineNote = `the fused engine does not cover ${gap}`;
      const log = opts.log ?? ((l: string) => process.env.DMM_QUIET || console.error(l));
      log(`[dmm] engine: tfjs (${this.engineNote})`);
    }
  }

  /** Optimiser steps taken so far. */
  get step(): number {
    return this.session && this.sessionAhead ? this.session.step : this.optimizer.step;
  }

  /** The fused path's session once it trained (its program and executor), for benchmarks and profiles. */
  get fusedSession(): EngineSession | undefined {
    return this.session;
  }

  /** Which executor runs the fused path: the GPU on the webgpu backend, else the CPU. */
  get executor(): 'webgpu' | 'cpu' | undefined {
    return this.engine === 'fused' ? (tf.getBackend() === 'webgpu' ? 'webgpu' : 'cpu') : undefined;
  }

  private batchTensors(b: Batch) {
    const { stateDim, actDim } = this.model.dims;
    const B = this.config.batchSize;
    const K = this.K;
    return {
      states: tf.tensor3d(b.states, [B, K, stateDim]),
      actions: tf.tensor3d(b.actions, [B, K, actDim]),
      returnsToGo: tf.tensor3d(b.returnsToGo, [B, K, 1]),
      timesteps: tf.tensor2d(b.timesteps, [B, K], 'int32'),
      mask: tf.tensor2d(b.mask, [B, K]),
    };
  }

  /** One optimiser step on the tfjs path; returns the batch loss as a kept scalar tensor (the caller disposes it). */
  trainStep(): Scalar {
    check(
      this.engine === 'tfjs',
      () =>
        "Error in Trainer.trainStep: it is the tfjs path's step, got a fused trainer. Use train(), or engine: 'tfjs'.",
    );
    const k = this.optimizer.step + 1;
    const lr = warmupLearningRate(k, this.config.learningRate, this.config.warmupSteps);
    const dropoutSeed = deriveSeed(this.seed, 'dropout', k);
    const batch = this.sampler.sample();
    const names = [...this.params.keys()];
    const vars = [...this.params.values()];
    return tf.tidy(() => {
      const inputs = this.batchTensors(batch);
      const { value, grads } = tf.variableGrads(() => {
        const pred = this.model.forward(inputs, { training: true, dropoutSeed });
        return this.loss(pred, inputs.actions, inputs.mask);
      }, vars);
      // Parameters the loss does not reach (DT's wte, predict_state, predict_return) get no gradient; as in
      // PyTorch they are left out of the clip norm and of AdamW, decay included.
      const byName = new Map<string, Tensor>();
      for (let i = 0; i < names.length; i++) {
        const g = grads[vars[i].name];
        if (g) byName.set(names[i], g);
      }
      check(
        byName.size > 0,
        () => 'Error in Trainer.trainStep: the loss must depend on at least one trainable parameter, got none.',
      );
      const clipped = clipGlobalNorm(byName, this.config.gradClip);
      this.optimizer.apply(clipped.grads, lr);
      return value;
    });
  }

  /**
   * Runs `steps` steps; returns the mean loss (one read-back at the end, awaited so GPU backends need no
   * synchronous read) and the wall time. `onStep` is called after each step.
   */
  async train(steps: number, onStep?: () => void): Promise<{ meanLoss: number; seconds: number }> {
    if (this.engine === 'fused') return this.trainFused(steps, onStep);
    const t0 = Date.now();
    let sum: Scalar = tf.scalar(0);
    for (let i = 0; i < steps; i++) {
      const loss = this.trainStep();
      const next = sum.add(loss) as Scalar;
      sum.dispose();
      sum = next;
      loss.dispose();
      onStep?.();
    }
    const meanLoss = (await sum.data())[0] / steps;
    sum.dispose();
    check(
      Number.isFinite(meanLoss),
      () =>
        `Error in Trainer.train: the training loss must be finite, got ${meanLoss} near step ${this.step}. Lower the learning rate or check the dataset.`,
    );
    return { meanLoss, seconds: (Date.now() - t0) / 1000 };
  }

  private async trainFused(steps: number, onStep?: () => void): Promise<{ meanLoss: number; seconds: number }> {
    if (!this.session) {
      const { batchSize, learningRate, warmupSteps, weightDecay, gradClip } = this.config;
      this.session = await EngineSession.create(
        engineModelOf(this.model),
        this.model.dims,
        { batchSize, learningRate, warmupSteps, weightDecay, gradClip, seed: this.seed },
        this.executor!,
      );
    }
    if (!this.sessionAhead) {
      // The model and optimizer hold the current state (fresh, restored from a checkpoint, or synced back).
      await this.loadSession(this.session);
      this.sessionAhead = true;
    }
    return this.session.train(steps, (this.batches ??= reusedBatches(this.sampler)), onStep);
  }

  private async loadSession(session: EngineSession): Promise<void> {
    await loadSessionRun(session, 0, this.model, this.optimizer);
  }

  /**
   * Copies the fused path's weights, frozen tensors and AdamW state back into the model and the optimizer
   * (a no-op on the tfjs path). Call it before evaluating the model or saving a checkpoint.
   */
  async syncModel(): Promise<void> {
    if (!this.session || !this.sessionAhead) return;
    await syncSessionRun(this.session, 0, this.model, this.optimizer);
    this.sessionAhead = false;
  }

  /**
   * The model as the evaluator should call it: on the fused path with the engine's forward program for the
   * last action (src/engine/forward.ts) and the current weights; on the tfjs path the model itself.
   * Call after syncModel().
   */
  async evalModel(): Promise<EvalSequenceModel> {
    if (this.engine !== 'fused') return this.model;
    this.forwardEngine ??= new EngineForward(engineModelOf(this.model), this.model.dims, this.executor!);
    return engineEvalModel(this.model, this.forwardEngine);
  }

  dispose(): void {
    this.optimizer.dispose();
    this.session?.dispose();
    this.forwardEngine?.dispose();
  }
}

/** A model the evaluator calls, with the engine's last-action path where there is one. */
export type EvalSequenceModel = SequenceModel & Pick<EvalModel, 'lastActions' | 'evaluationDone'>;

/** Trainable parameters (or frozen tensors) as arrays by name, read asynchronously (WebGPU has no sync read). */
async function arrays(m: Map<string, Tensor>): Promise<Map<string, Float32Array>> {
  return new Map(await Promise.all([...m].map(async ([k, v]) => [k, Float32Array.from(await v.data())] as const)));
}

/** Loads packed run `run` of an engine session from a model (weights, frozen tensors) and its AdamW state. */
export async function loadSessionRun(
  session: EngineSession,
  run: number,
  model: SequenceModel,
  optimizer: AdamW,
): Promise<void> {
  await downloadForSyncRead(optimizer.stateTensors()); // getState reads synchronously (WebGPU needs this)
  const state = optimizer.getState();
  const moments = (which: 'm' | 'v') => new Map(Object.entries(state[which]).map(([k, v]) => [k, v.data]));
  session.load(
    {
      weights: await arrays(model.trainableParameters()),
      frozen: await arrays(model.frozenTensors()),
      m: moments('m'),
      v: moments('v'),
      step: state.step,
    },
    run,
  );
}

/** Copies packed run `run` of an engine session back into a model and its AdamW state. */
export async function syncSessionRun(
  session: EngineSession,
  run: number,
  model: SequenceModel,
  optimizer: AdamW,
): Promise<void> {
  const s = await session.state(run);
  const assign = (v: Variable, data: Float32Array) => {
    const t = tf.tensor(data, v.shape, 'float32');
    v.assign(t);
    t.dispose();
  };
  const params = model.trainableParameters();
  for (const [name, v] of params) assign(v, s.weights.get(name)!);
  for (const [name, v] of model.frozenTensors() as Map<string, Variable>) assign(v, s.frozen.get(name)!);
  const pack = (m: Map<string, Float32Array>) =>
    Object.fromEntries([...params].map(([name, v]) => [name, { shape: v.shape.slice(), data: m.get(name)! }]));
  optimizer.setState({ step: s.step, m: pack(s.m), v: pack(s.v) });
}

/** `model` for the evaluator, its last actions computed by `fwd` (as its packed run `run`) with the model's current weights. */
export async function engineEvalModel(model: SequenceModel, fwd: EngineForward, run = 0): Promise<EvalSequenceModel> {
  fwd.setWeights(
    new Map([...(await arrays(model.trainableParameters())), ...(await arrays(model.frozenTensors()))]),
    run,
  );
  return {
    name: model.name,
    config: model.config,
    dims: model.dims,
    forward: (inputs, opts) => model.forward(inputs, opts),
    trainableParameters: () => model.trainableParameters(),
    frozenTensors: () => model.frozenTensors(),
    parameterCount: () => model.parameterCount(),
    dispose: () => {},
    lastActions: (w, B, largest) => fwd.lastActions(w, B, largest, run),
    evaluationDone: () => fwd.close(run),
  };
}
