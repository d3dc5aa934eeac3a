/**
 * `npx dmm data <generate|download|card|train-policies> ...` (issue 5), over the functions of src/data.
 *
 *   dmm data generate hopper-medium [--scale quick] [--seed 0] [--out FILE] [--record]
 *   dmm data generate --all [--scale smoke] [--record]
 *   dmm data download hopper-medium-v2 [walker2d-medium-replay-v2 ...] [--base-url URL]
 *   dmm data card hopper-medium [--source kit|d4rl] [--scale quick] [--json]
 *   dmm data train-policies hopper [--cpu-seconds 300] [--seed 2] [--max-iterations N] [--workers N] [--checkpoint FILE]
 */
import { parseFlags, helpText, type CommandSpec, type FlagValues } from '../args';
import { stableStringify, writeJsonAtomic } from '../../util/atomic';
import { KitError, nearest } from '../../util/check';
import { formatCard, datasetCard, downloadDataset, generateDataset, loadRecipe } from '../../data';
import { ENV_NAMES, DATASET_KINDS, type EnvName, type DataSource } from '../../config/names';

const SUBCOMMANDS = ['generate', 'download', 'card', 'train-policies'] as const;

const SPECS: Record<(typeof SUBCOMMANDS)[number], CommandSpec> = {
  generate: {
    name: 'data generate',
    summary: "Generate kit datasets in D4RL's HDF5 layout from the committed behaviour policies (deterministic).",
    usage: 'dmm data generate <dataset...>|--all [--scale S] [--seed N] [--out FILE] [--record]',
    flags: {
      all: { type: 'boolean', help: 'every env × kind' },
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
    examples: ['dmm data generate hopper-medium --scale quick', 'dmm data generate --all --scale smoke'],
  },
  download: {
    name: 'data download',
    summary: 'Download D4RL gym-mujoco v2 files into data/d4rl/ (or $DMM_DATA_DIR/d4rl), resumable, sha256-checked.',
    usage: 'dmm data download <d4rl-id...> [--base-url URL]',
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
      'dmm data train-policies <env> [--cpu-seconds N] [--seed N] [--max-iterations N] [--workers N] [--checkpoint FILE]',
    flags: {
      'cpu-seconds': { type: 'string', value: 'N', help: 'CPU budget' },
      seed: { type: 'string', value: 'N', help: 'training seed' },
      'max-iterations': {
        type: 'string',
        value: 'N',
        help: 'stop after N iterations (reproduces a committed run exactly)',
      },
      workers: {
        type: 'string',
        value: 'N',
        help: 'worker threads for the rollouts (same result for any N)',
        default: '0',
      },
      checkpoint: { type: 'string', value: 'FILE', help: 'resume from and save progress to FILE' },
    },
  },
};

function int(flags: FlagValues, key: string, cmd: string): number | undefined {
  const v = flags[key];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new KitError(`Error in dmm ${cmd}: --${key} must be an integer, got '${v}'.`);
  return n;
}

export async function dataCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    console.log(['Usage: dmm data <subcommand> ...', '', ...SUBCOMMANDS.map((s) => `  ${SPECS[s].usage}`)].join('\n'));
    return sub === undefined ? 1 : 0;
  }
  if (!(SUBCOMMANDS as readonly string[]).includes(sub))
    throw new KitError(
      `Error in dmm data: unknown subcommand '${sub}'. Did you mean '${nearest(sub, SUBCOMMANDS)}'? Subcommands: ${SUBCOMMANDS.join(', ')}.`,
    );
  const spec = SPECS[sub as (typeof SUBCOMMANDS)[number]];
  const firstFlag = rest.findIndex((a) => a.startsWith('--'));
  const names = firstFlag < 0 ? rest : rest.slice(0, firstFlag);
  const flags = parseFlags(spec, firstFlag < 0 ? [] : rest.slice(firstFlag));
  if (flags.help) {
    console.log(helpText(spec));
    return 0;
  }
  const scale = typeof flags.scale === 'string' ? flags.scale : (process.env.DMM_SCALE ?? 'quick');

  if (sub === 'generate') {
    const all = flags.all ? ENV_NAMES.flatMap((e) => DATASET_KINDS.map((k) => `${e}-${k}`)) : names;
    if (all.length === 0)
      throw new KitError(
        'Error in dmm data generate: a dataset must be named (hopper-medium) or --all given, got neither.',
      );
    if (flags.out && all.length > 1)
      throw new KitError(`Error in dmm data generate: --out must go with one dataset, got ${all.length}.`);
    const seed = int(flags, 'seed', 'data generate');
    for (const name of all) {
      const g = await generateDataset(name, {
        scale,
        seed,
        file: flags.out as string | undefined,
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
    if (names.length === 0)
      throw new KitError('Error in dmm data download: a D4RL id must be named (hopper-medium-v2), got none.');
    for (const id of names) {
      for (const r of await downloadDataset(id, { baseUrl: flags['base-url'] as string | undefined })) {
        console.log(
          `${r.file}: ${r.size} bytes, sha256 ${r.sha256} (${r.downloaded ? 'downloaded, recorded in manifest.json' : 'cached, verified'})`,
        );
      }
    }
    return 0;
  }
  if (sub === 'card') {
    if (names.length !== 1)
      throw new KitError(`Error in dmm data card: exactly one dataset must be named, got ${names.length}.`);
    const source = (flags.source ?? 'kit') as DataSource;
    const card = await datasetCard(names[0], { source, scale });
    console.log(flags.json ? stableStringify(card, 2) : formatCard(card));
    return 0;
  }
  // train-policies
  const env = names[0] as EnvName;
  if (!(ENV_NAMES as readonly string[]).includes(env))
    throw new KitError(`Error in dmm data train-policies: env must be one of ${ENV_NAMES.join(', ')}, got '${env}'.`);
  const { trainPolicies, policySetFile } = await import('../../data/train-policies');
  const set = await trainPolicies(
    env,
    {
      ...(flags['cpu-seconds'] !== undefined
        ? { cpuBudgetSeconds: int(flags, 'cpu-seconds', 'data train-policies') }
        : {}),
      ...(flags.seed !== undefined ? { seed: int(flags, 'seed', 'data train-policies') } : {}),
      ...(flags['max-iterations'] !== undefined
        ? { maxIterations: int(flags, 'max-iterations', 'data train-policies'), cpuBudgetSeconds: Infinity }
        : {}),
    },
    {
      workers: int(flags, 'workers', 'data train-policies') ?? 0,
      ...(flags.checkpoint !== undefined ? { checkpointFile: String(flags.checkpoint) } : {}),
      command: `npx dmm data train-policies ${rest.join(' ')}`,
    },
  );
  writeJsonAtomic(policySetFile(env), set);
  console.log(`wrote ${policySetFile(env)}`);
  return 0;
}
