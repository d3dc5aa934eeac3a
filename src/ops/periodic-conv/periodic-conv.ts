/**
 * periodicCausalConv: a causal depthwise convolution whose taps repeat with period P along the sequence
 * (DC's kernel per token type for P = 3, an ordinary depthwise conv for P = 1), and its composite
 * formulation causalTapSum. Written as k shifted products rather than tf.depthwiseConv2d because the wasm
 * backend has no depthwise-conv backward kernels; on cpu and wasm one custom op with typed-array loops
 * (SIMD in ./simd.ts when C is a multiple of 4), its gradient computed by the same loops.
 */
import * as tf from '@tensorflow/tfjs';
import { customOp } from '../custom-op';
import { simdConvBackward, simdConvForward, simdConvUsable } from './simd';

/** Left-pads the token axis (1) of [B, L, C] with `n` zero tokens. */
export function padTokens(x: tf.Tensor, n: number): tf.Tensor {
  return n === 0
    ? x
    : tf.pad(x, [
        [0, 0],
        [n, 0],
        [0, 0],
      ]);
}

/**
 * Σ_j taps[j] ⊙ xpad[:, j : j + L, :] for a left-padded input, taps [k, C] or [k, L, C] (per position):
 * the composite formulation, k shifted products (what `periodicCausalConv` runs for P = 1 and on GPUs).
 */
export function causalTapSum(x: tf.Tensor, taps: tf.Tensor): tf.Tensor {
  const [b, l, c] = x.shape;
  const k = taps.shape[0];
  const xp = padTokens(x, k - 1);
  let y: tf.Tensor | undefined;
  for (let j = 0; j < k; j++) {
    const w =
      taps.rank === 2 ? taps.slice([j, 0], [1, c]).reshape([c]) : taps.slice([j, 0, 0], [1, l, c]).reshape([l, c]);
    const term = xp.slice([0, j, 0], [b, l, c]).mul(w);
    y = y ? y.add(term) : term;
  }
  return y!;
}

/** Sizes of one periodic causal convolution: x [B, L, C], taps [k, P, C], L a multiple of P. */
interface ConvDims {
  b: number;
  l: number;
  c: number;
  k: number;
  period: number;
}

/**
 * y[b, i, c] = Σ_j x[b, i − k + 1 + j, c] · w[j, i mod P, c] (+ bias[i mod P, c]) in float32, term by term
 * in j order, exactly as causalTapSum's chain of products and adds rounds (each product and each partial
 * sum rounded to float32; Math.fround of a double product or sum of two float32 values is the float32
 * result).
 */
function convForward(x: Float32Array, w: Float32Array, bias: Float32Array | null, dims: ConvDims): Float32Array {
  if (simdConvUsable(dims.c)) return simdConvForward(x, w, bias, dims);
  const { b, l, c, k, period } = dims;
  const y = new Float32Array(b * l * c);
  for (let bb = 0; bb < b; bb++) {
    for (let i = 0; i < l; i++) {
      const tau = i % period;
      const out = (bb * l + i) * c;
      for (let j = 0; j < k; j++) {
        const p = i - k + 1 + j;
        const wOff = (j * period + tau) * c;
        if (p < 0) continue; // a zero-padded term adds 0 (y starts at 0: 0 + t = t exactly)
        const xOff = (bb * l + p) * c;
        for (let cc = 0; cc < c; cc++) y[out + cc] = y[out + cc] + Math.fround(x[xOff + cc] * w[wOff + cc]);
      }
      if (bias) {
        const bOff = tau * c;
        for (let cc = 0; cc < c; cc++) y[out + cc] = y[out + cc] + bias[bOff + cc];
      }
    }
  }
  return y;
}

/** Gradients of Σ dy·y: dx [B, L, C], dw [k, P, C], dbias [P, C] (float64 sums, stored as float32). */
function convBackward(
  x: Float32Array,
  w: Float32Array,
  dy: Float32Array,
  dims: ConvDims,
): { dx: Float32Array; dw: Float32Array; dbias: Float32Array } {
  if (simdConvUsable(dims.c)) return simdConvBackward(x, w, dy, dims);
  const { b, l, c, k, period } = dims;
  const dx = new Float64Array(b * l * c);
  const dw = new Float64Array(k * period * c);
  const db = new Float64Array(period * c);
  for (let bb = 0; bb < b; bb++) {
    for (let i = 0; i < l; i++) {
      const tau = i % period;
      const g = (bb * l + i) * c;
      for (let cc = 0; cc < c; cc++) db[tau * c + cc] += dy[g + cc];
      for (let j = 0; j < k; j++) {
        const p = i - k + 1 + j;
        if (p < 0) continue;
        const wOff = (j * period + tau) * c;
        const xOff = (bb * l + p) * c;
        for (let cc = 0; cc < c; cc++) {
          dx[xOff + cc] += dy[g + cc] * w[wOff + cc];
          dw[wOff + cc] += dy[g + cc] * x[xOff + cc];
        }
      }
    }
  }
  return { dx: Float32Array.from(dx), dw: Float32Array.from(dw), dbias: Float32Array.from(db) };
}

function dimsOf(x: tf.Tensor, taps: tf.Tensor): ConvDims {
  const [b, l, c] = x.shape;
  const [k, period] = taps.shape;
  return { b, l, c, k, period };
}

const f32 = (t: tf.Tensor) => t.dataSync() as Float32Array;

const convWithBias = customOp((save, x: tf.Tensor, taps: tf.Tensor, bias: tf.Tensor) => {
  save([x, taps]);
  const dims = dimsOf(x, taps);
  return {
    value: tf.tensor(convForward(f32(x), f32(taps), f32(bias), dims), x.shape, 'float32'),
    gradFunc: (dy: tf.Tensor, [sx, st]: tf.Tensor[]) => {
      const g = convBackward(f32(sx), f32(st), f32(dy), dims);
      return [tf.tensor(g.dx, sx.shape), tf.tensor(g.dw, st.shape), tf.tensor(g.dbias, [dims.period, dims.c])];
    },
  };
});

const convNoBias = customOp((save, x: tf.Tensor, taps: tf.Tensor) => {
  save([x, taps]);
  const dims = dimsOf(x, taps);
  return {
    value: tf.tensor(convForward(f32(x), f32(taps), null, dims), x.shape, 'float32'),
    gradFunc: (dy: tf.Tensor, [sx, st]: tf.Tensor[]) => {
      const g = convBackward(f32(sx), f32(st), f32(dy), dims);
      return [tf.tensor(g.dx, sx.shape), tf.tensor(g.dw, st.shape)];
    },
  };
});

/**
 * Causal depthwise convolution whose taps repeat with period P along the sequence: x [B, L, C],
 * taps [k, P, C] (L a multiple of P), optional bias [P, C] →
 *   y[b, i, c] = Σ_j x[b, i − k + 1 + j, c] · taps[j, i mod P, c] + bias[i mod P, c].
 * P = 1 is an ordinary depthwise conv (Mamba's); P = 3 gives DC's kernel per token type. On the CPU
 * backends (cpu, wasm) it is one custom op, SIMD loops (simd-conv.ts) when C is a multiple of 4, JS loops
 * otherwise, in place of causalTapSum's k padded slices, products and adds over taps tiled to every
 * position and their ~4k gradient kernels; the forward is the same float32 arithmetic, bit for bit. The
 * JS loops are no faster than tfjs for P = 1 (no tile to save), so P = 1 without SIMD, and GPU backends,
 * keep causalTapSum. Fwd+bwd at B = 32: DC (L 24, C 128, k 6) 33 → 4 ms, Mamba (L 60, C 256, k 4) 75 → ~10 ms.
 */
export function periodicCausalConv(x: tf.Tensor, taps: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  const backend = tf.getBackend();
  const [, period, c] = taps.shape;
  if ((backend === 'wasm' || backend === 'cpu') && (period > 1 || simdConvUsable(c)))
    return bias ? convWithBias(x, taps, bias) : convNoBias(x, taps);
  return tf.tidy(() => {
    const [, l] = x.shape;
    const [k, period, c] = taps.shape;
    const reps = l / period;
    const pos = period === 1 ? taps.reshape([k, c]) : taps.tile([1, reps, 1]);
    const y = causalTapSum(x, pos);
    if (!bias) return y;
    return y.add(period === 1 ? bias.reshape([c]) : bias.tile([reps, 1]));
  });
}
