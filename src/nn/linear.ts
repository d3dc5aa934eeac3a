/**
 * `Linear` (PyTorch layout: weight [out, in], y = x Wᵀ + b) and `Conv1D` (HF GPT-2 layout: weight
 * [in, out], y = x W + b), both applied to the last axis of an input of any rank.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/rng';
import { LinearInit, initBias, initWeight } from './init';
import { biasAdd } from '../ops/affine';
import { matMul, matMulWT } from '../ops/matmul';
import { Module } from './module';

export interface LinearOptions {
  bias?: boolean;
  init: LinearInit;
}

/** Flattens all leading axes, runs `f` on the 2-D view, restores them. */
function onLastAxis(x: tf.Tensor, outFeatures: number, f: (x2: tf.Tensor2D) => tf.Tensor2D): tf.Tensor {
  const lead = x.shape.slice(0, -1);
  const inF = x.shape[x.shape.length - 1];
  const y = f(x.reshape([-1, inF]) as tf.Tensor2D);
  return y.reshape([...lead, outFeatures]);
}

function addBias(y: tf.Tensor2D, bias?: tf.Tensor): tf.Tensor2D {
  return bias ? (biasAdd(y, bias) as tf.Tensor2D) : y;
}

export class Linear extends Module {
  readonly weight: tf.Variable; // [out, in]
  readonly bias?: tf.Variable; // [out]

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    rng: Rng,
    options: LinearOptions,
  ) {
    super();
    this.weight = this.registerParameter(
      'weight',
      initWeight(rng, outFeatures * inFeatures, inFeatures, options.init),
      [outFeatures, inFeatures],
    );
    if (options.bias !== false)
      this.bias = this.registerParameter('bias', initBias(rng, outFeatures, inFeatures, options.init), [outFeatures]);
  }

  /** x [..., in] → [..., out]. */
  apply(x: tf.Tensor): tf.Tensor {
    return onLastAxis(x, this.outFeatures, (x2) => addBias(matMulWT(x2, this.weight) as tf.Tensor2D, this.bias));
  }
}

/** HF `Conv1D` (DT's GPT-2): a Linear whose weight is stored [in, out]; docs/spec.md §13. */
export class Conv1D extends Module {
  readonly weight: tf.Variable; // [in, out]
  readonly bias: tf.Variable; // [out]

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    rng: Rng,
  ) {
    super();
    // GPT-2 `_init_weights`: N(0, 0.02²), bias 0 (docs/spec.md §6.1).
    this.weight = this.registerParameter('weight', initWeight(rng, inFeatures * outFeatures, inFeatures, 'backbone'), [
      inFeatures,
      outFeatures,
    ]);
    this.bias = this.registerParameter('bias', initBias(rng, outFeatures, inFeatures, 'backbone'), [outFeatures]);
  }

  apply(x: tf.Tensor): tf.Tensor {
    return onLastAxis(x, this.outFeatures, (x2) => addBias(matMul(x2, this.weight) as tf.Tensor2D, this.bias));
  }
}
