/** Name of the kit's row-copy kernel for embedding lookups (wasm only; ./kernel.ts). */
export const KIT_GATHER_ROWS = 'KitGatherRows';
