/** The learning-rate schedule of docs/spec.md §9, free of tfjs so the fused engine's callers can use it anywhere. */

/** Linear warm-up then constant (docs/spec.md §9): step k (1-based) uses lr·min(k/warmup, 1). */
export function warmupLearningRate(k: number, lr: number, warmupSteps: number): number {
  return warmupSteps <= 0 ? lr : lr * Math.min(k / warmupSteps, 1);
}
