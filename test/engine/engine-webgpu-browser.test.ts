/**
 * The fused engine's programs (DMM, Decision Mamba, DC, DT) on the WebGPU executor (headless Chromium's SwiftShader
 * adapter, every kernel's WGSL) against the tfjs model in Node: forward output, every gradient, the global norm, the
 * losses and the weights after 3 AdamW steps with dropout on. Small shapes: SwiftShader emulates the GPU on the CPU.
 * Skips (with the reason) only when no Chromium binary is installed.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runInPage } from '../../tools/webgpu/harness';
import type { EngineBrowserCase } from '../../tools/webgpu/engine-entry';
import type { EngineRunResult } from '../helpers/engine-run';
import { setupBackend } from '../helpers/models-fixtures';
import { compareRuns, referenceRun, type ParityCase } from '../helpers/engine-check';
import type { GemmTuning } from '../../src/engine/kernels/gemm';

const TOL = 1e-4;
const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
const HOPPER = { stateDim: 11, actDim: 3 };

const CASES: (ParityCase & { label: string; gemmTuning?: Partial<GemmTuning> })[] = [
  {
    label: 'D 32, K 4, batch 3, per-layer, padded',
    config: { hiddenSize: 32, contextLength: 4, nLayer: 2 },
    dims: HOPPER,
    batch: 3,
    seed: 11,
    padded: true,
  },
  {
    label: 'D 16, K 8, batch 5, shared-frozen, window 3, padded',
    config: { hiddenSize: 16, contextLength: 8, dsmMode: 'shared-frozen', windowSize: 3 },
    dims: HOPPER,
    batch: 5,
    seed: 12,
    padded: true,
  },
  {
    label: 'D 16, K 2, batch 2, no local mixer',
    config: { hiddenSize: 16, contextLength: 2, tokenMixer: 'none', nLayer: 1 },
    dims: HOPPER,
    batch: 2,
    seed: 13,
  },
  {
    label: "D 16, K 3, batch 3, Mamba's conv, expand 2, channel MLP, timestep embedding, padded",
    config: {
      hiddenSize: 16,
      contextLength: 3,
      mambaConv: 4,
      mambaExpand: 2,
      channelMlp: true,
      timestepEmbedding: true,
      maxEpLen: 40,
      nLayer: 2,
    },
    dims: HOPPER,
    batch: 3,
    seed: 14,
    padded: true,
  },
  {
    label: 'Decision Mamba, D 16, K 3, batch 3, 2 blocks, padded',
    model: 'dmamba',
    config: { hiddenSize: 16, contextLength: 3, nLayer: 2, maxEpLen: 40 },
    dims: HOPPER,
    batch: 3,
    seed: 15,
    padded: true,
  },
  {
    label: 'Decision ConvFormer, D 16, K 3, batch 3, 2 blocks, padded',
    model: 'dc',
    config: { hiddenSize: 16, contextLength: 3, nLayer: 2, maxEpLen: 40 },
    dims: HOPPER,
    batch: 3,
    seed: 16,
    padded: true,
  },
  {
    label: 'Decision Transformer, D 16, K 3, batch 3, 2 blocks, padded',
    model: 'dt',
    config: { hiddenSize: 16, contextLength: 3, nLayer: 2, maxEpLen: 40 },
    dims: HOPPER,
    batch: 3,
    seed: 17,
    padded: true,
  },
  {
    label: 'Decision Transformer, D 16, K 20, batch 56, 1 block (1,120 timestep ids: two passes of their gradient)',
    model: 'dt',
    config: { hiddenSize: 16, contextLength: 20, nLayer: 1, maxEpLen: 50 },
    dims: HOPPER,
    batch: 56,
    seed: 18,
    padded: true,
  },
  {
    label: 'Decision Mamba, D 32, K 20, batch 8, 1 block, products at 8 × 8 per thread, split 3 ways',
    model: 'dmamba',
    config: { hiddenSize: 32, contextLength: 20, nLayer: 1, maxEpLen: 50 },
    dims: HOPPER,
    batch: 8,
    seed: 19,
    padded: true,
    gemmTuning: { splitWorkgroups: 4096, maxTile: 8, minWorkgroups: 1 },
  },
];

before(setupBackend);

test(
  'fused engine, DMM, Decision Mamba, DC and DT on the WebGPU executor (SwiftShader) = the tfjs models',
  { skip: existsSync(chromium) ? false : `no chromium at ${chromium}` },
  async () => {
    const refs = CASES.map((c) => referenceRun(c));
    const arg: EngineBrowserCase[] = refs.map((r, i) => ({
      inputs: {
        model: r.model,
        config: r.config,
        train: r.train,
        batches: r.batches.map(plainBatch),
        before: plainNamed(r.before),
      },
      c: { dims: CASES[i].dims, batch: CASES[i].batch, seed: CASES[i].seed },
      gemmTuning: CASES[i].gemmTuning,
    }));
    const { out, adapter, logs } = await runInPage<{ result: EngineRunResult; ms: number; dispatches: number }[]>(
      join(__dirname, '../../tools/webgpu/engine-entry.ts'),
      'engineCheck',
      arg,
      chromium,
    );
    const bad: string[] = [];
    out.forEach((o, i) => {
      const e = compareRuns(refs[i], o.result);
      if (process.env.DMM_ENGINE_VERBOSE)
        console.log(CASES[i].label, `${o.dispatches} dispatches, ${Math.round(o.ms)} ms`, JSON.stringify(e));
      if (!e.layoutOk) bad.push(`${CASES[i].label}: layout`);
      for (const key of ['forward', 'grad', 'norm', 'loss', 'weights'] as const)
        if (!(e[key] <= TOL)) bad.push(`${CASES[i].label}: ${key} ${JSON.stringify(e)}`);
    });
    assert.deepEqual(bad, [], `adapter ${adapter}\n${logs.join('\n')}`);
  },
);

// One case per model: DMM's plain one and the first of each other model.
const PACKED_CASES = [CASES[2], ...(['dmamba', 'dc', 'dt'] as const).map((m) => CASES.find((c) => c.model === m)!)];

for (const c of PACKED_CASES)
  test(
    `packed runs on WebGPU (SwiftShader) equal the same runs alone: ${c.label}`,
    { skip: existsSync(chromium) ? false : `no chromium at ${chromium}` },
    async () => {
      const r = referenceRun(c);
      const { out } = await runInPage<{ worst: number }>(
        join(__dirname, '../../tools/webgpu/engine-entry.ts'),
        'enginePackedCheck',
        {
          inputs: {
            model: r.model,
            config: r.config,
            train: r.train,
            batches: r.batches.map(plainBatch),
            before: plainNamed(r.before),
          },
          c: { dims: c.dims, batch: c.batch, seed: c.seed },
          runs: 3,
        },
        chromium,
      );
      if (process.env.DMM_ENGINE_VERBOSE) console.log(c.label, 'packed vs alone, worst relative difference', out.worst);
      assert.ok(out.worst <= 1e-6, `${c.label}: packed vs alone: ${out.worst}`);
    },
  );

function plainBatch(b: ReturnType<typeof referenceRun>['batches'][number]) {
  return Object.fromEntries(Object.entries(b).map(([k, v]) => [k, Array.from(v as ArrayLike<number>)])) as never;
}
function plainNamed(x: Record<string, ArrayLike<number>>) {
  return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, Array.from(v)]));
}
