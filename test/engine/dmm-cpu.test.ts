/**
 * The fused engine's DMM program on the CPU executor against the tfjs model (test/helpers/engine-check.ts): forward
 * output, every parameter gradient, the global norm, the losses and the weights after 3 AdamW steps with dropout on,
 * over widths, context lengths, batch sizes, both DSM modes, no local mixer, the timestep embedding, the channel MLP,
 * Mamba's conv and padded batches. Also the float64 run of the same program (the kernels' JavaScript on float64): the
 * reference that the WGSL kernels are checked against.
 */
import type { ParityCase } from '../helpers/engine-check';
import { describeCpuParity } from '../helpers/cpu-parity';

const HOPPER = { stateDim: 11, actDim: 3 };
const CHEETAH = { stateDim: 17, actDim: 6 };
export const CPU_CASES: (ParityCase & { label: string })[] = [
  { label: 'D 16, K 1, batch 1', config: { hiddenSize: 16, contextLength: 1 }, dims: HOPPER, batch: 1, seed: 1 },
  {
    label: 'D 32, K 4, batch 3, shared-frozen, padded',
    config: { hiddenSize: 32, contextLength: 4, dsmMode: 'shared-frozen' },
    dims: HOPPER,
    batch: 3,
    seed: 2,
    padded: true,
  },
  {
    label: 'D 16, K 8, batch 64, padded',
    config: { hiddenSize: 16, contextLength: 8 },
    dims: HOPPER,
    batch: 64,
    seed: 3,
    padded: true,
  },
  {
    label: 'D 128, K 20, batch 1, 2 layers, halfcheetah dims',
    config: { hiddenSize: 128, contextLength: 20, nLayer: 2 },
    dims: CHEETAH,
    batch: 1,
    seed: 4,
    padded: true,
  },
  {
    label: 'D 32, K 8, batch 3, no local mixer',
    config: { hiddenSize: 32, contextLength: 8, tokenMixer: 'none' },
    dims: HOPPER,
    batch: 3,
    seed: 5,
    padded: true,
  },
  {
    label: 'D 16, K 4, window 1, own LNs, expand 2, N 8, 2 layers',
    config: {
      hiddenSize: 16,
      contextLength: 4,
      windowSize: 1,
      shareLayerNorm: false,
      mambaExpand: 2,
      stateSize: 8,
      nLayer: 2,
    },
    dims: HOPPER,
    batch: 3,
    seed: 6,
    padded: true,
  },
  {
    label: 'D 16, K 5, batch 4, timestep embedding, padded',
    config: { hiddenSize: 16, contextLength: 5, timestepEmbedding: true, maxEpLen: 64 },
    dims: HOPPER,
    batch: 4,
    seed: 7,
    padded: true,
  },
  {
    label: 'D 16, K 4, batch 3, channel MLP (GELU, dropout), own LNs, padded',
    config: { hiddenSize: 16, contextLength: 4, channelMlp: true, shareLayerNorm: false, nLayer: 2 },
    dims: HOPPER,
    batch: 3,
    seed: 8,
    padded: true,
  },
  {
    label: "D 16, K 6, batch 3, Mamba's conv k 4, expand 2, shared LNs with the MLP, padded",
    config: { hiddenSize: 16, contextLength: 6, mambaConv: 4, mambaExpand: 2, channelMlp: true, nLayer: 2 },
    dims: HOPPER,
    batch: 3,
    seed: 9,
    padded: true,
  },
  {
    label: 'D 32, K 3, batch 2, everything: conv, MLP, timesteps, no local mixer',
    config: {
      hiddenSize: 32,
      contextLength: 3,
      mambaConv: 4,
      channelMlp: true,
      timestepEmbedding: true,
      maxEpLen: 40,
      tokenMixer: 'none',
    },
    dims: CHEETAH,
    batch: 2,
    seed: 10,
    padded: true,
  },
];

describeCpuParity('DMM', CPU_CASES, CPU_CASES[1]);
