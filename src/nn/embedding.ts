/**
 * `Embedding` (a lookup table, init N(0, 1) as PyTorch's default). The gradient is written as a
 * scatter-add because tfjs' gather gradient needs `UnsortedSegmentSum`, which the wasm backend lacks.
 * On wasm the rows are copied by a small kernel: wasm's GatherV2 took ~2 ms for 200 rows of a [1000, 128]
 * table (independent of how few rows), a few percent of an evaluation forward.
 */
import * as tf from '@tensorflow/tfjs';
import { check } from '../util/check';
import { Rng } from '../util/rng';
import { normal } from './init';
import { Module } from './module';

const KIT_GATHER_ROWS = 'KitGatherRows';

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** out[i] = table[ids[i]] (rows of a float32 [V, D] table, int32 ids [n]) on the wasm heap. */
const gatherRows: tf.KernelFunc = (args) => {
  const { table, ids } = args.inputs as { table: tf.TensorInfo; ids: tf.TensorInfo };
  const [vocab, dim] = table.shape;
  const [n] = ids.shape;
  const be = args.backend as unknown as WasmBackendLike;
  const out = be.makeOutput([n, dim], 'float32');
  const t = be.typedArrayFromHeap(table); // views after makeOutput, which may grow the heap
  const idx = be.typedArrayFromHeap(ids);
  const o = be.typedArrayFromHeap(out);
  for (let i = 0; i < n; i++) {
    const r = idx[i];
    check(r >= 0 && r < vocab, () => `Error in embeddingLookup: ids must be in [0, ${vocab - 1}], got ${r}.`);
    o.set(t.subarray(r * dim, (r + 1) * dim), i * dim);
  }
  return out;
};

function gather(table: tf.Tensor, flatIds: tf.Tensor1D): tf.Tensor {
  if (tf.getBackend() !== 'wasm' || table.dtype !== 'float32' || flatIds.dtype !== 'int32')
    return tf.gather(table, flatIds);
  if (!tf.getKernel(KIT_GATHER_ROWS, 'wasm'))
    tf.registerKernel({ kernelName: KIT_GATHER_ROWS, backendName: 'wasm', kernelFunc: gatherRows });
  return tf.engine().runKernel(KIT_GATHER_ROWS, { table, ids: flatIds }, {}) as tf.Tensor;
}

/** table [V, D], ids int32 [...] → [..., D], differentiable w.r.t. the table on every backend. */
export function embeddingLookup(table: tf.Tensor, ids: tf.Tensor): tf.Tensor {
  const [vocab, dim] = table.shape;
  const flatIds = ids.reshape([-1]) as tf.Tensor1D;
  const lookup = tf.customGrad(((t: tf.Tensor, save: tf.GradSaveFunc) => {
    save([flatIds]);
    return {
      value: gather(t, flatIds),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.scatterND(saved[0].reshape([-1, 1]), dy, [vocab, dim]),
    };
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tfjs types customGrad's variadic inputs loosely
  }) as any);
  return (lookup(table) as tf.Tensor).reshape([...ids.shape, dim]);
}

export class Embedding extends Module {
  readonly weight: tf.Variable; // [V, D]

  constructor(
    readonly numEmbeddings: number,
    readonly dim: number,
    rng: Rng,
    std = 1,
  ) {
    super();
    this.weight = this.registerParameter('weight', normal(rng, numEmbeddings * dim, std), [numEmbeddings, dim]);
  }

  apply(ids: tf.Tensor): tf.Tensor {
    return embeddingLookup(this.weight, ids);
  }
}
