/**
 * Every model's gradients agree with central finite differences on a tiny configuration (float32:
 * one random direction per parameter tensor, plus the input-token direction), in training mode with a
 * fixed dropout seed so dropout's masks are part of the checked function.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { maskedActionLoss } from '../../src/models';
import {
  TINY_CASES,
  TINY_DIMS,
  directionalChecks,
  disposeInputs,
  jitterParameters,
  randomInputs,
  randomTensor,
  setupBackend,
  tinyModel,
} from '../helpers/models-fixtures';

// Parameters that receive no gradient by construction (docs/spec.md §7 counting convention, quirk 10, quirk 11).
const UNUSED = /^(transformer\.wte\.weight|predict_state\.|predict_return\.)/;
const UNUSED_MAMBA2_CONV = /global_sequence_mixers\.\d+\.conv1d\.(weight|bias)$/;

describe('gradients vs central finite differences (float32)', () => {
  before(setupBackend);
  for (const c of TINY_CASES) {
    it(c.label, () => {
      const model = tinyModel(c);
      jitterParameters(model, 500);
      const inputs = randomInputs(TINY_DIMS, 2, 3, 11, 20, true);
      // A smooth objective of the outputs: random weights avoid cancellations of a plain sum.
      const w = randomTensor([2, 3, TINY_DIMS.actDim], 5);
      const target = randomTensor([2, 3, TINY_DIMS.actDim], 6, 0.5);
      const f = () =>
        tf.tidy(() => {
          const y = model.forward(inputs, { training: true, dropoutSeed: 99 });
          return maskedActionLoss(y, target, inputs.mask).add(y.mul(w).sum()) as tf.Scalar;
        });
      // DT's ReLU MLP is only piecewise smooth: a smaller step keeps kinks out of the difference, at the
      // price of a higher float32 noise floor (atol).
      const relu = c.name === 'dt';
      const [eps, atol] = relu ? [1e-3, 1e-3] : [1e-2, 2e-4];
      const checks = directionalChecks(f, model.trainableParameters(), 1000, eps);
      const bad: string[] = [];
      for (const { name, analytic, numeric, forward, backward } of checks) {
        if (UNUSED.test(name) || (c.config.globalMixer === 'mamba2' && UNUSED_MAMBA2_CONV.test(name))) {
          if (analytic !== 0) bad.push(`${name}: unused parameter got gradient ${analytic}`);
          continue;
        }
        const close = (fd: number) => Math.abs(analytic - fd) <= 2e-2 * Math.abs(fd) + atol;
        // A ReLU kink inside the step: autodiff must then equal one side's slope (one-sided steps are less
        // accurate, hence only where the central difference is not smooth).
        if (!(close(numeric) || (relu && (close(forward) || close(backward)))))
          bad.push(
            `${name}: autodiff ${analytic.toExponential(4)} vs FD ${numeric.toExponential(4)} (one-sided ${forward.toExponential(4)}, ${backward.toExponential(4)})`,
          );
      }
      // At least most directions must carry a real signal, or the test could not fail.
      const strong = checks.filter((ch) => Math.abs(ch.numeric) > 1e-3).length;
      assert.ok(strong >= checks.length / 2, `${c.label}: only ${strong}/${checks.length} directions have |FD| > 1e-3`);
      assert.deepEqual(bad, []);

      // Input-token gradient (the one tokenGradientNorms uses).
      const tokens = model.embed(inputs);
      const g = (x: tf.Tensor) =>
        tf.tidy(() => {
          const y = model.forwardFromTokens(x, inputs, { training: true, dropoutSeed: 99 });
          return maskedActionLoss(y, target, inputs.mask).add(y.mul(w).sum()) as tf.Scalar;
        });
      const grad = tf.grad(g)(tokens);
      const dir = randomTensor(tokens.shape, 77);
      const unit = dir.div(dir.norm());
      const analytic = grad.mul(unit).sum().dataSync()[0];
      const numeric =
        (g(tokens.add(unit.mul(eps))).dataSync()[0] - g(tokens.sub(unit.mul(eps))).dataSync()[0]) / (2 * eps);
      assert.ok(
        Math.abs(analytic - numeric) <= 2e-2 * Math.abs(numeric) + atol,
        `${c.label} tokens: autodiff ${analytic} vs FD ${numeric}`,
      );
      tf.dispose([tokens, grad, dir, unit, w, target]);
      disposeInputs(inputs);
      model.dispose();
    });
  }
});
