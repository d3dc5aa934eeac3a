/**
 * `npx dmm data <generate|download|card|train-policies> ...`, over the functions of src/data.
 *
 *   dmm data generate hopper-medium [--scale quick] [--seed 0] [--out FILE] [--record]
 *   dmm data generate --all [--scale smoke] [--record]
 *   dmm data download hopper-medium-v2 [walker2d-medium-replay-v2 ...] [--base-url URL]
 *   dmm data card hopper-medium [--source kit|d4rl] [--scale quick] [--json]
 *   dmm data train-policies hopper [--cpu-seconds 300] [--seed 2] [--max-iterations N] [--workers N] [--checkpoint FILE]
 */
import {
  commandError,
  helpText,
  parseCommand,
  parseInteger,
  pickName,
  wantsHelp,
  type CommandSpec,
  type FlagValues,
} from '../args';
import { stableStringify, writeJsonAtomic } from '../../util/atomic';
import { formatCard, datasetCard, downloadDataset, generateDataset, loadRecipe } from '../../data';
import { generateAntMazeDataset } from '../../data/antmaze-generate';
import { isAntMazeName } from '../../data/d4rl-ids';
import { ENV_NAMES, DATASET_KINDS, ANTMAZE_KINDS, type EnvName, type DataSource } from '../../config/names';

const SUBCOMMANDS = ['generate', 'download', 'card', 'train-policies'] as const;

const SPECS = {
  generate: {
    name: 'data generate',
    summary:
      "Generate kit datasets in D4RL's HDF5 layout from the committed behaviour policies and AntMaze controller (deterministic).",
    usage: 'dmm data generate <dataset...>|--all [--scale S] [--seed N] [--out FILE] [--record]',
    positionals: 'DATASET...',
    flags: {
      all: { type: 'boolean', help: 'every env × kind, then the AntMaze datasets' },
      scale: {
        type: 'string',
        value: 'S',
        help: 'smoke | quick | paper (notebook: the quick size)',
        default: 'DMM_SCALE or quick',
      },
      seed: { type: 'string', value: 'N', help: 'generation seed', default: "the recipe's (0)" },
      out: { type: 'string', value: 'FILE', help: 'output file (one dataset only)', default: 'data/cache/…' },
      record: { type: 'boolean', help: 'write the checksums into data/recipes.json' },
    },
    examples: [
      'dmm data generate hopper-medium --scale quick',
      'dmm data generate antmaze-umaze-diverse --scale quick',
      'dmm data generate --all --scale smoke',
    ],
  },
  download: {
    name: 'data download',
    summary: 'Download D4RL gym-mujoco v2 files into data/d4rl/ (or $DMM_DATA_DIR/d4rl), resumable, sha256-checked.',
    usage: 'dmm data download <d4rl-id...> [--base-url URL]',
    positionals: 'D4RL-ID...',
    flags: {
      'base-url': {
        type: 'string',
        value: 'URL',
        help: "a mirror of D4RL's gym_mujoco_v2 folder",
        default: 'http://rail.eecs.berkeley.edu/datasets/offline_rl/gym_mujoco_v2',
      },
    },
    examples: ['dmm data download hopper-medium-v2'],
  },
  card: {
    name: 'data card',
    summary: 'Print the card of a dataset: transitions, episodes, returns, normalized scores, state statistics.',
    usage: 'dmm data card <dataset> [--source kit|d4rl] [--scale S] [--json]',
    positionals: 'DATASET',
    flags: {
      source: { type: 'string', value: 'SRC', help: 'kit | d4rl', default: 'kit' },
      scale: {
        type: 'string',
        value: 'S',
        help: 'kit data: smoke | quick | paper (notebook: the quick size)',
        default: 'DMM_SCALE or quick',
      },
      json: { type: 'boolean', help: 'print JSON instead of text' },
    },
  },
  'train-policies': {
    name: 'data train-policies',
    summary: 'Retrain the behaviour policies of one env (ARS) and overwrite data/policies/<env>.json.',
    usage:
      'dmm data train-policies <env> [--cpu-seconds N] [--seed N] [--max-iterations N] [--noise STD] [--workers N] [--checkpoint FILE]',
    positionals: 'ENV',
    flags: {
      'cpu-seconds': { type: 'string', value: 'N', help: 'CPU budget' },
      seed: { type: 'string', value: 'N', help: 'training seed' },
      'max-iterations': {
        type: 'string',
        value: 'N',
        help: 'stop after N iterations (reproduces a committed run exactly)',
      },
      noise: { type: 'string', value: 'STD', help: 'action noise std of the ARS run (its evaluations and selection)' },
      workers: {
        type: 'string',
        value: 'N',
        help: 'worker threads for the rollouts (same result for any N)',
        default: '0',
      },
      checkpoint: { type: 'string', value: 'FILE', help: 'resume from and save progress to FILE' },
    },
    examples: [
      'dmm data train-policies hopper --max-iterations 100',
      'dmm data train-policies halfcheetah --workers 7 --checkpoint halfcheetah.ck.json',
    ],
  },
} satisfies Record<(typeof SUBCOMMANDS)[number], CommandSpec>;

/** An action-noise standard deviation: a number ≥ 0. */
function noiseStd(cmd: string, flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0)) throw commandError(cmd, `--${flag} must be a noise std ≥ 0, got '${value}'`);
  return n;
}

/** The options of every subcommand; each parse only fills in its own. */
type DataFlags = FlagValues<
  (typeof SPECS)['generate']['flags'] &
    (typeof SPECS)['download']['flags'] &
    (typeof SPECS)['card']['flags'] &
    (typeof SPECS)['train-policies']['flags']
>;

function dataUsage(): string {
  return [
    'Usage: dmm data <subcommand> [options]   (dmm data <subcommand> --help for its options)',
    '',
    'Subcommands:',
    ...SUBCOMMANDS.map((s) => `  ${SPECS[s].usage}`),
  ].join('\n');
}

export async function dataCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || (sub.startsWith('-') && wantsHelp([sub]))) {
    console.log(dataUsage());
    return sub === undefined ? 1 : 0;
  }
  if (sub.startsWith('-'))
    throw commandError('data', `a subcommand must come first (${SUBCOMMANDS.join(', ')}), got '${sub}'`);
  const spec = SPECS[pickName('data', 'subcommand', sub, SUBCOMMANDS)];
  const parsed = parseCommand(spec as CommandSpec, rest);
  const { help, positionals: names } = parsed;
  const flags = parsed.flags as DataFlags;
  if (help) {
    console.log(helpText(spec));
    return 0;
  }
  const scale = flags.scale ?? process.env.DMM_SCALE ?? 'quick';
  const cmd = spec.name;

  if (sub === 'generate') {
    const all = flags.all
      ? [
          ...ENV_NAMES.flatMap((e) => DATASET_KINDS.map((k) => `${e}-${k}`)),
          ...ANTMAZE_KINDS.map((k) => `antmaze-${k}`),
        ]
      : names;
    if (all.length === 0)
      throw commandError(cmd, 'a dataset must be named (hopper-medium) or --all given, got neither');
    if (flags.out && all.length > 1) throw commandError(cmd, `--out must go with one dataset, got ${all.length}`);
    const seed = parseInteger(cmd, 'seed', flags.seed, 0);
    for (const name of all) {
      const g = await (isAntMazeName(name) ? generateAntMazeDataset : generateDataset)(name, {
        scale,
        seed,
        file: flags.out,
        record: Boolean(flags.record),
      });
      const recipe = loadRecipe();
      const committed = recipe.checksums[g.name]?.[g.scale];
      const status =
        g.seed !== recipe.seed
          ? 'no committed checksum for this seed'
          : committed === undefined
            ? 'no committed checksum'
            : committed === g.sha256
              ? 'matches data/recipes.json'
              : 'DIFFERS from data/recipes.json';
      console.log(
        `${g.name} (${g.scale}, seed ${g.seed}): ${g.transitions} transitions in ${g.seconds.toFixed(1)} s → ${g.file}\n  sha256 ${g.sha256} (${status})`,
      );
    }
    return 0;
  }
  if (sub === 'download') {
    if (names.length === 0) throw commandError(cmd, 'a D4RL id must be named (hopper-medium-v2), got none');
    for (const id of names) {
      for (const r of await downloadDataset(id, { baseUrl: flags['base-url'] })) {
        console.log(
          `${r.file}: ${r.size} bytes, sha256 ${r.sha256} (${r.downloaded ? 'downloaded, recorded in manifest.json' : 'cached, verified'})`,
        );
      }
    }
    return 0;
  }
  if (sub === 'card') {
    if (names.length !== 1) throw commandError(cmd, `exactly one dataset must be named, got ${names.length}`);
    const source = (flags.source ?? 'kit') as DataSource;
    const card = await datasetCard(names[0], { source, scale });
    console.log(flags.json ? stableStringify(card, 2) : formatCard(card));
    return 0;
  }
  // train-policies
  if (names.length !== 1 || !(ENV_NAMES as readonly string[]).includes(names[0]))
    throw commandError(cmd, `one env must be named, one of ${ENV_NAMES.join(', ')}, got '${names.join(' ')}'`);
  const env = names[0] as EnvName;
  const { trainPolicies, policySetFile } = await import('../../data/train-policies');
  const set = await trainPolicies(
    env,
    {
      ...(flags['cpu-seconds'] !== undefined
        ? { cpuBudgetSeconds: parseInteger(cmd, 'cpu-seconds', flags['cpu-seconds']) }
        : {}),
      ...(flags.seed !== undefined ? { seed: parseInteger(cmd, 'seed', flags.seed, 0) } : {}),
      ...(flags.noise !== undefined ? { actionNoise: noiseStd(cmd, 'noise', flags.noise) } : {}),
      ...(flags['max-iterations'] !== undefined
        ? { maxIterations: parseInteger(cmd, 'max-iterations', flags['max-iterations']), cpuBudgetSeconds: Infinity }
        : {}),
    },
    {
      workers: parseInteger(cmd, 'workers', flags.workers, 0) ?? 0,
      ...(flags.checkpoint !== undefined ? { checkpointFile: flags.checkpoint } : {}),
      command: `npx dmm data train-policies ${rest.join(' ')}`,
    },
  );
  writeJsonAtomic(policySetFile(env), set);
  console.log(`wrote ${policySetFile(env)}`);
  return 0;
}
