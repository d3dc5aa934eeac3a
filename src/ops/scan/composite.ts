/**
 * The composite selective scan in tfjs ops, for backends that take no custom kernels (tfjs-node-gpu's
 * 'tensorflow') and as a cross-check. The recurrence h[l] = Ā[l]·h[l−1] + Δ·B·u is a first-order linear
 * recurrence, so it is scanned in ⌈log2 L⌉ doubling steps (Hillis–Steele on pairs (a, b) with
 * (a2, b2) ∘ (a1, b1) = (a2·a1, a2·b1 + b2)). Gradients come from tfjs autodiff. Memory O(B·d·L·N).
 */
import * as tf from '@tensorflow/tfjs';

export function compositeSelectiveScan(
  u: tf.Tensor3D,
  delta: tf.Tensor3D,
  A: tf.Tensor2D,
  B: tf.Tensor3D,
  C: tf.Tensor3D,
  D: tf.Tensor1D | undefined,
  z: tf.Tensor3D | undefined,
  deltaBias: tf.Tensor1D | undefined,
  deltaSoftplus: boolean,
): tf.Tensor3D {
  return tf.tidy(() => {
    const [batch, dim, len] = u.shape;
    const N = A.shape[1];
    let rho: tf.Tensor3D = delta;
    if (deltaBias) rho = tf.add(rho, tf.reshape(deltaBias, [1, dim, 1]));
    // tf.softplus switches to its linear branch at a float32 threshold instead of PyTorch's 20; the
    // two agree to float32 rounding everywhere.
    const dt = deltaSoftplus ? tf.softplus(rho) : rho; // [B, d, L]
    const dt4 = tf.reshape(dt, [batch, dim, len, 1]);
    let a: tf.Tensor4D = tf.exp(tf.mul(dt4, tf.reshape(A, [1, dim, 1, N]))) as tf.Tensor4D; // Ā [B, d, L, N]
    const Bt = tf.reshape(tf.transpose(B, [0, 2, 1]), [batch, 1, len, N]);
    const Ct = tf.reshape(tf.transpose(C, [0, 2, 1]), [batch, 1, len, N]);
    let h: tf.Tensor4D = tf.mul(tf.mul(dt4, tf.reshape(u, [batch, dim, len, 1])), Bt) as tf.Tensor4D; // Δ·B·u [B, d, L, N]
    for (let k = 1; k < len; k *= 2) {
      // Combine each position with the one k steps earlier; the first k positions combine with identity.
      const hPrev = tf.concat([tf.zeros([batch, dim, k, N]), tf.slice(h, [0, 0, 0, 0], [batch, dim, len - k, N])], 2);
      h = tf.add(h, tf.mul(a, hPrev));
      if (2 * k < len) {
        const aPrev = tf.concat([tf.ones([batch, dim, k, N]), tf.slice(a, [0, 0, 0, 0], [batch, dim, len - k, N])], 2);
        a = tf.mul(a, aPrev);
      }
    }
    // At L = 1, Ā multiplies only the zero initial state; keep it in the graph so A gets its (zero) gradient.
    if (len === 1) h = tf.add(h, tf.mul(a, tf.zerosLike(h)));
    let o: tf.Tensor3D = tf.sum(tf.mul(h, Ct), 3); // y [B, d, L]
    if (D) o = tf.add(o, tf.mul(u, tf.reshape(D, [1, dim, 1])));
    return z ? tf.mul(o, tf.mul(z, tf.sigmoid(z))) : o;
  });
}
