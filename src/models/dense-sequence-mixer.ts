/**
 * Dense Sequence Mixer (DSM), spec §3.2: one dense matrix W ∈ ℝ^{D×kD} (no bias) over a causal window
 * of k tokens, oldest first, channels contiguous per token: out_i = W · [U_{i−k+1}; …; U_i], with
 * zeros before position 0 (the padding comes after LN1, so it is exact).
 *
 * Computed as one matmul on the concatenated window [B, L, kD], which keeps W in its PyTorch [out, in]
 * layout (no kernel transpose) and uses one large GEMM. The window is one kernel on cpu and wasm (a copy
 * of rows forward, their overlap-add backward); elsewhere k slices of the padded input, concatenated
 * (pad, k slices and a concat forward, k pads and a sum backward: about 13% of a wasm forward).
 *
 * Modes (spec §3.5): `per-layer` (trainable, N(0, 0.02²), counted) or `shared-frozen` (one untrained
 * U(±1/√(kD)) matrix reused by every layer, saved but not counted or optimised).
 */
import * as tf from '@tensorflow/tfjs';
import { Linear, Module, matMulWT, padTokens, uniform } from '../nn';
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

/** Kernel names of the window op and its gradient (cpu and wasm only). */
export const CausalWindows = 'DmmCausalWindows';
export const CausalWindowsGrad = 'DmmCausalWindowsGrad';

/**
 * out[b, i, j·D + c] = x[b, i − k + 1 + j, c], 0 before the start; x [B, L, D] → out [B, L, kD].
 * The window of token i is the contiguous block of rows max(0, i−k+1)…i: one copy per token.
 */
function windowsInto(x: Float32Array, out: Float32Array, b: number, l: number, d: number, k: number): void {
  const kd = k * d;
  for (let n = 0; n < b; n++) {
    const base = n * l * d;
    for (let i = 0; i < l; i++) {
      const o = (n * l + i) * kd;
      const pad = Math.max(0, k - 1 - i); // window slots before the start
      if (pad > 0) out.fill(0, o, o + pad * d);
      const t0 = i - k + 1 + pad;
      out.set(x.subarray(base + t0 * d, base + (i + 1) * d), o + pad * d);
    }
  }
}

/** The adjoint: dx[b, t, c] = Σ_j dy[b, t + k − 1 − j, j·D + c] over rows inside the sequence. */
function windowsGradInto(dy: Float32Array, dx: Float32Array, b: number, l: number, d: number, k: number): void {
  dx.fill(0);
  const kd = k * d;
  for (let n = 0; n < b; n++) {
    const base = n * l * d;
    for (let i = 0; i < l; i++) {
      const pad = Math.max(0, k - 1 - i);
      const o = (n * l + i) * kd + pad * d;
      const s = base + (i - k + 1 + pad) * d;
      const m = (k - pad) * d;
      for (let c = 0; c < m; c++) dx[s + c] += dy[o + c];
    }
  }
}

interface HeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}
interface CpuBackend {
  data: { get(id: object): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo;
}

/** One kernel per backend: `run(src, dst, ...dims)` on typed arrays, output shape from the input's. */
function registerWindowKernel(name: string, run: typeof windowsInto, outShape: (s: number[], k: number) => number[]) {
  const dims = (shape: number[], k: number, forward: boolean): [number, number, number, number] => [
    shape[0],
    shape[1],
    forward ? shape[2] : shape[2] / k,
    k,
  ];
  const forward = name === CausalWindows;
  if (!tf.getKernel(name, 'wasm')) {
    tf.registerKernel({
      kernelName: name,
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend, attrs }) => {
        const be = backend as unknown as HeapBackend;
        const x = (inputs as unknown as tf.TensorInfo[])[0] ?? (inputs as tf.NamedTensorInfoMap).x;
        const k = (attrs as { k: number }).k;
        const out = be.makeOutput(outShape(x.shape, k), 'float32'); // first: it may grow the heap
        run(be.typedArrayFromHeap(x), be.typedArrayFromHeap(out), ...dims(x.shape, k, forward));
        return out;
      },
    });
  }
  if (!tf.getKernel(name, 'cpu')) {
    tf.registerKernel({
      kernelName: name,
      backendName: 'cpu',
      kernelFunc: ({ inputs, backend, attrs }) => {
        const be = backend as unknown as CpuBackend;
        const x = (inputs as unknown as tf.TensorInfo[])[0] ?? (inputs as tf.NamedTensorInfoMap).x;
        const k = (attrs as { k: number }).k;
        const shape = outShape(x.shape, k);
        const out = new Float32Array(shape.reduce((p, q) => p * q, 1));
        run(be.data.get(x.dataId).values as Float32Array, out, ...dims(x.shape, k, forward));
        return be.makeTensorInfo(shape, 'float32', out);
      },
    });
  }
}

registerWindowKernel(CausalWindows, windowsInto, (s, k) => [s[0], s[1], k * s[2]]);
registerWindowKernel(CausalWindowsGrad, windowsGradInto, (s, k) => [s[0], s[1], s[2] / k]);
if (!tf.getGradient(CausalWindows)) {
  tf.registerGradient({
    kernelName: CausalWindows,
    gradFunc: (dy, _saved, attrs) => ({
      x: () => tf.engine().runKernel(CausalWindowsGrad, { x: dy as tf.Tensor }, attrs as tf.NamedAttrMap) as tf.Tensor,
    }),
  });
}

/**
 * [B, L, D] → [B, L, kD]: row i is [U_{i−k+1}, …, U_i] (oldest first), zeros before the start.
 * `path`: 'kernel' where the backend has it (cpu, wasm), else 'composite' (pad, slices, concat).
 */
export function causalWindows(u: tf.Tensor, k: number, path?: 'kernel' | 'composite'): tf.Tensor {
  if (k === 1) return u;
  const kernelOk = tf.getKernel(CausalWindows, tf.getBackend()) !== undefined && u.dtype === 'float32';
  if ((path ?? (kernelOk ? 'kernel' : 'composite')) === 'kernel' && kernelOk)
    return tf.engine().runKernel(CausalWindows, { x: u }, { k }) as tf.Tensor;
  const [b, l, d] = u.shape;
  const up = padTokens(u, k - 1); // [B, L+k−1, D]
  const slices: tf.Tensor[] = [];
  for (let j = 0; j < k; j++) slices.push(up.slice([0, j, 0], [b, l, d]));
  return tf.concat(slices, 2);
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
