/**
 * Small stand-ins for the engine's dependencies, so the trainer, evaluator and records can be tested in
 * seconds: a per-timestep linear tanh policy (a SequenceModel), a random dataset, and a toy vectorised
 * environment with seeded resets, rewards that depend on the action, and early terminations.
 */
import type { Tensor, Variable } from '@tensorflow/tfjs';
import { tf } from '../../src/backend';
import { BatchSampler } from '../../src/data/sampler';
import type { VecEnvLike } from '../../src/envs/vec-env';
import type { Dataset, EngineDeps, SequenceModel } from '../../src/train/deps';
import { Rng, deriveSeed } from '../../src/util/rng';

export const TOY_DIMS = { stateDim: 3, actDim: 2 };

/** â_t = tanh(W_s s_t + w_R R_t + b + W_m mean_window(s)) with input dropout; plus one frozen matrix (like the shared DSM, docs/spec.md quirk 5). */
export function linearPolicy(
  config: Record<string, unknown>,
  dims: { stateDim: number; actDim: number },
  seed: number,
): SequenceModel {
  const rng = new Rng(seed);
  const { stateDim: s, actDim: a } = dims;
  const init = (n: number) => Float32Array.from({ length: n }, () => rng.range(-0.5, 0.5));
  const variable = (t: Tensor): Variable => {
    const v = tf.variable(t);
    t.dispose();
    return v;
  };
  const params = new Map<string, Variable>([
    ['policy.weight', variable(tf.tensor2d(init(s * a), [s, a]))],
    ['policy.rtg', variable(tf.tensor2d(init(a), [1, a]))],
    ['policy.bias', variable(tf.tensor1d(init(a)))],
    ['policy.mix', variable(tf.tensor2d(init(s * a), [s, a]))],
  ]);
  const frozen = new Map<string, Tensor>([['frozen.mix', tf.tensor2d(init(4), [2, 2])]]);
  const resolved = Object.freeze({ contextLength: 4, dropout: 0.1, ...config });
  return {
    name: 'toy',
    config: resolved,
    dims,
    forward(inputs, opts) {
      return tf.tidy(() => {
        const [B, K] = inputs.states.shape;
        let x = inputs.states.reshape([B * K, s]);
        if (opts.training) x = tf.dropout(x, Number(resolved.dropout), undefined, opts.dropoutSeed);
        const r = inputs.returnsToGo.reshape([B * K, 1]);
        const y = x
          .matMul(params.get('policy.weight')!)
          .add(r.matMul(params.get('policy.rtg')!))
          .add(params.get('policy.bias')!);
        // Window mixing (mean state of the window), so evaluation padding changes the actions.
        const mix = x.reshape([B, K, s]).mean(1).matMul(params.get('policy.mix')!).reshape([B, 1, a]);
        return y.reshape([B, K, a]).add(mix).tanh();
      });
    },
    trainableParameters: () => params,
    frozenTensors: () => frozen,
    parameterCount: () => [...params.values()].reduce((n, v) => n + v.size, 0),
    dispose() {
      for (const v of params.values()) v.dispose();
      for (const t of frozen.values()) t.dispose();
    },
  };
}

/** A random dataset whose actions are a fixed function of the states (so the loss can fall). */
export function toyDataset(seed = 1, trajectories = 12): Dataset {
  const rng = new Rng(seed);
  const { stateDim: s, actDim: a } = TOY_DIMS;
  const trajs = Array.from({ length: trajectories }, () => {
    const T = 5 + rng.int(20);
    const observations = Float32Array.from({ length: T * s }, () => rng.normal());
    const actions = new Float32Array(T * a);
    for (let t = 0; t < T; t++)
      for (let j = 0; j < a; j++) actions[t * a + j] = Math.tanh(0.8 * observations[t * s + j] - 0.3);
    const rewards = Float32Array.from({ length: T }, () => rng.range(0, 2));
    return { observations, actions, rewards, terminals: new Uint8Array(T), timeouts: new Uint8Array(T).fill(1, T - 1) };
  });
  const all = trajs.flatMap((t) => Array.from(t.observations));
  const stateMean = new Float64Array(s);
  const stateStd = new Float64Array(s);
  const n = all.length / s;
  for (let j = 0; j < s; j++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += all[i * s + j];
    m /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (all[i * s + j] - m) ** 2;
    stateMean[j] = m;
    stateStd[j] = Math.sqrt(v / n) + 1e-6;
  }
  return {
    id: 'hopper-medium',
    env: 'hopper',
    kind: 'medium',
    provenance: { source: 'kit', checksum: `toy-${seed}` },
    trajectories: trajs,
    stateMean,
    stateStd,
  };
}

/**
 * n toy episodes: state x ∈ ℝ³ starts at a seeded random point; reward = 1 − ‖a − 0.5‖²/2 plus x₀;
 * x ← 0.9x + 0.1·[a, Σa]; the episode terminates when |x₀| > 1.5 (or at `limit` steps, truncated).
 */
export class ToyVecEnv implements VecEnvLike {
  readonly observationDim = TOY_DIMS.stateDim;
  readonly actionDim = TOY_DIMS.actDim;
  private x: Float64Array;
  private t: Int32Array;
  private finished: Uint8Array;
  constructor(
    readonly n: number,
    private readonly seed: number,
    private readonly limit = 30,
  ) {
    this.x = new Float64Array(n * 3);
    this.t = new Int32Array(n);
    this.finished = new Uint8Array(n);
  }
  async reset(): Promise<Float64Array> {
    for (let i = 0; i < this.n; i++) {
      const rng = new Rng(deriveSeed(this.seed, 'env', i));
      for (let j = 0; j < 3; j++) this.x[i * 3 + j] = rng.range(-1, 1);
    }
    this.t.fill(0);
    this.finished.fill(0);
    return this.x.slice();
  }
  async step(actions: Float32Array) {
    const rewards = new Float64Array(this.n);
    const terminated = new Uint8Array(this.n);
    const truncated = new Uint8Array(this.n);
    for (let i = 0; i < this.n; i++) {
      if (this.finished[i]) continue;
      const a0 = actions[i * 2];
      const a1 = actions[i * 2 + 1];
      rewards[i] = 1 - ((a0 - 0.5) ** 2 + (a1 - 0.5) ** 2) / 2 + this.x[i * 3];
      const nx = [
        0.9 * this.x[i * 3] + 0.3 * a0,
        0.9 * this.x[i * 3 + 1] + 0.3 * a1,
        0.9 * this.x[i * 3 + 2] + 0.1 * (a0 + a1),
      ];
      this.x.set(nx, i * 3);
      this.t[i] += 1;
      terminated[i] = Math.abs(nx[0]) > 1.5 ? 1 : 0;
      truncated[i] = !terminated[i] && this.t[i] >= this.limit ? 1 : 0;
      if (terminated[i] || truncated[i]) this.finished[i] = 1;
    }
    return { observations: this.x.slice(), rewards, terminated, truncated };
  }
  close(): void {}
}

/** Engine deps wired to the fakes (and the kit's real BatchSampler and loss). */
export function toyDeps(overrides: Partial<EngineDeps> = {}): Partial<EngineDeps> {
  return {
    createModel: (_name, config, dims, seed) => linearPolicy(config, dims, seed),
    loadDataset: async () => toyDataset(),
    createSampler: (dataset, opts) => new BatchSampler(dataset, opts),
    createVecEnv: async (_env, n, opts) => new ToyVecEnv(n, opts.seed),
    ...overrides,
  };
}
