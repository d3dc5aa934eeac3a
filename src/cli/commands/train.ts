/** `dmm train`: one run per seed, official settings at the chosen scale, records in results/<experiment>/. */
import * as os from 'os';
import { RUN_SCALES, parseScale } from '../../config/scales';
import { filterRows, loadRows, summaryTable, toMarkdown } from '../../results/aggregate';
import { DEFAULT_EXPERIMENT, normaliseRunSpec, type RunSpec } from '../../config/run-spec';
import { runSpecs } from '../../sweep/local';
import { helpText, parseFlags, parseIntList, parseOverrides, parsePositiveInt, type CommandSpec } from '../args';
import type { CliCommand } from '../command';
import { ENGINES } from '../../config/names';
import { check } from '../../util/check';

export const TRAIN_SPEC: CommandSpec = {
  name: 'train',
  summary:
    'Trains a model on an offline dataset with the official protocol (docs/spec.md §9), evaluating after every iteration (§10), and writes one record per seed.',
  usage: 'dmm train --model dmm --env hopper --dataset medium [--seeds 12,23] [--scale quick] [--source kit|d4rl]',
  flags: {
    model: { type: 'string', value: 'NAME', help: 'dmm | dmamba | dt | dc', default: 'dmm' },
    env: { type: 'string', value: 'ENV', help: 'hopper | halfcheetah | walker2d', default: 'hopper' },
    dataset: {
      type: 'string',
      value: 'KIND',
      help: 'medium | medium-replay | medium-expert | expert | random',
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
    results: { type: 'string', value: 'DIR', help: 'results folder', default: 'results' },
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
  ],
};

export async function trainMain(argv: string[]): Promise<number> {
  const v = parseFlags(TRAIN_SPEC, argv);
  if (v.help) {
    console.log(helpText(TRAIN_SPEC));
    return 0;
  }
  if (v.engine !== undefined) {
    check(
      (ENGINES as readonly string[]).includes(v.engine as string),
      () => `Error in dmm train: --engine must be one of ${ENGINES.join(', ')}, got '${v.engine}'.`,
    );
    process.env.DMM_ENGINE = v.engine as string; // the pool's child processes inherit it
  }
  const scale = parseScale(v.scale as string | undefined, parseScale(process.env.DMM_SCALE));
  const listed =
    v.seeds !== undefined ? parseIntList('train', 'seeds', v.seeds as string) : [...RUN_SCALES[scale].seeds];
  const seeds = [...new Set(listed)];
  const twice = [...new Set(listed.filter((seed, i) => listed.indexOf(seed) !== i))];
  if (twice.length > 0)
    console.log(`note: --seeds lists ${twice.join(', ')} more than once; each seed is trained once.`);
  const resultsDir = (v.results as string | undefined) ?? 'results';
  const overrides = parseOverrides('train', v.set as string[] | undefined);
  const specs: RunSpec[] = seeds.map((seed) =>
    normaliseRunSpec(
      {
        model: (v.model as string | undefined) ?? 'dmm',
        env: (v.env as string | undefined) ?? 'hopper',
        dataset: (v.dataset as string | undefined) ?? 'medium',
        seed,
        scale,
        source: v.source as string | undefined,
        experiment: v.experiment as string | undefined,
        evalPadding: v['eval-padding'] as string | undefined,
        overrides: Object.keys(overrides).length ? overrides : undefined,
      },
      'dmm train',
    ),
  );
  const jobs =
    parsePositiveInt('train', 'jobs', v.jobs as string | undefined) ?? Math.min(os.cpus().length, specs.length);
  // --restart: run again from scratch, ignoring a finished record and the checkpoints.
  const r = await runSpecs(specs, { resultsDir, jobs, cache: !v.restart, resume: !v.restart, progress: true });
  if (r.cached > 0)
    console.log(`note: ${r.cached} finished run(s) skipped, their records kept; --restart trains them again.`);
  const spec0 = specs[0];
  const rows = filterRows(loadRows(resultsDir, spec0.experiment), {
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
