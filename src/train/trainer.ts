/**
 * The training step of model-spec.md §9: sample a batch → forward in training mode → masked action MSE
 * → backward → clip the global grad norm to 0.25 → AdamW at the warm-up learning rate. Dropout masks
 * come from a seed derived per step from the run seed, so a resumed run draws the same masks.
 */
import type { Scalar, Tensor, Variable } from '@tensorflow/tfjs';
import { tf } from '../backend';
import type { TrainConfig } from '../config/train';
import { check } from '../util/check';
import { deriveSeed } from '../util/rng';
import { AdamW, clipGlobalNorm, warmupLearningRate } from './adamw';
import type { Batch, BatchSource, EngineDeps, SequenceModel } from './deps';

export class Trainer {
  readonly optimizer: AdamW;
  private readonly params: Map<string, Variable>;
  private readonly K: number;

  constructor(
    readonly model: SequenceModel,
    readonly sampler: BatchSource,
    readonly config: Readonly<TrainConfig>,
    readonly seed: number,
    private readonly loss: EngineDeps['maskedActionLoss'],
  ) {
    this.params = model.trainableParameters();
    this.optimizer = new AdamW(this.params, { weightDecay: config.weightDecay });
    this.K = Number(model.config.contextLength);
    check(
      Number.isInteger(this.K) && this.K > 0,
      () =>
        `Error in Trainer: model.config.contextLength must be a positive integer, got ${model.config.contextLength}.`,
    );
  }

  /** Optimiser steps taken so far. */
  get step(): number {
    return this.optimizer.step;
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

  /** One optimiser step; returns the batch loss as a kept scalar tensor (the caller disposes it). */
  trainStep(): Scalar {
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

  dispose(): void {
    this.optimizer.dispose();
  }
}
