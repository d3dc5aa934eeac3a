/** Names and attributes of the DSM's causal-window kernels (the tfjs split; docs/spec.md §3.2). */
import type { NamedAttrMap } from '@tensorflow/tfjs';

/** Forward: x [B, L, D] → the windows [B, L, kD]. */
export const CausalWindows = 'DmmCausalWindows';
/** Backward: dy [B, L, kD] → dx [B, L, D] (the overlap-add). */
export const CausalWindowsGrad = 'DmmCausalWindowsGrad';

export interface CausalWindowsAttrs extends NamedAttrMap {
  /** Window length k. */
  k: number;
}
