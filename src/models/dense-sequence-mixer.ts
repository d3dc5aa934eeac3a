/**
 * Dense Sequence Mixer (DSM), docs/spec.md §3.2: one dense matrix W ∈ ℝ^{D×kD} (no bias) over a causal window
 * of k tokens, oldest first, channels contiguous per token: out_i = W · [U_{i−k+1}; …; U_i], with
 * zeros before position 0 (the padding comes after LN1, so it is exact).
 *
 * Computed as one matmul on the concatenated window [B, L, kD] (`causalWindows`, src/ops/causal-windows/),
 * which keeps W in its PyTorch [out, in] layout (no kernel transpose) and uses one large GEMM.
 *
 * Modes (docs/spec.md §3.5): `per-layer` (trainable, N(0, 0.02²), counted) or `shared-frozen` (one untrained
 * U(±1/√(kD)) matrix reused by every layer, saved but not counted or optimised).
 */
import * as tf from '@tensorflow/tfjs';
import { Linear, Module, uniform } from '../nn';
import { causalWindows } from '../ops/causal-windows/causal-windows';
import { matMulWT } from '../ops/matmul';
import { Rng } from '../util/rng';

/** A Linear(kD → D, no bias) whose weight is frozen: `lin.weight` in the file, never trained. */
class FrozenLinear extends Module {
  readonly weight: tf.Tensor;

  constructor(inFeatures: number, outFeatures: number, rng: Rng) {
    super();
    this.weight = this.registerFrozen('weight', uniform(rng, outFeatures * inFeatures, 1 / Math.sqrt(inFeatures)), [
      outFeatures,
      inFeatures,
    ]);
  }
}

export class DenseSequenceMixer extends Module {
  readonly weight: tf.Tensor; // [D, kD]

  constructor(
    readonly hidden: number,
    readonly windowSize: number,
    rng: Rng,
    frozen = false,
  ) {
    super();
    const kd = windowSize * hidden;
    this.weight = frozen
      ? this.registerModule('lin', new FrozenLinear(kd, hidden, rng)).weight
      : this.registerModule('lin', new Linear(kd, hidden, rng, { bias: false, init: 'backbone' })).weight;
  }

  /** u [B, L, D] → [B, L, D]. */
  apply(u: tf.Tensor): tf.Tensor {
    const [b, l, d] = u.shape;
    const v = causalWindows(u, this.windowSize).reshape([b * l, this.windowSize * d]); // [B·L, kD]
    return matMulWT(v, this.weight).reshape([b, l, d]);
  }
}
