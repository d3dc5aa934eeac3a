/**
 * `npx dmm <command> [options]` (bin/dmm.js runs this file through tsx); also `dmm --version`,
 * `dmm help [command [subcommand]]` and `dmm --help`.
 *
 * Commands are files: src/cli/commands/<name>.ts exporting `command: CliCommand` is `dmm <name>`. The
 * table below adds the summaries shown by `dmm --help` and adapts the modules with other exports
 * (`dmm data` from the dataset tools). Every error ends as one line on stderr and a non-zero exit code
 * (DMM_DEBUG=1 prints the stack).
 */
import * as fs from 'fs';
import * as path from 'path';
import { KitError, nearest } from '../util/check';
import { kitVersion } from '../util/version';
import { commandError, pickName } from './args';
import type { CliCommand } from './command';

type Runner = (argv: string[]) => Promise<number>;

const COMMANDS_DIR = path.join(__dirname, 'commands');
/** Files in commands/ that are helpers, not commands. */
const HELPERS = new Set(['sweep-queue']);

const SUMMARIES: Record<string, string> = {
  train: 'train a model (one run per seed) and evaluate it after every iteration',
  eval: 'evaluate a checkpoint (docs/spec.md §10 rollouts, normalised scores)',
  sweep: 'run a grid of runs on local processes (or a job queue with --queue)',
  report: 'table of results from the run records (CSV + Markdown)',
  data: 'datasets: generate, download, inspect',
  worker: 'take sweep jobs from a Redis queue',
};

function commandNames(): string[] {
  const files = fs.existsSync(COMMANDS_DIR) ? fs.readdirSync(COMMANDS_DIR) : [];
  const found = files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).map((f) => f.slice(0, -3));
  return [
    ...new Set([...Object.keys(SUMMARIES).filter((n) => found.includes(n)), ...found.filter((n) => !HELPERS.has(n))]),
  ];
}

function load(name: string): Runner {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- commands load on demand (tfjs, bullmq)
  const mod = require(path.join(COMMANDS_DIR, name)) as Record<string, unknown>;
  const cmd = mod.command as CliCommand | undefined;
  const fn = cmd?.run ?? mod[`${name}Command`] ?? mod.main ?? mod.run;
  if (typeof fn !== 'function')
    throw new KitError(
      `Error in dmm: src/cli/commands/${name}.ts must export command: CliCommand (or ${name}Command(argv)), got neither.`,
    );
  return fn as Runner;
}

function usage(): string {
  const names = commandNames();
  const w = Math.max(...names.map((n) => n.length)) + 3;
  return [
    'Usage: dmm <command> [options]   (dmm help <command>, or dmm <command> --help, for its options)',
    '       dmm --version',
    '',
    'Commands:',
    ...names.map((n) => `  ${n.padEnd(w)}${SUMMARIES[n] ?? `see dmm ${n} --help`}`),
    '',
    'Environment: DMM_BACKEND (webgpu|wasm|cpu), DMM_SCALE (smoke|notebook|quick|paper), DMM_QUIET=1 (no progress bars),',
    '             DMM_RESULTS_DIR (records and checkpoints; default results/, .cache/results-smoke/ at smoke scale).',
  ].join('\n');
}

const TOP_OPTIONS = ['--help', '--version'];

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    console.log(usage());
    return name === undefined ? 1 : 0;
  }
  if (name === '--version' || name === '-v') {
    console.log(`dmm-kit ${kitVersion()}`);
    return 0;
  }
  if (name.startsWith('-'))
    throw commandError('', `unknown option '${name}'. Did you mean '${nearest(name, TOP_OPTIONS)}'?`);
  const names = commandNames();
  // `dmm help train`, `dmm help data generate`: the command's own --help.
  if (name === 'help') {
    if (rest.length === 0) {
      console.log(usage());
      return 0;
    }
    return load(pickName('', 'command', rest[0], names))([...rest.slice(1), '--help']);
  }
  return load(pickName('', 'command', name, names))(rest);
}

if (require.main === module || require.main?.filename.endsWith(path.join('bin', 'dmm.js'))) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      if (process.env.DMM_DEBUG) console.error(err);
      else
        console.error(
          err instanceof KitError ? err.message.split('\n')[0] : `Error: ${String(err?.message ?? err).split('\n')[0]}`,
        );
      process.exit(err instanceof KitError ? 2 : 1);
    },
  );
}
