/**
 * `dmm train`: one run per seed, official settings at the chosen scale, records in <results>/<experiment>/.
 * The runs are resolved (src/config/resolve.ts, then the model's resolver) before anything is written, so
 * a typo in --set is refused in one line, and --dry-run prints exactly what the trainer would use.
 */
import * as os from 'os';
import { ENGINES, MODEL_NAMES, type ModelName } from '../../config/names';
import { resolveRun } from '../../config/resolve';
import { DEFAULT_EXPERIMENT, normaliseRunSpec, recordPath, resultsDir, type RunSpec } from '../../config/run-spec';
import { RUN_SCALES, parseScale } from '../../config/scales';
import { TRAIN_KEYS } from '../../config/train';
import { MODEL_DEFAULTS, resolveModelConfig } from '../../models/registry';
import { filterRows, loadRows, summaryTable, toMarkdown } from '../../results/aggregate';
import { runSpecs } from '../../sweep/local';
import { stableStringify } from '../../util/atomic';
import { checkOneOf, nearest } from '../../util/check';
import {
  commandError,
  helpText,
  parseCommand,
  parseIntList,
  parseInteger,
  parseOverrides,
  type CommandSpec,
} from '../args';
import type { CliCommand } from '../command';

export const TRAIN_SPEC = {
  name: 'train',
  summary:
    'Trains a model on an offline dataset with the official protocol (docs/spec.md §9), evaluating after every iteration (§10), and writes one record per seed.',
  usage: 'dmm train --model dmm --env hopper --dataset medium [--seeds 12,23] [--scale quick] [--source kit|d4rl]',
  flags: {
    model: { type: 'string', value: 'NAME', help: 'dmm | dmamba | dt | dc', default: 'dmm' },
    env: { type: 'string', value: 'ENV', help: 'hopper | halfcheetah | walker2d | antmaze', default: 'hopper' },
    dataset: {
      type: 'string',
      value: 'KIND',
      help: 'medium | medium-replay | medium-expert | expert | random; for antmaze: umaze | umaze-diverse',
      default: 'medium',
    },
    seeds: {
      type: 'string',
      value: 'LIST',
      help: 'comma-separated seeds',
      default: 'the scale’s seeds (quick: 12,23)',
    },
    scale: { type: 'string', value: 'SCALE', help: 'smoke | notebook | quick | paper', default: '$DMM_SCALE or quick' },
    source: {
      type: 'string',
      value: 'SRC',
      help: 'kit (kit-generated D4RL-format data) | d4rl (original files)',
      default: 'kit',
    },
    experiment: { type: 'string', value: 'NAME', help: 'results/<experiment>/ folder', default: DEFAULT_EXPERIMENT },
    'eval-padding': {
      type: 'string',
      value: 'MODE',
      help: 'official | train-consistent (docs/spec.md quirk 1)',
      default: 'official',
    },
    set: {
      type: 'string',
      value: 'KEY=VALUE',
      help: 'override a model or trainer setting (hiddenSize=32, learningRate=3e-4, stepsPerIteration=500)',
      repeatable: true,
    },
    jobs: { type: 'string', value: 'N', help: 'processes for several seeds', default: 'one per core' },
    results: {
      type: 'string',
      value: 'DIR',
      help: 'results folder (records and checkpoints)',
      default: '$DMM_RESULTS_DIR, else .cache/results-smoke at smoke scale, else results',
    },
    'dry-run': {
      type: 'boolean',
      help: 'print the resolved runs and configuration (JSON) and exit; writes nothing',
    },
    restart: { type: 'boolean', help: 'run again from scratch: ignore a finished record and the checkpoints' },
    engine: {
      type: 'string',
      value: 'PATH',
      help: 'fused (the kit engine: WebGPU on a GPU, WebAssembly memory on the CPU) | tfjs (op by op); models the engine does not cover train on tfjs and say so',
      default: '$DMM_ENGINE or fused',
    },
  },
  examples: [
    'dmm train --model dmm --env hopper --dataset medium --scale quick',
    'dmm train --model dt --seeds 12 --scale smoke --set hiddenSize=32',
    'dmm train --model dmm --env antmaze --dataset umaze-diverse --scale quick',
    'dmm train --model dmm --scale paper --set learningRate=3e-4 --dry-run',
  ],
} satisfies CommandSpec;

/**
 * The run specs of the command line, resolved as the trainer will resolve them: every --set key must be a
 * trainer or model setting (named with the nearest valid one otherwise), every value must pass the resolvers.
 */
function resolveSpecs(v: TrainFlags): { specs: RunSpec[]; config: ReturnType<typeof resolveRun> } {
  const scale = parseScale(v.scale, parseScale(process.env.DMM_SCALE));
  const listed = v.seeds !== undefined ? parseIntList('train', 'seeds', v.seeds) : [...RUN_SCALES[scale].seeds];
  const twice = [...new Set(listed.filter((seed, i) => listed.indexOf(seed) !== i))];
  if (twice.length > 0)
    console.error(`note: --seeds lists ${twice.join(', ')} more than once; each seed is trained once.`);
  const model = checkOneOf('dmm train', '--model', v.model ?? 'dmm', MODEL_NAMES) as ModelName;
  const overrides = parseOverrides('train', v.set);
  const settings = [...new Set([...TRAIN_KEYS, ...Object.keys(MODEL_DEFAULTS[model])])];
  for (const key of Object.keys(overrides))
    if (!settings.includes(key))
      throw commandError(
        'train',
        `--set ${key}=… names no trainer or ${model} setting. Did you mean '${nearest(key, settings)}'? Settings: ${settings.join(', ')}`,
      );
  const specs = [...new Set(listed)].map((seed) =>
    normaliseRunSpec(
      {
        model,
        env: v.env ?? 'hopper',
        dataset: v.dataset ?? 'medium',
        seed,
        scale,
        source: v.source,
        experiment: v.experiment,
        evalPadding: v['eval-padding'],
        overrides: Object.keys(overrides).length ? overrides : undefined,
      },
      'dmm train',
    ),
  );
  // The seeds share every setting, so one resolution checks them all; the model's resolver fills in its defaults.
  const config = resolveRun(specs[0]);
  return { specs, config: { ...config, model: resolveModelConfig(model, config.model) } };
}

type TrainFlags = ReturnType<typeof parseCommand<typeof TRAIN_SPEC.flags>>['flags'];

export async function trainMain(argv: string[]): Promise<number> {
  const { help, flags: v } = parseCommand(TRAIN_SPEC, argv);
  if (help) {
    console.log(helpText(TRAIN_SPEC));
    return 0;
  }
  const engine =
    v.engine !== undefined
      ? checkOneOf('dmm train', '--engine', v.engine, ENGINES)
      : checkOneOf('dmm train', 'DMM_ENGINE', process.env.DMM_ENGINE || 'fused', ENGINES);
  const { specs, config } = resolveSpecs(v);
  const results = v.results ?? resultsDir(specs[0].scale);
  const jobs = parseInteger('train', 'jobs', v.jobs) ?? Math.min(os.cpus().length, specs.length);
  if (v['dry-run']) {
    const runs = specs.map((spec) => ({ seed: spec.seed, record: recordPath(spec, results) }));
    console.log(stableStringify({ ...config, spec: { ...config.spec, seed: undefined }, runs, engine, jobs }, 2));
    return 0;
  }
  if (v.engine !== undefined) process.env.DMM_ENGINE = engine; // the pool's child processes inherit it
  // --restart: run again from scratch, ignoring a finished record and the checkpoints.
  const r = await runSpecs(specs, { resultsDir: results, jobs, cache: !v.restart, resume: !v.restart, progress: true });
  if (r.cached > 0)
    console.log(`note: ${r.cached} finished run(s) skipped, their records kept; --restart trains them again.`);
  const spec0 = specs[0];
  const rows = filterRows(loadRows(results, spec0.experiment), {
    model: spec0.model,
    dataset: spec0.dataset,
    scale: spec0.scale,
    source: spec0.source,
  });
  if (rows.some((row) => row.status === 'finished')) console.log('\n' + toMarkdown(summaryTable(rows)));
  return r.failed ? 1 : 0;
}

export const command: CliCommand = {
  name: 'train',
  summary: 'train a model (one run per seed) and evaluate it',
  run: trainMain,
};
