/**
 * One model's live evaluation episode: a trained checkpoint (as the page carries it), an EvalEpisode on its
 * own environment, and the record of every step played (the window read, the action, the body, the token-type
 * activity of every tap), so the page can scrub back. The page and its Node check both step a LiveRun.
 */
import type { EnvName, ModelName } from '../config/names';
import type { EvalConfig } from '../config/eval';
import type { MujocoEnv } from '../envs/env';
import { EvalEpisode } from '../eval/episode';
import type { WindowArrays } from '../eval/windows';
import { createModel, loadModelWeights, type SequenceModel } from '../models';
import { decodeSafetensors } from '../nn/safetensors';
import { inspectWindow, tokenTypeMeans, type StepInsight } from './inspect';

/** A trained checkpoint as the page carries it (written by src/experiments/live-explorer.ts). */
export interface LiveModelEntry {
  /** 'dmm' or 'dmamba': the registry name. */
  model: ModelName;
  title: string;
  env: EnvName;
  /** model.safetensors of the checkpoint (the kit's weight format, config and dims in its metadata), base64. */
  weights: string;
  stateMean: number[];
  stateStd: number[];
  eval: Pick<EvalConfig, 'returnScale' | 'maxEpLen' | 'evalPadding' | 'maxEpisodeSteps'>;
  /** One line: which run it is (dataset, scale, seed, steps, score). */
  source: string;
}

function base64Bytes(text: string): Uint8Array {
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

/** The model of an entry: built from the config and dims in the weights' metadata, then loaded. */
export function restoreLiveModel(entry: LiveModelEntry): SequenceModel {
  const bytes = base64Bytes(entry.weights);
  const { metadata } = decodeSafetensors(bytes);
  // The seed only sets initial weights, which the checkpoint's replace.
  const model = createModel(entry.model, JSON.parse(metadata.config), JSON.parse(metadata.dims), 0);
  loadModelWeights(model, bytes);
  return model;
}

/** One played step: what the model read and did, and the body it saw. */
export interface PlayedStep {
  t: number;
  window: WindowArrays;
  action: Float32Array;
  reward: number;
  /** Capsule segments of the body in the state the model read (MujocoEnv.segments). */
  segments: Float64Array;
  /** means[tap][layer]: mean |activation| per token type at this step. */
  means: Record<string, { R: number; s: number; a: number }[]>;
}

export class LiveRun {
  readonly steps: PlayedStep[] = [];
  readonly episode: EvalEpisode;
  private last: { index: number; insight: StepInsight } | undefined;

  constructor(
    readonly model: SequenceModel,
    readonly entry: LiveModelEntry,
    env: MujocoEnv,
    opts: { target: number; seed: number },
  ) {
    this.episode = new EvalEpisode(env, {
      target: opts.target,
      seed: opts.seed,
      K: Number((model.config as Record<string, unknown>).contextLength),
      stateMean: entry.stateMean,
      stateStd: entry.stateStd,
      config: entry.eval,
    });
  }

  get done(): boolean {
    return this.episode.done;
  }

  /** Plays one step (nothing once the episode ended) and returns what the model showed at it. */
  async advance(): Promise<StepInsight | undefined> {
    if (this.episode.done) return undefined;
    const window = this.episode.window();
    const segments = this.episode.env.segments();
    const insight = await inspectWindow(this.model, window);
    const r = this.episode.step(insight.action);
    const means: PlayedStep['means'] = {};
    for (const [tap, layers] of Object.entries(insight.taps))
      means[tap] = layers.map((values) => tokenTypeMeans(values, insight.channels[tap]));
    this.steps.push({ t: this.steps.length, window, action: insight.action, reward: r.reward, segments, means });
    this.last = { index: this.steps.length - 1, insight };
    return insight;
  }

  /** What the model showed at played step i: kept for the newest, recomputed from the stored window otherwise. */
  async insightAt(i: number): Promise<StepInsight> {
    if (this.last?.index === i) return this.last.insight;
    const insight = await inspectWindow(this.model, this.steps[i].window);
    this.last = { index: i, insight };
    return insight;
  }

  /** Return of the steps played up to and including step i. */
  returnUpTo(i: number): number {
    let sum = 0;
    for (let k = 0; k <= i && k < this.steps.length; k++) sum += this.steps[k].reward;
    return sum;
  }
}
