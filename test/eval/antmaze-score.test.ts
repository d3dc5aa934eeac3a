/**
 * AntMaze scoring (docs/spec.md §10): D4RL's reference scores 0 and 1 make the normalised score 100 × the success
 * rate; an episode that reaches the goal ends there with return 1, and its RTG stays at the target until then
 * (sparse reward, scale 1).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveEvalConfig } from '../../src/config/eval';
import { normalizedScore, referenceScores } from '../../src/data/d4rl-ids';
import { evaluate, type EvalModel } from '../../src/eval/rollout';
import type { VecEnvLike } from '../../src/envs/vec-env';

test('the AntMaze normalised score is 100 × the mean return, for the run env and its maze', () => {
  assert.deepEqual(referenceScores('antmaze'), { min: 0, max: 1 });
  assert.deepEqual(referenceScores('antmaze-umaze'), { min: 0, max: 1 });
  assert.equal(normalizedScore('antmaze-umaze', 0.3), 30);
  assert.equal(normalizedScore('antmaze', 1), 100);
  assert.notEqual(normalizedScore('hopper', 1), 100, 'MuJoCo keeps its own references');
});

/** Sparse goal env: episode e reaches the goal after goalAt[e] steps (reward 1, terminated), else runs to `limit`. */
class GoalVecEnv implements VecEnvLike {
  readonly observationDim = 29;
  readonly actionDim = 8;
  private t = 0;
  constructor(
    readonly n: number,
    private readonly goalAt: (number | undefined)[],
    private readonly limit: number,
  ) {}
  async reset(): Promise<Float64Array> {
    this.t = 0;
    return new Float64Array(this.n * 29);
  }
  async step(_actions: Float32Array) {
    this.t++;
    const rewards = new Float64Array(this.n);
    const terminated = new Uint8Array(this.n);
    const truncated = new Uint8Array(this.n);
    for (let e = 0; e < this.n; e++) {
      const hit = this.goalAt[e] === this.t;
      rewards[e] = hit ? 1 : 0;
      terminated[e] = hit ? 1 : 0;
      truncated[e] = !hit && this.t >= this.limit ? 1 : 0;
    }
    return { observations: new Float64Array(this.n * 29).fill(this.t), rewards, terminated, truncated };
  }
  close(): void {}
}

test('evaluate on antmaze-umaze: goal episodes end with return 1, score = 100 × success, RTG held at the target', async () => {
  const K = 4;
  const seenRtg: number[] = [];
  const model: EvalModel = {
    name: 'stand-in',
    config: { contextLength: K },
    dims: { stateDim: 29, actDim: 8 },
    forward: () => {
      throw new Error('the evaluator must use lastActions');
    },
    async lastActions(w, B) {
      for (let b = 0; b < B; b++) seenRtg.push(w.returnsToGo[b * K + K - 1]);
      return new Float32Array(B * 8);
    },
  };
  const config = resolveEvalConfig({ targets: [1], episodesPerTarget: 4, returnScale: 1, maxEpisodeSteps: 1000 });
  const goalAt = [3, undefined, 10, undefined];
  const [r] = await evaluate(model, {
    env: 'antmaze-umaze',
    stateMean: new Float64Array(29),
    stateStd: new Float64Array(29).fill(1),
    config,
    seed: 12,
    createVecEnv: async (_env, n) => new GoalVecEnv(n, goalAt, 700),
    silent: true,
  });
  assert.deepEqual(r.returns, [1, 0, 1, 0]);
  assert.deepEqual(r.lengths, [3, 700, 10, 700], 'the goal ends an episode; the env time limit ends the others');
  assert.equal(r.normalizedScore, 50, 'two of four reached the goal');
  assert.ok(
    seenRtg.every((v) => v === 1),
    'no reward before the goal, so the RTG the model reads stays at the target',
  );
});
