/**
 * The pointwise activations the engine's epilogues apply, in JavaScript (the reference) and WGSL, with their
 * derivatives (docs/spec.md §2.12):
 *
 *   GELU(x) = ½·x·(1 + erf(x/√2)) (exact, not tanh);  GELU′(x) = ½·(1 + erf(x/√2)) + x·e^(−x²/2)/√(2π)
 *   ReLU(x) = max(x, 0);                              ReLU′(x) = [x > 0]
 *
 * erf is Abramowitz & Stegun 7.1.26 (absolute error ≤ 1.5e-7, tfjs' CPU kernel uses the same formula): WGSL has
 * no erf and JavaScript has none either, so both sides evaluate the same polynomial.
 */

export type Activation = 'gelu' | 'relu';

const P = 0.3275911;
const A = [0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429];
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

export function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + P * z);
  const y = 1 - ((((A[4] * t + A[3]) * t + A[2]) * t + A[1]) * t + A[0]) * t * Math.exp(-z * z);
  return x < 0 ? -y : y;
}

const gelu = (x: number) => 0.5 * x * (1 + erf(x * Math.SQRT1_2));
const geluGrad = (x: number) => 0.5 * (1 + erf(x * Math.SQRT1_2)) + x * Math.exp(-0.5 * x * x) * INV_SQRT_2PI;
const relu = (x: number) => Math.max(x, 0);
const reluGrad = (x: number) => (x > 0 ? 1 : 0);

/** The activation as a function (chosen once per launch, so loops call one monomorphic function). */
export function activation(fn: Activation): (x: number) => number {
  return fn === 'gelu' ? gelu : relu;
}

export function activationGrad(fn: Activation): (x: number) => number {
  return fn === 'gelu' ? geluGrad : reluGrad;
}

/** WGSL `act(x)` and `actGrad(x)` for `fn`. */
export function activationWgsl(fn: Activation): string {
  if (fn === 'relu')
    return `fn act(x: f32) -> f32 { return max(x, 0.0); }
fn actGrad(x: f32) -> f32 { return select(0.0, 1.0, x > 0.0); }
`;
  return `fn erfF(x: f32) -> f32 {
  let z = abs(x);
  let t = 1.0 / (1.0 + ${P} * z);
  let y = 1.0 - ((((${A[4]} * t + ${A[3]}) * t + ${A[2]}) * t + ${A[1]}) * t + ${A[0]}) * t * exp(-z * z);
  return select(y, -y, x < 0.0);
}
fn act(x: f32) -> f32 { return 0.5 * x * (1.0 + erfF(x * ${Math.SQRT1_2})); }
fn actGrad(x: f32) -> f32 { return 0.5 * (1.0 + erfF(x * ${Math.SQRT1_2})) + x * exp(-0.5 * x * x) * ${INV_SQRT_2PI}; }
`;
}
