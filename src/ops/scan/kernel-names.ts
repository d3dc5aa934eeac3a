/**
 * Names and types of the selective-scan kernels (the tfjs split: names here, the op in index.ts, the
 * gradient and every backend's kernel registered in register.ts). docs/spec.md §4.
 */
import type { NamedAttrMap } from '@tensorflow/tfjs';

/** Forward kernel: out = selective scan of the inputs. */
export const SelectiveScan = 'DmmSelectiveScan';
/** Backward kernel: the gradients of every input, given dy = ∂ℒ/∂out. */
export const SelectiveScanGrad = 'DmmSelectiveScanGrad';

/**
 * Inputs in the order the op passes them (as an array, so that the gradient can save all of them);
 * D, z and deltaBias are present only when given.
 */
export const SCAN_INPUT_NAMES = ['u', 'delta', 'A', 'B', 'C', 'D', 'z', 'deltaBias'] as const;
export type ScanInputName = (typeof SCAN_INPUT_NAMES)[number];

/** Attributes of both kernels. The has* flags say which optional inputs are present. */
export interface SelectiveScanAttrs extends NamedAttrMap {
  deltaSoftplus: boolean;
  hasD: boolean;
  hasZ: boolean;
  hasDeltaBias: boolean;
  /**
   * Token-major layout (cpu and wasm kernels only): u, delta, z, out and their gradients are [B, L, d], and
   * B, C are [B, L, N], the layout the Mamba blocks already hold, so the models need no transposes.
   */
  tokenMajor: boolean;
}

/**
 * The backward kernel returns one tensor per present input, in SCAN_INPUT_NAMES order
 * (u, delta, A, B, C, then D, z, deltaBias when present). Its inputs are the forward inputs plus `dy`.
 */
export function presentInputs(attrs: SelectiveScanAttrs): ScanInputName[] {
  return SCAN_INPUT_NAMES.filter(
    (n) => (n !== 'D' || attrs.hasD) && (n !== 'z' || attrs.hasZ) && (n !== 'deltaBias' || attrs.hasDeltaBias),
  );
}

/** The forward kernel's input array as a map by name. */
export function namedInputs<T>(inputs: ArrayLike<T> | Record<string, T>, attrs: SelectiveScanAttrs): Record<string, T> {
  const arr = inputs as Record<string, T>;
  const named: Record<string, T> = {};
  presentInputs(attrs).forEach((name, k) => (named[name] = arr[k] ?? arr[name]));
  return named;
}
