/**
 * The quick-scale DMM rows through the fused engine on the GPU host: `runTraining` (the code `dmm train`'s
 * child process runs) for each seed, one after the other in this process, on the WebGPU backend, then the
 * rows as `dmm report` prints them. Records go to $OUT/results.
 *   DMM_BACKEND=webgpu bash .gpu/quick/run.sh [seeds=12,23,34] [engine=fused|tfjs|packed]
 * `packed` trains the seeds as one pack (src/train/packed-run.ts) instead of one after the other.
 */
import * as path from 'path';
import { normaliseRunSpec } from '../../src/config/run-spec';
import { filterRows, loadRows, summaryTable, toMarkdown } from '../../src/results/aggregate';
import { runTraining } from '../../src/train/run';
import { runPacked } from '../../src/train/packed-run';
import type { EngineChoice } from '../../src/train/trainer';

(async () => {
  const seeds = (process.argv[2] ?? '12,23,34').split(',').map(Number);
  const mode = process.argv[3] ?? 'fused';
  const resultsDir = path.join(process.env.OUT ?? 'results-gpu', 'results');
  const specs = seeds.map((seed) =>
    normaliseRunSpec({ model: 'dmm', env: 'hopper', dataset: 'medium', seed, scale: 'quick' }, 'engine-quick'),
  );
  const t00 = Date.now();
  const packed = mode === 'packed' ? await runPacked(specs, { resultsDir, silent: true }) : undefined;
  if (packed) console.log(`${seeds.length} runs packed: ${((Date.now() - t00) / 1000).toFixed(0)} s`);
  for (const [i, seed] of seeds.entries()) {
    const spec = specs[i];
    const t0 = Date.now();
    const rec = packed?.[i] ?? (await runTraining(spec, { resultsDir, engine: mode as EngineChoice, silent: true }));
    const its = rec.iterations.map((i) => `${i.trainSeconds.toFixed(1)}/${i.evalSeconds.toFixed(1)}`).join(' ');
    console.log(
      `seed ${seed}: ${rec.status}, engine ${rec.engine}${rec.packedWith ? ` (packed with ${rec.packedWith})` : ''}, backend ${rec.backend}, best_official ${rec.scores?.best_official.toFixed(1)}, final ${rec.scores?.final.toFixed(1)}, dataset ${rec.dataset.checksum.slice(0, 12)}, ${((Date.now() - t0) / 1000).toFixed(0)} s (train/eval s per iteration: ${its})`,
    );
  }
  const rows = filterRows(loadRows(resultsDir, 'runs'), { model: 'dmm' });
  console.log(toMarkdown(summaryTable(rows)));
})().catch((e) => {
  console.error((e as Error).stack ?? e);
  process.exit(1);
});
