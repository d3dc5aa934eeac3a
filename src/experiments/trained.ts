/**
 * Trained models for the introspection notebooks (05, 06): a finished cell's final checkpoint, restored
 * into a fresh model; and one docs/spec.md §10 evaluation episode that keeps the model's K-window at chosen steps.
 */
import * as fs from 'fs';
import * as path from 'path';
import { initBackend, tf } from '../backend';
import type { ModelName } from '../config/names';
import { evalEnvOf } from '../config/run-spec';
import { makeEnv } from '../envs';
import { primaryTarget } from '../config/presets';
import { createModel, type ModelInputs, type SequenceModel } from '../models';
import type { RunRecord } from '../results/record';
import { kitRoot } from '../figures/paths';
import { latestCheckpoint, restoreRun } from '../train/checkpoint';
import { runCells, type CellOutcome } from './cells';

export interface Trained {
  record: RunRecord;
  model: SequenceModel;
  stateMean: Float64Array;
  stateStd: Float64Array;
  /** True when the checkpoint was missing (a fresh clone has records but no checkpoints) and the cell was retrained. */
  retrained: boolean;
  /** The retrained run's own record (its scores are those of the weights restored), when retrained. */
  retrainedRecord?: RunRecord;
}

/** Restores a finished cell's final weights; retrains the cell into .cache when its checkpoint is gone. */
export async function loadTrained(outcome: CellOutcome, scale: string): Promise<Trained | undefined> {
  let record = outcome.record;
  if (!record) return undefined;
  let retrained = false;
  // Records name checkpoint folders relative to the kit root (absolute ones stay as they are).
  const folder = (r: RunRecord) => (r.checkpointDir ? path.resolve(kitRoot(), r.checkpointDir) : undefined);
  const stored = folder(record);
  let dir = stored && fs.existsSync(stored) ? latestCheckpoint(stored) : undefined;
  if (!dir) {
    const scratch = path.join(kitRoot(), '.cache', `results-retrain-${scale}`);
    const again = await runCells([outcome.spec], { scale, workers: 1, resultsDir: scratch });
    record = again.outcomes[0].record;
    const retrainedDir = record && folder(record);
    if (!retrainedDir) return undefined;
    dir = latestCheckpoint(retrainedDir);
    retrained = true;
    if (!dir) return undefined;
  }
  await initBackend({ log: false }); // the kit's backend, not the cpu one tfjs would start on its own
  const restored = await restoreRun(dir, {
    createModel: (name, config, dims, seed) => createModel(name as ModelName, config, dims, seed),
  });
  return {
    record: outcome.record!,
    model: restored.model,
    stateMean: restored.stateMean,
    stateStd: restored.stateStd,
    retrained,
    retrainedRecord: retrained ? record : undefined,
  };
}

/** Windows as plain arrays, one per kept step. */
export interface Window {
  step: number;
  states: Float32Array; // [K*s]
  actions: Float32Array; // [K*a]
  returnsToGo: Float32Array; // [K]
  timesteps: Int32Array; // [K]
  mask: Float32Array; // [K]
}

export function windowsToInputs(ws: readonly Window[], K: number, s: number, a: number): ModelInputs {
  const B = ws.length;
  const cat = <T extends Float32Array | Int32Array>(
    get: (w: Window) => T,
    Ctor: new (n: number) => T,
    n: number,
  ): T => {
    const out = new Ctor(B * n);
    ws.forEach((w, i) => out.set(get(w), i * n));
    return out;
  };
  return {
    states: tf.tensor3d(
      cat((w) => w.states, Float32Array, K * s),
      [B, K, s],
    ),
    actions: tf.tensor3d(
      cat((w) => w.actions, Float32Array, K * a),
      [B, K, a],
    ),
    returnsToGo: tf.tensor3d(
      cat((w) => w.returnsToGo, Float32Array, K),
      [B, K, 1],
    ),
    timesteps: tf.tensor2d(
      cat((w) => w.timesteps, Int32Array, K),
      [B, K],
      'int32',
    ),
    mask: tf.tensor2d(
      cat((w) => w.mask, Float32Array, K),
      [B, K],
    ),
  };
}

/**
 * One return-conditioned episode (docs/spec.md §10, official padding, primary target, reset seed `seed`), at most
 * `maxSteps` steps; returns the windows the model saw at `keep` evenly spaced steps (the last included).
 */
export async function episodeWindows(
  t: Trained,
  maxSteps: number,
  keep: number,
  seed: number,
): Promise<{ windows: Window[]; length: number; ret: number }> {
  const { model } = t;
  const K = Number((model.config as Record<string, unknown>).contextLength);
  const { stateDim: s, actDim: a } = model.dims;
  const env = await makeEnv(evalEnvOf(t.record.spec), { seed });
  const scale = Number(t.record.config.train.returnScale ?? 1000);
  const hist: Window[] = [];
  const S: Float32Array[] = [];
  const A: Float32Array[] = [];
  const R: number[] = [];
  let obs = env.reset();
  let rtg = primaryTarget(t.record.spec.env) / scale;
  let ret = 0;
  let len = 0;
  for (let step = 0; step < maxSteps; step++) {
    S.push(Float32Array.from(obs, (v, j) => (v - t.stateMean[j]) / t.stateStd[j]));
    A.push(new Float32Array(a));
    R.push(rtg);
    const w: Window = {
      step,
      states: new Float32Array(K * s),
      actions: new Float32Array(K * a),
      returnsToGo: new Float32Array(K),
      timesteps: new Int32Array(K),
      mask: new Float32Array(K),
    };
    const n = Math.min(K, S.length);
    for (let i = 0; i < n; i++) {
      const src = S.length - n + i;
      const slot = K - n + i;
      w.states.set(S[src], slot * s);
      w.actions.set(A[src], slot * a);
      w.returnsToGo[slot] = R[src];
      w.timesteps[slot] = Math.min(src, 999);
      w.mask[slot] = 1;
    }
    const inputs = windowsToInputs([w], K, s, a);
    const out = model.forward(inputs, { training: false });
    const act = (out.arraySync() as number[][][])[0][K - 1];
    tf.dispose([out, ...Object.values(inputs)]);
    A[A.length - 1] = Float32Array.from(act);
    w.actions.set(A[A.length - 1], (K - 1) * a); // the kept window shows the action the model chose
    hist.push(w);
    const r = env.step(Float64Array.from(act));
    ret += r.reward;
    len++;
    rtg -= r.reward / scale;
    obs = r.observation;
    if (r.terminated || r.truncated) break;
  }
  env.close();
  const picks = new Set(
    Array.from({ length: Math.min(keep, hist.length) }, (_, j) =>
      Math.round(((j + 1) * (hist.length - 1)) / Math.min(keep, hist.length)),
    ),
  );
  picks.add(hist.length - 1);
  return { windows: hist.filter((w) => picks.has(w.step)), length: len, ret };
}
