/**
 * Packed runs (src/engine/pack.ts): R hopper runs of one model (DMM D 64, K 8 by default; --model dt | dc | dmamba
 * at their hopper-medium sizes; batch 64, each run its own seed and data) in one fused program, on this machine's backend. For each R: ms per packed step, run-steps/s, with batches from
 * the kit's BatchSampler (one per run, on this thread, as training draws them, over 1M-transition datasets) and with a fixed pool of
 * pre-drawn batches (the engine alone). Also, on the CPU: R runs packed against the same R runs one after the
 * other (--versus-separate).
 *
 * Usage: node --import tsx bench/packed.ts [--model dmm] [--runs 1,8,45] [--seconds 5] [--batch 64] [--versus-separate]
 * Writes bench/results/packed-<backend>.json for DMM, packed-<model>-<backend>.json for the others ($OUT/… when OUT
 * is set).
 */
import { initBackend } from '../src/backend';
import { BatchSampler } from '../src/data/sampler';
import { resolveModelConfig } from '../src/models';
import type { EngineModel } from '../src/engine/models';
import { EngineSession, type SessionConfig } from '../src/engine/session';
import { WebGpuExecutor } from '../src/engine/webgpu/executor';
import { reusedBatches, type Batch } from '../src/train/deps';
import { kitCommit } from '../src/util/version';
import { KitError } from '../src/util/check';
import { HOPPER_SIZES, machine, parseBenchFlags, printTable, syntheticDataset, timeIt, writeBenchResult } from './lib';

const DIMS = { stateDim: 11, actDim: 3 };
const flags = parseBenchFlags('packed', {
  model: { type: 'string', default: 'dmm', help: 'dmm | dmamba | dc | dt' },
  runs: { type: 'list', default: ['1', '8', '45'], help: 'packed run counts R' },
  seconds: { type: 'number', default: 5, help: 'timed seconds per R and mode' },
  batch: { type: 'number', default: 64, help: 'batch size of every run' },
  hidden: { type: 'number', default: 0, help: "D (0: the model's hopper size)" },
  transitions: {
    type: 'number',
    default: 1_000_000,
    help: 'transitions per synthetic dataset (D4RL size: the sampler meets real cache misses); 4 datasets shared by the runs',
  },
  'versus-separate': { type: 'boolean', help: 'also train the R runs one after the other (CPU ratio)' },
  profile: { type: 'boolean', help: 'µs per dispatch at each R that fits, alone and within the step (WebGPU)' },
});

async function main(): Promise<void> {
  process.env.DMM_QUIET = '1';
  const backend = await initBackend({ log: true });
  const executor = backend === 'webgpu' ? 'webgpu' : 'cpu';
  const name = flags.model as keyof typeof HOPPER_SIZES;
  if (!(name in HOPPER_SIZES))
    throw new KitError(`Error in bench/packed.ts: --model must be dmm, dmamba, dc or dt, got '${flags.model}'.`);
  const size = { ...HOPPER_SIZES[name], ...(flags.hidden ? { hiddenSize: flags.hidden } : {}) };
  const K = size.contextLength;
  const config = { name, config: resolveModelConfig(name, size) } as EngineModel;
  const B = flags.batch;
  const rows: Record<string, unknown>[] = [];
  let profile:
    | { R: number; usPerLaunch: Record<string, { alone: number; inPlace: number }>; perDispatch: unknown[] }
    | undefined;
  const gpu = executor === 'webgpu';
  const perDataset = Math.max(1, Math.round(flags.transitions / 300));
  const datasets = [0, 1, 2, 3].map((k) => syntheticDataset(DIMS.stateDim, DIMS.actDim, k, perDataset));
  for (const R of flags.runs.map(Number)) {
    const runs: SessionConfig[] = Array.from({ length: R }, (_, r) => ({
      batchSize: B,
      learningRate: 1e-4,
      warmupSteps: 10000,
      weightDecay: 1e-4,
      gradClip: 0.25,
      seed: 100 + r,
    }));
    let session: EngineSession;
    try {
      session = await EngineSession.create(config, DIMS, runs, executor);
    } catch (e) {
      // An R past the adapter's binding size is a row of the table, not the end of the benchmark.
      if (!(e instanceof KitError)) throw e;
      console.error(e.message);
      rows.push({ R, mode: 'does not fit', batch: B, error: e.message });
      continue;
    }
    const zeros = new Map([...session.program.params].map(([n, p]) => [n, new Float32Array(p.size).fill(0.01)]));
    runs.forEach((_, r) => session.load({ weights: zeros }, r));
    const samplers = runs.map(
      (_, r) => new BatchSampler(datasets[r % datasets.length], { contextLength: K, batchSize: B, seed: r }),
    );
    const pool: Batch[][] = samplers.map((s) => Array.from({ length: 8 }, () => s.sample()));
    const chunk = gpu ? 50 : 2;
    for (const mode of ['sampler', 'pool'] as const) {
      let i = 0;
      const sample =
        mode === 'sampler' ? samplers.map((s) => reusedBatches(s)) : pool.map((p) => () => p[i++ % p.length]);
      const t = await timeIt(() => session.train(chunk, sample), { warmup: 1, seconds: flags.seconds, minIters: 3 });
      const ms = t.medianMs / chunk;
      rows.push({ R, mode, batch: B, msPerPackedStep: ms, runStepsPerSecond: (1000 * R) / ms, chunks: t.iters });
    }
    // Profiled at every R that fits; the table shows the largest. Two views per dispatch: alone (20 times in
    // one pass) and in place (the step's first i + 1 dispatches minus its first i, each timed 5 times).
    if (flags.profile && session.executor instanceof WebGpuExecutor) {
      const ex = session.executor;
      const timePass = async (run: () => void, reps: number): Promise<number> => {
        await ex.finish();
        const t0 = performance.now();
        for (let k = 0; k < reps; k++) run();
        await ex.finish();
        return ((performance.now() - t0) * 1000) / reps;
      };
      const perDispatch: { label: string; workgroups: number[]; aloneUs: number; inPlaceUs: number }[] = [];
      let before = 0;
      for (let i = 0; i < ex.dispatchCount; i++) {
        const alone = await timePass(() => ex.runRepeated(i, 20), 1);
        const prefix = await timePass(() => ex.run(0, i + 1), 5);
        perDispatch.push({
          label: ex.dispatchLabels[i],
          workgroups: ex.dispatchGrid(i),
          aloneUs: alone / 20,
          inPlaceUs: prefix - before,
        });
        before = prefix;
      }
      const summed: Record<string, { alone: number; inPlace: number }> = {};
      for (const d of perDispatch) {
        const k = d.label.replace(/layer\d/, 'layerN');
        summed[k] ??= { alone: 0, inPlace: 0 };
        summed[k].alone += d.aloneUs;
        summed[k].inPlace += d.inPlaceUs;
      }
      profile = { R, usPerLaunch: summed, perDispatch };
    }
    session.dispose();
    if (flags['versus-separate']) {
      const t0 = performance.now();
      const steps = 10;
      for (let r = 0; r < R; r++) {
        const alone = await EngineSession.create(config, DIMS, runs[r], executor);
        alone.load({ weights: zeros });
        await alone.train(steps, () => samplers[r].sample());
        alone.dispose();
      }
      const ms = (performance.now() - t0) / steps;
      rows.push({
        R,
        mode: 'separate (one after the other, incl. program build)',
        batch: B,
        msPerPackedStep: ms,
        runStepsPerSecond: (1000 * R) / ms,
      });
    }
  }
  const file = writeBenchResult(name === 'dmm' ? `packed-${backend}` : `packed-${name}-${backend}`, {
    bench: 'packed',
    ...machine(),
    commit: kitCommit(),
    backend,
    config: { model: name, D: size.hiddenSize, K, batch: B, transitionsPerDataset: perDataset * 300 },
    rows,
    profile,
  });
  const m = machine();
  console.log(
    `\nPacked ${name} runs (D ${size.hiddenSize}, K ${K}, batch ${B}), ${backend}, ${m.cpu} (load ${(m.loadavg as number[])[0].toFixed(1)})`,
  );
  printTable(
    ['R', 'batches', 'ms per packed step', 'run-steps/s'],
    rows.map((r) => [
      r.R as number,
      r.mode as string,
      r.msPerPackedStep === undefined ? '—' : (r.msPerPackedStep as number).toFixed(2),
      r.runStepsPerSecond === undefined ? '—' : (r.runStepsPerSecond as number).toFixed(0),
    ]),
  );
  if (profile) {
    const top = Object.entries(profile.usPerLaunch)
      .sort((a, b) => b[1].inPlace - a[1].inPlace)
      .slice(0, 14);
    console.log(`\nµs per launch at R ${profile.R} (layers summed; in place: marginal time within the step):`);
    printTable(
      ['launch', 'in place µs', 'alone µs'],
      top.map(([k, v]) => [k, v.inPlace.toFixed(0), v.alone.toFixed(0)]),
    );
  }
  console.log(`wrote ${file}`);
}

main().catch((e) => {
  console.error((e as Error).stack ?? e);
  process.exit(1);
});
