/**
 * Mamba-1 mixer (docs/spec.md §3.3 modified, §5 stock), after `mamba_ssm/modules/mamba_simple.py`.
 *
 *   [x; z] = W_in u;  x = SiLU(conv_k4(x) or x);  [δ_low; B; C] = W_x x;  δ = W_dt δ_low
 *   y = selectiveScan(x, δ, −exp(A_log), B, C, D, z, b_dt, softplus);  out = W_out y
 *
 * Stock (DMa): expand 2, causal depthwise conv k = 4. Modified (DMM): expand 1, no conv.
 * Glossary: D model width, E = expand·D inner width, N = 16 state size, r = ⌈D/16⌉ dt rank.
 */
import * as tf from '@tensorflow/tfjs';
import { CausalDepthwiseConv1d, Linear, Module, constant, mambaDtBias, silu, uniform } from '../nn';
import { matMulWT } from '../ops/matmul';
import { selectiveScanTokens } from '../ops/scan';
import { Rng } from '../util/rng';
import { ForwardContext, tap } from './sequence-model';

/**
 * `official`: the backbone re-initialisation overwrites Mamba's dt init (b_dt = 0, W_dt ~ N(0, 0.02²)),
 * docs/spec.md §3.4, quirk 6. `mamba-default`: Mamba's own (W_dt ~ U(±r^−½), b_dt = softplus⁻¹(log-uniform[1e-3, 0.1])).
 */
export type DtInit = 'official' | 'mamba-default';

export interface MambaOptions {
  expand: number;
  stateSize: number;
  dtRank: number;
  /** Causal depthwise conv width on the x branch; 0 = none (DMM's modified block). */
  convKernel: number;
  dtInit: DtInit;
}

export class MambaBlock extends Module {
  readonly inner: number;
  readonly aLog: tf.Variable; // [E, N]
  readonly dSkip: tf.Variable; // [E]
  readonly inProj: Linear; // [2E, D]
  readonly conv1d?: CausalDepthwiseConv1d; // [E, 1, k]
  readonly xProj: Linear; // [r + 2N, E]
  readonly dtProj: Linear; // [E, r] + bias [E]
  readonly outProj: Linear; // [D, E]

  constructor(
    readonly dModel: number,
    readonly options: MambaOptions,
    rng: Rng,
  ) {
    super();
    const { expand, stateSize: n, dtRank: r } = options;
    const e = (this.inner = expand * dModel);
    // S4D-real: A_log[d, n] = ln(n + 1) (docs/spec.md §3.4).
    const aLog = new Float32Array(e * n);
    for (let d = 0; d < e; d++) for (let j = 0; j < n; j++) aLog[d * n + j] = Math.log(j + 1);
    this.aLog = this.registerParameter('A_log', aLog, [e, n]);
    this.dSkip = this.registerParameter('D', constant(e, 1), [e]);
    this.inProj = this.registerModule('in_proj', new Linear(dModel, 2 * e, rng, { bias: false, init: 'backbone' }));
    if (options.convKernel > 0)
      this.conv1d = this.registerModule('conv1d', new CausalDepthwiseConv1d(e, options.convKernel, rng));
    this.xProj = this.registerModule('x_proj', new Linear(e, r + 2 * n, rng, { bias: false, init: 'backbone' }));
    this.dtProj = this.registerModule('dt_proj', new Linear(r, e, rng, { init: 'backbone' }));
    if (options.dtInit === 'mamba-default') {
      this.dtProj.weight.assign(tf.tensor(uniform(rng, e * r, 1 / Math.sqrt(r)), [e, r]));
      this.dtProj.bias!.assign(tf.tensor(mambaDtBias(rng, e), [e]));
    }
    this.outProj = this.registerModule('out_proj', new Linear(e, dModel, rng, { bias: false, init: 'backbone' }));
  }

  /** u [B, L, D] → [B, L, D]. Taps `${prefix}.scanInput` (x after SiLU) and `.scanOutput` (y after gating). */
  apply(u: tf.Tensor, ctx: ForwardContext, prefix: string): tf.Tensor {
    const [b, l] = u.shape;
    const e = this.inner;
    const { stateSize: n, dtRank: r } = this.options;
    const [xPre, z] = tf.split(this.inProj.apply(u), 2, 2); // [B, L, E] each
    let x = xPre;
    if (this.conv1d) x = this.conv1d.apply(x);
    x = silu(x); // [B, L, E]
    tap(ctx, `${prefix}.scanInput`, x);
    const xDbl = this.xProj.apply(x); // [B, L, r + 2N]
    // Token-major scan: B and C are slices of x_proj's output as they stand, no transposes (docs/spec.md §4).
    const [deltaLow, bMat, cMat] = tf.split(xDbl, [r, n, n], 2); // [B, L, N] for B and C
    const delta = matMulWT(deltaLow.reshape([b * l, r]), this.dtProj.weight).reshape([b, l, e]); // bias goes into the scan
    const a = tf.neg(tf.exp(this.aLog)); // [E, N]
    const y = selectiveScanTokens(x, delta, a, bMat, cMat, this.dSkip, z, this.dtProj.bias, true); // [B, L, E]
    tap(ctx, `${prefix}.scanOutput`, y);
    return this.outProj.apply(y);
  }
}
