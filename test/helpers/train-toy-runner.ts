/**
 * A sweep runner (src/sweep/runner.ts contract) that trains on the toy fakes, for sweep tests: the real
 * runTraining with toy deps. Seed 99 fails inside the run (its dataset cannot load), seed 98 kills its
 * process, so both failure paths of a sweep are exercised.
 */
import type { JobContext } from '../../src/sweep/runner';
import type { RunSpec } from '../../src/config/run-spec';
import { runTraining } from '../../src/train/run';
import { toyDeps } from './train-fakes';

export async function runJob(spec: RunSpec, ctx: JobContext): Promise<unknown> {
  if (spec.seed === 98) process.kill(process.pid, 'SIGKILL');
  const deps = toyDeps(
    spec.seed === 99
      ? {
          loadDataset: async () => {
            throw new Error('Error in loadDataset: hopper-medium must exist, got no file (test failure).');
          },
        }
      : {},
  );
  return runTraining(spec, { resultsDir: ctx.resultsDir, deps, silent: true });
}
