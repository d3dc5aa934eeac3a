/**
 * selectiveScan: the selective scan of Mamba (docs/spec.md §4; official `selective_scan_fn` without a
 * returned last state). Models import only this function.
 *
 *   u, delta, z: [B, d, L]   A: [d, N]   B, C: [B, N, L]   D, deltaBias: [d]   →   out [B, d, L] float32
 *
 * Differentiable with respect to every tensor input on every backend. Paths (docs/scan.md):
 * - 'fused': the active backend's registered kernels (cpu, wasm: typed-array loops; webgpu: WGSL), with a
 *   registered gradient that calls the backward kernel;
 * - 'composite': a log-depth scan in tfjs ops with autodiff, for backends without custom kernels;
 * - 'reference': the float64 plain-JS reference through dataSync (tests only; slow).
 * The op picks 'fused' when the active backend has the kernel, else 'composite'; DMM_SCAN forces a path.
 *
 * `selectiveScanTokens` is the same scan on token-major tensors (u, delta, z, out [B, L, d]; B, C [B, L, N]),
 * the layout the Mamba blocks hold: the cpu and wasm kernels take it directly, other paths transpose.
 */
import * as tf from '@tensorflow/tfjs';
import { check, nearest } from '../../util/check';
import { compositeSelectiveScan } from './composite';
import { SelectiveScan, SelectiveScanGrad, type SelectiveScanAttrs } from './kernel-names';
import { scanBackwardReference, scanForwardReference, type ScanArrays, type ScanDims } from './reference';
import '../register';

export const SCAN_PATHS = ['fused', 'composite', 'reference'] as const;
export type ScanPath = (typeof SCAN_PATHS)[number];

/** The path `selectiveScan` takes on the active backend (DMM_SCAN, else fused when registered). */
export function scanPath(): ScanPath {
  const forced = typeof process !== 'undefined' ? process.env?.DMM_SCAN : undefined;
  const backend = tf.getBackend();
  const fusedOk =
    tf.getKernel(SelectiveScan, backend) !== undefined && tf.getKernel(SelectiveScanGrad, backend) !== undefined;
  if (forced !== undefined && forced !== '') {
    check(
      (SCAN_PATHS as readonly string[]).includes(forced),
      () =>
        `Error in selectiveScan: DMM_SCAN must be one of ${SCAN_PATHS.join(', ')}, got '${forced}'. Did you mean '${nearest(forced, SCAN_PATHS)}'?`,
    );
    check(
      forced !== 'fused' || fusedOk,
      () =>
        `Error in selectiveScan: DMM_SCAN=fused needs a fused kernel for backend '${backend}', which has none. Use DMM_SCAN=composite.`,
    );
    return forced as ScanPath;
  }
  return fusedOk ? 'fused' : 'composite';
}

function checkShape(name: string, t: tf.Tensor | undefined, want: number[], fn = 'selectiveScan'): void {
  if (!t) return;
  check(t.dtype === 'float32', () => `Error in ${fn}: ${name} must be float32, got ${t.dtype}.`);
  check(
    t.rank === want.length && t.shape.every((s, i) => s === want[i]),
    () => `Error in ${fn}: ${name} must have shape [${want.join(', ')}], got [${t.shape.join(', ')}].`,
  );
}

export function selectiveScan(
  u: tf.Tensor,
  delta: tf.Tensor,
  A: tf.Tensor,
  B: tf.Tensor,
  C: tf.Tensor,
  D?: tf.Tensor,
  z?: tf.Tensor,
  deltaBias?: tf.Tensor,
  deltaSoftplus = true,
  path?: ScanPath,
): tf.Tensor3D {
  check(u.rank === 3, () => `Error in selectiveScan: u must be [B, d, L], got shape [${u.shape.join(', ')}].`);
  check(A.rank === 2, () => `Error in selectiveScan: A must be [d, N], got shape [${A.shape.join(', ')}].`);
  const [batch, dim, len] = u.shape as [number, number, number];
  const N = A.shape[1] as number;
  checkScanShapes('selectiveScan', [batch, dim, len], [batch, N, len], dim, N, [u, delta, A, B, C, D, z, deltaBias]);
  const which = path ?? scanPath();
  if (which === 'composite') {
    return compositeSelectiveScan(
      u as tf.Tensor3D,
      delta as tf.Tensor3D,
      A as tf.Tensor2D,
      B as tf.Tensor3D,
      C as tf.Tensor3D,
      D as tf.Tensor1D | undefined,
      z as tf.Tensor3D | undefined,
      deltaBias as tf.Tensor1D | undefined,
      deltaSoftplus,
    );
  }
  if (which === 'reference')
    return referenceScan({ batch, dim, len, nState: N }, u, delta, A, B, C, D, z, deltaBias, deltaSoftplus);
  return runFusedScan([u, delta, A, B, C, D, z, deltaBias], deltaSoftplus, false);
}

type ScanInputs = [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor?, tf.Tensor?, tf.Tensor?];

/**
 * Dtype and shape checks of one scan call. `seq` is the shape u, delta and z must have, `state` that of B
 * and C, in the call's layout; A is [d, N] and D, deltaBias are [d] in both layouts.
 */
function checkScanShapes(fn: string, seq: number[], state: number[], dim: number, N: number, inputs: ScanInputs): void {
  const [u, delta, A, B, C, D, z, deltaBias] = inputs;
  const shape = (name: string, t: tf.Tensor | undefined, want: number[]) => checkShape(name, t, want, fn);
  shape('u', u, seq);
  shape('delta', delta, seq);
  shape('A', A, [dim, N]);
  shape('B', B, state);
  shape('C', C, state);
  shape('D', D, [dim]);
  shape('z', z, seq);
  shape('deltaBias', deltaBias, [dim]);
}

/**
 * The registered fused kernel. Inputs go as an array (the present ones, in SCAN_INPUT_NAMES order) so the
 * gradient can save them all.
 */
function runFusedScan(inputs: ScanInputs, deltaSoftplus: boolean, tokenMajor: boolean): tf.Tensor3D {
  const [, , , , , D, z, deltaBias] = inputs;
  const attrs: SelectiveScanAttrs = { deltaSoftplus, hasD: !!D, hasZ: !!z, hasDeltaBias: !!deltaBias, tokenMajor };
  const present = inputs.filter((t): t is tf.Tensor => t !== undefined);
  return tf.engine().runKernel(SelectiveScan, present as unknown as tf.NamedTensorMap, attrs) as tf.Tensor3D;
}

/** The float64 reference wrapped as a differentiable op (dataSync, customGrad). */
function referenceScan(
  dims: ScanDims,
  ...args: [
    tf.Tensor,
    tf.Tensor,
    tf.Tensor,
    tf.Tensor,
    tf.Tensor,
    tf.Tensor | undefined,
    tf.Tensor | undefined,
    tf.Tensor | undefined,
    boolean,
  ]
): tf.Tensor3D {
  const [u, delta, A, B, C, D, z, deltaBias, deltaSoftplus] = args;
  const names = ['u', 'delta', 'A', 'B', 'C', 'D', 'z', 'deltaBias'] as const;
  const given = [u, delta, A, B, C, D, z, deltaBias];
  const present = names.filter((_, k) => given[k] !== undefined);
  const tensors = given.filter((t): t is tf.Tensor => t !== undefined);
  const read = (ts: tf.Tensor[]): ScanArrays => {
    const x: Record<string, ArrayLike<number>> = {};
    present.forEach((name, k) => (x[name] = ts[k].dataSync()));
    return x as unknown as ScanArrays;
  };
  const f = tf.customGrad((...xs: unknown[]) => {
    const ts = xs.slice(0, tensors.length) as tf.Tensor[];
    const save = xs[tensors.length] as (t: tf.Tensor[]) => void;
    save(ts);
    const out = scanForwardReference(read(ts), dims, deltaSoftplus);
    return {
      value: tf.tensor3d(Float32Array.from(out), [dims.batch, dims.dim, dims.len]),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const g = scanBackwardReference(read(saved), dims, dy.dataSync(), deltaSoftplus);
        return present.map((name, k) => tf.tensor(Float32Array.from(g[name]!), saved[k].shape));
      },
    };
  });
  return (f as unknown as (...t: tf.Tensor[]) => tf.Tensor3D)(...tensors);
}

/** Backends whose fused kernels accept the token-major layout (cpu-kernels.ts). */
const TOKEN_MAJOR_BACKENDS = ['cpu', 'wasm'];

/**
 * `selectiveScan` on token-major tensors: u, delta, z [B, L, d], A [d, N], B, C [B, L, N], D, deltaBias [d]
 * → out [B, L, d]. The same values as transposing to [B, d, L] / [B, N, L], scanning and transposing back
 * (exact: only the memory order differs), without the transposes where the fused kernel takes this layout.
 */
export function selectiveScanTokens(
  u: tf.Tensor,
  delta: tf.Tensor,
  A: tf.Tensor,
  B: tf.Tensor,
  C: tf.Tensor,
  D?: tf.Tensor,
  z?: tf.Tensor,
  deltaBias?: tf.Tensor,
  deltaSoftplus = true,
  path?: ScanPath,
): tf.Tensor3D {
  check(u.rank === 3, () => `Error in selectiveScanTokens: u must be [B, L, d], got shape [${u.shape.join(', ')}].`);
  check(A.rank === 2, () => `Error in selectiveScanTokens: A must be [d, N], got shape [${A.shape.join(', ')}].`);
  const which = path ?? scanPath();
  if (which !== 'fused' || !TOKEN_MAJOR_BACKENDS.includes(tf.getBackend())) {
    const t = (x: tf.Tensor | undefined) => x?.transpose([0, 2, 1]);
    return selectiveScan(t(u)!, t(delta)!, A, t(B)!, t(C)!, D, t(z), deltaBias, deltaSoftplus, which).transpose([
      0, 2, 1,
    ]) as tf.Tensor3D;
  }
  const [batch, len, dim] = u.shape as [number, number, number];
  const N = A.shape[1] as number;
  const inputs: ScanInputs = [u, delta, A, B, C, D, z, deltaBias];
  checkScanShapes('selectiveScanTokens', [batch, len, dim], [batch, len, N], dim, N, inputs);
  return runFusedScan(inputs, deltaSoftplus, true);
}
