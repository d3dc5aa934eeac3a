/**
 * The fused engine's Decision ConvFormer program on the CPU executor against the tfjs model
 * (test/helpers/engine-check.ts): forward output, every parameter gradient, the global norm, the losses and the
 * weights after 3 AdamW steps with dropout on (input and MLP), at two sizes with padded batches, and the
 * float64 run of the program (the WGSL reference).
 */
import type { ParityCase } from '../helpers/engine-check';
import { describeCpuParity } from '../helpers/cpu-parity';

const HOPPER = { stateDim: 11, actDim: 3 };
const CHEETAH = { stateDim: 17, actDim: 6 };
export const DC_CASES: (ParityCase & { label: string })[] = [
  {
    label: 'D 16, K 4, batch 3, 2 blocks, window 6, padded',
    model: 'dc',
    config: { hiddenSize: 16, contextLength: 4, nLayer: 2, maxEpLen: 64 },
    dims: HOPPER,
    batch: 3,
    seed: 31,
    padded: true,
  },
  {
    label: 'D 32, K 8, batch 4, 3 blocks, halfcheetah dims, padded',
    model: 'dc',
    config: { hiddenSize: 32, contextLength: 8, maxEpLen: 64 },
    dims: CHEETAH,
    batch: 4,
    seed: 32,
    padded: true,
  },
];

describeCpuParity('Decision ConvFormer', DC_CASES);
