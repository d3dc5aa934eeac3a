/**
 * medium-replay as the learner's own experience (docs/spec.md §15.4: D4RL's is SAC's replay buffer up to
 * the medium snapshot). The kit's learner is ARS, whose experience is the perturbed-policy rollouts it ran
 * before the medium snapshot. The policy file records each iteration (src/data/ars.ts, `ArsIteration`),
 * so any rollout is rerun exactly, and no transition is stored.
 *
 * ARS needs more experience than SAC to reach medium, so a dataset of N rows keeps a share N/E of the E
 * experienced steps: whole rollouts, spread evenly over the run, in the order they were collected. The
 * mix of early (poor) and late (near-medium) behaviour is then that of the whole run, as in D4RL's buffer.
 */
import { check } from '../util/check';
import { applyUpdate, direction, rolloutSeed, trialWeights, type ArsIteration } from './ars';
import { PolicyRunner } from './policy';

/** One rollout of the run: iteration t, direction k, sign, and its length. */
export interface ExperienceRollout {
  iteration: number;
  k: number;
  sign: 1 | -1;
  steps: number;
}

/** Total steps of the recorded experience. */
export function experienceSteps(experience: ArsIteration[]): number {
  return experience.reduce((p, it) => p + it.steps.reduce((q, s) => q + s, 0), 0);
}

/**
 * The rollouts a dataset of about `n` rows keeps, in run order: a rollout is kept when the rows kept so far,
 * plus half of it, stay within the share n/E of the experience up to its end. All of them when E ≤ n.
 */
export function selectRollouts(experience: ArsIteration[], n: number): ExperienceRollout[] {
  const total = experienceSteps(experience);
  const picks: ExperienceRollout[] = [];
  let seen = 0;
  let kept = 0;
  experience.forEach((it, t) =>
    it.steps.forEach((steps, j) => {
      seen += steps;
      if (kept >= n) return;
      if (total <= n || kept + steps / 2 <= (seen * n) / total) {
        picks.push({ iteration: t, k: j >> 1, sign: j % 2 === 0 ? 1 : -1, steps });
        kept += steps;
      }
    }),
  );
  return picks;
}

/**
 * Rebuilds the policy of each picked rollout, in order, and hands it to `run`, which must rerun the episode
 * with the reset seed it is given and return its length (checked against the record).
 */
export function replayRollouts(
  experience: ArsIteration[],
  picks: ExperienceRollout[],
  ars: { seed: number; deltaStd: number },
  actionDim: number,
  run: (runner: PolicyRunner, resetSeed: number, rollout: ExperienceRollout) => number,
): void {
  const size = experience[0]?.obsMean.length * actionDim;
  const w = new Float64Array(size);
  const trial = new Float64Array(size);
  let t = 0;
  for (const p of picks) {
    for (; t < p.iteration; t++) applyUpdate(w, experience[t], ars.seed, t);
    const it = experience[t];
    const d = direction(ars.seed, t, p.k, size);
    const runner = new PolicyRunner(trialWeights(w, d, p.sign, ars.deltaStd, trial), it.obsMean, it.obsStd, actionDim);
    const steps = run(runner, rolloutSeed(ars.seed, t, p.k, p.sign), p);
    check(
      steps === p.steps,
      () =>
        `Error in generateDataset: the replayed rollout (iteration ${t}, direction ${p.k}, sign ${p.sign}) must last ${p.steps} steps as in training, got ${steps}. The simulator or the policy file differs from the one that trained; retrain with npx dmm data train-policies.`,
    );
  }
}
