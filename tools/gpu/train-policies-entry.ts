/**
 * `train-policies` for the GPU host's CPU cores, as one esbuild bundle (tools/gpu/bundle-cli.sh). The
 * bundle is also the script of its own ARS worker threads, so a worker thread starts the worker loop
 * instead of the command.
 *
 *   bash tools/gpu/bundle-cli.sh tools/gpu/train-policies-entry.ts .gpu/ars
 *   bash .gpu/ars/run.sh walker2d --workers 6 --cpu-seconds 3000 --checkpoint out/walker2d.ck.json --out out/walker2d.json
 */
import { startArsWorker } from '../../src/data/ars-workers';
import { trainPoliciesMain } from '../../src/data/train-policies';

if (!startArsWorker())
  trainPoliciesMain(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      console.error(err.message);
      process.exit(1);
    },
  );
