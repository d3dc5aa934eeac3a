/**
 * A spec → the resolved configs of its run, in one order: the official settings (presets.ts) → the
 * scale's counts (scales.ts) → the spec's overrides. Override keys that name trainer settings
 * (learningRate, batchSize, ...) go to the trainer, all others to the model. Training (src/train/run.ts),
 * the notebooks' planner and captions (budget.ts) and `dmm train --dry-run` read a run's numbers from here.
 */
import { resolveEvalConfig, type EvalConfig } from './eval';
import { officialModelConfig, officialPreset, primaryTarget, rtgTargets } from './presets';
import { evalEnvOf, normaliseRunSpec, type NormalRunSpec, type RunSpec } from './run-spec';
import type { EnvId } from './names';
import { RUN_SCALES, type DataScale } from './scales';
import { resolveTrainConfig, TRAIN_KEYS, type TrainConfig } from './train';

export interface ResolvedRun {
  spec: NormalRunSpec;
  /** Model config keys over the model's DEFAULTS; `createModel` validates them. */
  model: Readonly<Record<string, unknown>>;
  train: Readonly<TrainConfig>;
  eval: Readonly<EvalConfig>;
  /** The env the evaluations run in (`evalEnvOf`): the task, or an AntMaze dataset's maze. */
  evalEnv: EnvId;
  /** The size of kit-generated dataset the run trains on (data/recipes.json). */
  dataScale: DataScale;
}

export function resolveRun(spec: RunSpec): ResolvedRun {
  const s = normaliseRunSpec(spec, 'resolveRun');
  const kind = s.dataset.slice(s.env.length + 1);
  const preset = officialPreset(s.model, s.env, kind);
  const scale = RUN_SCALES[s.scale];
  const trainOverrides: Record<string, unknown> = {};
  const modelOverrides: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s.overrides ?? {})) {
    if ((TRAIN_KEYS as string[]).includes(k)) trainOverrides[k] = v;
    else modelOverrides[k] = v;
  }
  const train = resolveTrainConfig({
    iterations: scale.iterations,
    stepsPerIteration: scale.stepsPerIteration,
    warmupSteps: scale.warmupSteps,
    batchSize: scale.batchSize ?? preset.batchSize,
    learningRate: preset.learningRate,
    weightDecay: preset.weightDecay,
    returnScale: preset.returnScale,
    ...trainOverrides,
  });
  const evalConfig = resolveEvalConfig({
    targets: scale.targets === 'primary' ? [primaryTarget(s.env)] : rtgTargets(s.model, s.env),
    episodesPerTarget: scale.episodesPerTarget,
    maxEpisodeSteps: scale.maxEpisodeSteps,
    maxEpLen: train.maxEpLen,
    returnScale: train.returnScale,
    evalPadding: s.evalPadding,
  });
  const model = Object.freeze({
    ...officialModelConfig(s.model, s.env, kind),
    ...scale.modelOverrides,
    ...modelOverrides,
  });
  return { spec: s, model, train, eval: evalConfig, evalEnv: evalEnvOf(s), dataScale: scale.dataScale };
}
