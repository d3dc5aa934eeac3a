/** Name of the kit's SIMD batched matrix product kernel (wasm only; ./kernel.ts). */
export const KIT_BATCH_MATMUL = 'KitBatchMatMul';
