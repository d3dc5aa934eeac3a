/**
 * What the live explorer reads of a model at one evaluation step: the action it plays, every tap of every
 * layer (src/models/taps.ts forwardWithTaps) and the Figure 4 token-gradient norms (tokenGradientNorms) of the
 * window it reads. The page (page.ts) and its Node check call the same function, so the browser shows the
 * kit's own numbers.
 */
import * as tf from '@tensorflow/tfjs';
import { forwardWithTaps, tokenGradientNorms, type SequenceModel } from '../models';
import type { WindowArrays } from '../eval/windows';

/** The 3K tokens of a window are (R, s, a) of each step in turn (docs/spec.md §2.1). */
export const TOKEN_TYPES = ['R', 's', 'a'] as const;

/** Token j of a 3K sequence is (R, s, a)[j mod 3] of step ⌊j/3⌋ + 1. */
export const tokenLabels = (K: number) =>
  Array.from({ length: 3 * K }, (_, j) => `${TOKEN_TYPES[j % 3]}${Math.floor(j / 3) + 1}`);

export interface StepInsight {
  /** The action at the last position, [a]: what the evaluator plays. */
  action: Float32Array;
  /** taps[name][layer] = [3K · C] row-major (token, channel). */
  taps: Record<string, Float32Array[]>;
  /** Channels C of each tap. */
  channels: Record<string, number>;
  /** ‖∂ℒ/∂x_j‖₂ per input token j, [3K]. */
  gradientNorms: Float32Array;
}

function windowTensors(w: WindowArrays, K: number, s: number, a: number) {
  return {
    states: tf.tensor3d(w.states, [1, K, s]),
    actions: tf.tensor3d(w.actions, [1, K, a]),
    returnsToGo: tf.tensor3d(w.returnsToGo, [1, K, 1]),
    timesteps: tf.tensor2d(w.timesteps, [1, K], 'int32'),
    mask: tf.tensor2d(w.mask, [1, K]),
  };
}

/**
 * Runs the model on one window ([1, K, ·]). The gradient norms are Figure 4's with one change: ℒ is the
 * masked MSE of the window's predicted actions against 0, because an evaluation window has no dataset
 * actions to aim at; so the profile says how strongly each input token drives the actions the model outputs.
 */
export async function inspectWindow(model: SequenceModel, w: WindowArrays): Promise<StepInsight> {
  const K = Number((model.config as Record<string, unknown>).contextLength);
  const { stateDim: s, actDim: a } = model.dims;
  const inputs = windowTensors(w, K, s, a);
  const { output, taps } = forwardWithTaps(model, inputs, { training: false });
  const zeros = tf.zerosLike(inputs.actions);
  const grads = tokenGradientNorms(model, inputs, zeros, { training: false });
  try {
    const out = (await output.data()) as Float32Array; // [1, K, a]
    const byTap: Record<string, Float32Array[]> = {};
    const channels: Record<string, number> = {};
    for (const [name, t] of Object.entries(taps)) {
      const m = /^layers\.(\d+)\.(\w+)$/.exec(name);
      if (!m) continue;
      (byTap[m[2]] ??= [])[Number(m[1])] = (await t.data()) as Float32Array; // [1, 3K, C]
      channels[m[2]] = t.shape[2] as number;
    }
    return {
      action: out.slice((K - 1) * a, K * a),
      taps: byTap,
      channels,
      gradientNorms: (await grads.mean.data()) as Float32Array,
    };
  } finally {
    tf.dispose([output, ...Object.values(taps), zeros, grads.mean, grads.perWindow, ...Object.values(inputs)]);
  }
}

/** Mean |value| over the channels and tokens of each type, of one [3K · C] tap. */
export function tokenTypeMeans(
  values: ArrayLike<number>,
  channels: number,
): Record<(typeof TOKEN_TYPES)[number], number> {
  const sum = [0, 0, 0];
  const n = [0, 0, 0];
  const tokens = values.length / channels;
  for (let j = 0; j < tokens; j++) {
    for (let c = 0; c < channels; c++) sum[j % 3] += Math.abs(values[j * channels + c]);
    n[j % 3] += channels;
  }
  return { R: sum[0] / n[0], s: sum[1] / n[1], a: sum[2] / n[2] };
}
