/**
 * A contiguous range of a VecEnv's environments, stepped in one thread (the main one or a worker). All shards
 * read actions from and write results into the same SharedArrayBuffers, each at its own offsets, so no data is
 * copied between threads.
 */
import { deriveSeed } from '../util/rng';
import { ENV_DEFAULTS, MujocoEnv } from './env';
import type { MainModule } from './mujoco';
import type { EnvId } from '../config/names';

/** What a shard needs to build its environments; plain data so it can cross a worker boundary. */
export interface ShardSpec {
  id: EnvId;
  /** Total number of environments of the VecEnv and this shard's range [start, end). */
  n: number;
  start: number;
  end: number;
  seed: number;
  autoReset: boolean;
  maxEpisodeSteps: number;
  buffers: VecBuffers;
}

export interface VecBuffers {
  actions: SharedArrayBuffer; // Float64 [n * actionDim]
  observations: SharedArrayBuffer; // Float64 [n * observationDim]
  finalObservations: SharedArrayBuffer; // Float64 [n * observationDim], the last observation before an auto-reset
  rewards: SharedArrayBuffer; // Float64 [n]
  terminated: SharedArrayBuffer; // Uint8 [n]
  truncated: SharedArrayBuffer; // Uint8 [n]
  resets: SharedArrayBuffer; // Uint8 [n], 1 when observations[i] is a fresh reset observation
  finished: SharedArrayBuffer; // Uint8 [n], episode over and not auto-reset (the env waits for reset())
}

/** The seed of environment i of a VecEnv, whatever shard or worker runs it. */
export function envSeed(seed: number, i: number): number {
  return deriveSeed(seed, 'env', i);
}

export class Shard {
  private readonly envs: MujocoEnv[] = [];
  private readonly actions: Float64Array;
  private readonly observations: Float64Array;
  private readonly finalObservations: Float64Array;
  private readonly rewards: Float64Array;
  private readonly terminated: Uint8Array;
  private readonly truncated: Uint8Array;
  private readonly resets: Uint8Array;
  private readonly finished: Uint8Array;

  constructor(
    mj: MainModule,
    private readonly spec: ShardSpec,
  ) {
    for (let i = spec.start; i < spec.end; i++) {
      this.envs.push(
        new MujocoEnv(mj, spec.id, {
          seed: envSeed(spec.seed, i),
          maxEpisodeSteps: spec.maxEpisodeSteps,
          endAtGoal: ENV_DEFAULTS.endAtGoal,
        }),
      );
    }
    const b = spec.buffers;
    this.actions = new Float64Array(b.actions);
    this.observations = new Float64Array(b.observations);
    this.finalObservations = new Float64Array(b.finalObservations);
    this.rewards = new Float64Array(b.rewards);
    this.terminated = new Uint8Array(b.terminated);
    this.truncated = new Uint8Array(b.truncated);
    this.resets = new Uint8Array(b.resets);
    this.finished = new Uint8Array(b.finished);
  }

  reset(): void {
    for (let k = 0; k < this.envs.length; k++) {
      const env = this.envs[k];
      const i = this.spec.start + k;
      env.resetInto(this.observations, i * env.observationDim);
      this.rewards[i] = 0;
      this.terminated[i] = 0;
      this.truncated[i] = 0;
      this.resets[i] = 1;
      this.finished[i] = 0;
    }
  }

  step(): void {
    for (let k = 0; k < this.envs.length; k++) {
      const env = this.envs[k];
      const i = this.spec.start + k;
      const od = env.observationDim;
      this.resets[i] = 0;
      if (this.finished[i]) {
        // Without autoReset a finished env stands still until reset(): same observation, reward 0, flags kept.
        this.rewards[i] = 0;
        continue;
      }
      env.stepInto(this.actions, i * env.actionDim, this.observations, i * od);
      this.rewards[i] = env.lastReward;
      this.terminated[i] = env.lastTerminated ? 1 : 0;
      this.truncated[i] = env.lastTruncated ? 1 : 0;
      if (env.lastTerminated || env.lastTruncated) {
        if (this.spec.autoReset) {
          for (let j = 0; j < od; j++) this.finalObservations[i * od + j] = this.observations[i * od + j];
          env.resetInto(this.observations, i * od);
          this.resets[i] = 1;
        } else {
          this.finished[i] = 1;
        }
      }
    }
  }

  close(): void {
    for (const env of this.envs) env.close();
    this.envs.length = 0;
  }
}
