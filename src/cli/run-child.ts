/**
 * One run in its own process, for local sweeps (./local-sweep.ts): receives { spec, resultsDir, runner,
 * runOptions }, runs it, reports 'done' or 'error' and exits. runTraining writes the record itself,
 * failures included.
 */
import type { JobRunner } from '../sweep/runner';
import type { RunSpec } from '../sweep/spec';

interface Request {
  spec: RunSpec;
  resultsDir: string;
  runner?: string;
  runOptions: Record<string, unknown>;
}

async function main(req: Request): Promise<void> {
  try {
    if (req.runner) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the runner module is chosen at run time
      const { runJob } = require(req.runner) as { runJob: JobRunner };
      await runJob(req.spec, {
        jobId: '',
        attempt: 1,
        resultsDir: req.resultsDir,
        onProgress: (fraction, info) => process.send!({ type: 'progress', fraction, info }),
      });
    } else {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded in the child only (tfjs)
      const { runTraining } = require('../train/run') as typeof import('../train/run');
      await runTraining(req.spec, {
        resultsDir: req.resultsDir,
        silent: true,
        onProgress: (fraction, info) => process.send!({ type: 'progress', fraction, info }),
        ...req.runOptions,
      });
    }
    process.send!({ type: 'done' }, () => process.exit(0));
  } catch (err) {
    process.send!({ type: 'error', message: String((err as Error)?.message ?? err).split('\n')[0] }, () =>
      process.exit(1),
    );
  }
}

process.on('disconnect', () => process.exit(1));
process.once('message', (req) => void main(req as Request));
