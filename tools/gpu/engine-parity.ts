/**
 * The fused engine's parity check on a real GPU (the H200 host): the tfjs model (on this process's tfjs
 * backend) against the engine's WebGPU executor, DMM at its hopper configuration (D 64, K 8) and two smaller
 * ones, batch 64, padded, dropout on, 3 AdamW steps. Prints one line of relative errors per case and writes
 * them as JSON. Bundle with the GPU packer and run there: `bash DIR/run.sh [out.json]`.
 */
import { writeFileSync } from 'fs';
import { initBackend } from '../../src/backend';
import { WebGpuExecutor } from '../../src/engine/webgpu/executor';
import { compareRuns, referenceRun, type ParityCase } from '../../test/helpers/engine-check';
import { engineRun } from '../../test/helpers/engine-run';

const HOPPER = { stateDim: 11, actDim: 3 };
const CASES: (ParityCase & { label: string })[] = [
  {
    label: 'hopper official D 64 K 8 B 64',
    config: { hiddenSize: 64, contextLength: 8 },
    dims: HOPPER,
    batch: 64,
    seed: 3,
    padded: true,
  },
  {
    label: 'shared-frozen D 128 K 8 B 64',
    config: { hiddenSize: 128, contextLength: 8, dsmMode: 'shared-frozen' },
    dims: { stateDim: 29, actDim: 8 },
    batch: 64,
    seed: 4,
    padded: true,
  },
  {
    label: 'D 32 K 20 B 64 no mixer',
    config: { hiddenSize: 32, contextLength: 20, tokenMixer: 'none' },
    dims: HOPPER,
    batch: 64,
    seed: 5,
    padded: true,
  },
];

(async () => {
  process.env.DMM_QUIET = '1';
  // The reference reads tensors synchronously, which tfjs's WebGPU backend cannot do in Node: wasm by default.
  const backend = await initBackend({ backend: process.env.DMM_BACKEND ?? 'wasm' });
  const out: unknown[] = [];
  for (const c of CASES) {
    const ref = referenceRun(c);
    const e = compareRuns(ref, await engineRun(ref, c, (p) => WebGpuExecutor.create(p), 'gpu'));
    console.log(`${c.label} (tfjs ${backend}): ${JSON.stringify(e)}`);
    out.push({ ...c, backend, errors: e });
  }
  if (process.argv[2]) writeFileSync(process.argv[2], JSON.stringify(out, null, 1));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
