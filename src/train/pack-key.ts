/**
 * What runs must share to train as one packed engine program (./packed-run.ts): the model and its
 * configuration, the environment's dimensions (walker2d and halfcheetah share theirs), the batch size, the
 * clip and the iteration plan. Seeds, datasets and learning rates may differ. It loads no tfjs, so a queue
 * worker can group jobs by it (src/sweep/worker.ts) without the engine.
 */
import type { ResolvedRun } from '../config/resolve';
import type { RunEnv } from '../config/names';
import { ENV_DIMS } from '../data/d4rl-ids';
import { stableStringify } from '../util/atomic';

export function packShapeKey(cfg: Readonly<ResolvedRun>): string {
  const t = cfg.train;
  return stableStringify({
    model: cfg.spec.model,
    config: cfg.model,
    dims: ENV_DIMS[cfg.spec.env as RunEnv],
    batchSize: t.batchSize,
    gradClip: t.gradClip,
    iterations: t.iterations,
    stepsPerIteration: t.stepsPerIteration,
  });
}
