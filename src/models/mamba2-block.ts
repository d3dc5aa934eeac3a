/**
 * Mamba-2 mixer as DMM's `--global_sequence_mixer mamba2` builds it (docs/spec.md §3.6): expand 1, head dim 16,
 * H = D/16 heads, N₂ = 128, one group, the depthwise conv constructed but bypassed, gated RMSNorm
 * (`norm_before_gate=False`). The per-head recurrence S_h ← exp(Δ_h A_h) S_h + Δ_h x_h Bᵀ is mapped onto
 * the Mamba-1 `selectiveScan` by broadcasting Δ, A, D and dt_bias of a head over its 16 channels, with
 * B and C shared by every channel (docs/spec.md §4, "Mamba-2 mapping"). This is the sequential form; for
 * L ≤ 256 the official chunked kernel is one chunk and equals it up to rounding.
 */
import * as tf from '@tensorflow/tfjs';
import { CausalDepthwiseConv1d, GatedRMSNorm, Linear, Module, constant, mambaDtBias, silu } from '../nn';
import { selectiveScanTokens } from '../ops/scan';
import { Rng } from '../util/rng';
import { ForwardContext, tap } from './sequence-model';

export const MAMBA2_HEAD_DIM = 16;
export const MAMBA2_STATE_SIZE = 128;

/** [..., H] → [..., H·16]: each head's value repeated over its 16 channels (gradients sum back). */
function perChannel(t: tf.Tensor): tf.Tensor {
  const shape = t.shape;
  const h = shape[shape.length - 1];
  return t
    .reshape([...shape, 1])
    .tile([...shape.map(() => 1), MAMBA2_HEAD_DIM])
    .reshape([...shape.slice(0, -1), h * MAMBA2_HEAD_DIM]);
}

export class Mamba2Block extends Module {
  readonly nHeads: number;
  readonly dtBias: tf.Variable; // [H]
  readonly aLog: tf.Variable; // [H]
  readonly dSkip: tf.Variable; // [H]
  readonly inProj: Linear; // [2D + 2N₂ + H, D]
  readonly conv1d: CausalDepthwiseConv1d; // [D + 2N₂, 1, 4], never used (docs/spec.md quirk 10)
  readonly norm: GatedRMSNorm;
  readonly outProj: Linear;

  constructor(
    readonly dModel: number,
    rng: Rng,
  ) {
    super();
    const h = (this.nHeads = dModel / MAMBA2_HEAD_DIM);
    const n = MAMBA2_STATE_SIZE;
    // Bare parameters keep Mamba-2's init; `_init_weights` reaches only the Linears (docs/spec.md §3.6).
    this.dtBias = this.registerParameter('dt_bias', mambaDtBias(rng, h), [h]);
    const aLog = new Float32Array(h);
    for (let i = 0; i < h; i++) aLog[i] = Math.log(rng.range(1, 16));
    this.aLog = this.registerParameter('A_log', aLog, [h]);
    this.dSkip = this.registerParameter('D', constant(h, 1), [h]);
    this.inProj = this.registerModule(
      'in_proj',
      new Linear(dModel, 2 * dModel + 2 * n + h, rng, { bias: false, init: 'backbone' }),
    );
    this.conv1d = this.registerModule('conv1d', new CausalDepthwiseConv1d(dModel + 2 * n, 4, rng));
    this.norm = this.registerModule('norm', new GatedRMSNorm(dModel));
    this.outProj = this.registerModule('out_proj', new Linear(dModel, dModel, rng, { bias: false, init: 'backbone' }));
  }

  /** u [B, L, D] → [B, L, D]. Taps `.scanInput` (x after SiLU) and `.scanOutput` (gated, normalised y). */
  apply(u: tf.Tensor, ctx: ForwardContext, prefix: string): tf.Tensor {
    const [b, l, d] = u.shape;
    const n = MAMBA2_STATE_SIZE;
    const h = this.nHeads;
    const zxbcdt = this.inProj.apply(u); // [B, L, 2D + 2N + H], ordered [z | xBC | dt]
    const z = zxbcdt.slice([0, 0, 0], [b, l, d]);
    const xbc = silu(zxbcdt.slice([0, 0, d], [b, l, d + 2 * n])); // conv bypassed
    const dt = zxbcdt.slice([0, 0, 2 * d + 2 * n], [b, l, h]); // [B, L, H]
    const x = xbc.slice([0, 0, 0], [b, l, d]);
    tap(ctx, `${prefix}.scanInput`, x);
    const bMat = xbc.slice([0, 0, d], [b, l, n]); // [B, L, N], token-major for the scan
    const cMat = xbc.slice([0, 0, d + n], [b, l, n]);
    const delta = perChannel(dt); // [B, L, D]
    const a = perChannel(tf.neg(tf.exp(this.aLog)))
      .reshape([d, 1])
      .tile([1, n]); // [D, N]
    const y = selectiveScanTokens(
      x,
      delta,
      a,
      bMat,
      cMat,
      perChannel(this.dSkip),
      undefined,
      perChannel(this.dtBias),
      true,
    ); // [B, L, D]
    const g = this.norm.apply(y, z);
    tap(ctx, `${prefix}.scanOutput`, g);
    return this.outProj.apply(g);
  }
}
