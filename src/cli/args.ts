/**
 * The one argument parser of every `dmm` command: node's util.parseArgs under a table that each command
 * declares once (type, default, help, value placeholder, repeatable), so its `--help` and its errors come
 * from the same declaration. Every error is one line of one form:
 *
 *   Error in dmm <command>: <what is wrong>. <the fix, or "Did you mean …?"> See dmm <command> --help.
 *
 * Conventions: `--name value` or `--name=value` (a value that starts with '-' needs the '=' form), boolean
 * `--name`, repeatable options collect into arrays, `-h`/`--help` anywhere before `--` shows the help (so
 * `dmm sweep --queue --help` is help, not a queue named '--help'). Names are never abbreviated: an
 * unknown name that starts a valid one is suggested, not accepted, so a script keeps its meaning when an
 * option or command is added later.
 */
import { parseArgs } from 'util';
import { KitError, nearest } from '../util/check';

export interface FlagSpec {
  type: 'string' | 'boolean';
  help: string;
  /** Shown in --help; the command applies it. */
  default?: string;
  repeatable?: boolean;
  /** Placeholder in --help, e.g. FILE. */
  value?: string;
  /** One-letter alias, e.g. 'h' for -h. */
  short?: string;
  /** Heading the option is listed under in --help (options without one come first, under "Options:"). */
  group?: string;
}

export type Flags = Readonly<Record<string, FlagSpec>>;

export interface CommandSpec<F extends Flags = Flags> {
  /** The words after `dmm`: 'train', 'data generate'. */
  name: string;
  summary: string;
  /** Usage lines without the leading "Usage: ". */
  usage: string | readonly string[];
  flags: F;
  /** Placeholder of the positional arguments (DATASET...); without it the command takes none. */
  positionals?: string;
  examples?: readonly string[];
}

type ValueOf<S extends FlagSpec> = S['repeatable'] extends true
  ? string[]
  : S['type'] extends 'boolean'
    ? boolean
    : string;

/** Parsed option values, typed from the declaration; an option not given is undefined. */
export type FlagValues<F extends Flags> = { -readonly [K in keyof F]?: ValueOf<F[K]> };

export interface ParsedArgs<F extends Flags> {
  /** -h or --help was given: the caller prints helpText and exits 0; nothing else was checked. */
  help: boolean;
  flags: FlagValues<F>;
  positionals: string[];
}

const HELP_FLAG: FlagSpec = { type: 'boolean', short: 'h', help: 'show this help' };

/** The one-line error of a command (`name` is what follows `dmm`; '' for dmm itself). */
export function commandError(name: string, what: string): KitError {
  const cmd = name ? `dmm ${name}` : 'dmm';
  return new KitError(`Error in ${cmd}: ${what}${/[.?]$/.test(what) ? '' : '.'} See ${cmd} --help.`);
}

/**
 * `given` when it is one of `names`; else the one-line error naming the nearest, written out in full
 * (`dmm data gen` → "Did you mean 'dmm data generate'?").
 */
export function pickName<T extends string>(
  parent: string,
  kind: 'command' | 'subcommand',
  given: string,
  names: readonly T[],
): T {
  if ((names as readonly string[]).includes(given)) return given as T;
  const near = nearest(given, names);
  const full = parent ? `dmm ${parent} ${near}` : `dmm ${near}`;
  throw commandError(
    parent,
    `unknown ${kind} '${given}'. Did you mean '${full}'? ${kind === 'command' ? 'Commands' : 'Subcommands'}: ${names.join(', ')}`,
  );
}

function optionLabel(name: string, f: FlagSpec): string {
  const long = `--${name}${f.type === 'string' ? ` ${f.value ?? 'X'}` : ''}`;
  return f.short ? `-${f.short}, ${long}` : `    ${long}`;
}

/** Help text is wrapped to this many columns (a terminal's usual width, less a margin). */
const HELP_WIDTH = 100;

/** The words of `text` in lines of at most `width` characters, joined by `joint` (a newline and an indent). */
function wrap(text: string, width: number, joint = '\n'): string {
  const lines: string[] = [];
  for (const word of text.split(' ')) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last].length + 1 + word.length <= width) lines[last] += ` ${word}`;
    else lines.push(word);
  }
  return lines.join(joint);
}

export function helpText(spec: CommandSpec): string {
  const entries: [string, FlagSpec][] = [...Object.entries(spec.flags), ['help', HELP_FLAG]];
  const width = Math.max(...entries.map(([k, f]) => optionLabel(k, f).length)) + 5;
  const line = ([k, f]: [string, FlagSpec]) => {
    const text = `${f.help}${f.default !== undefined ? ` (default: ${f.default})` : ''}${f.repeatable ? ' (repeatable)' : ''}`;
    return `  ${optionLabel(k, f).padEnd(width - 2)}${wrap(text, HELP_WIDTH - width, '\n' + ' '.repeat(width))}`;
  };
  const usage = typeof spec.usage === 'string' ? [spec.usage] : spec.usage;
  const lines = [
    ...usage.map((u, i) => `${i === 0 ? 'Usage: ' : '       '}${u}`),
    '',
    wrap(spec.summary, HELP_WIDTH),
    '',
    'Options:',
    ...entries.filter(([, f]) => f.group === undefined).map(line),
  ];
  const groups = [...new Set(entries.map(([, f]) => f.group).filter((g) => g !== undefined))];
  for (const g of groups) lines.push('', `${g}:`, ...entries.filter(([, f]) => f.group === g).map(line));
  if (spec.examples?.length) lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  return lines.join('\n');
}

/** Whether argv asks for help: -h or --help before the `--` that ends the options. */
export function wantsHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/** Parses argv against the command's table; any bad input throws its one-line commandError. */
export function parseCommand<F extends Flags>(spec: CommandSpec<F>, argv: readonly string[]): ParsedArgs<F> {
  if (wantsHelp(argv)) return { help: true, flags: {}, positionals: [] };
  const flags: Record<string, FlagSpec> = { ...spec.flags, help: HELP_FLAG };
  const options = Object.fromEntries(
    Object.entries(flags).map(([k, f]) => [k, f.short ? { type: f.type, short: f.short } : { type: f.type }]),
  );
  // strict: false hands every token over, so the errors below are the kit's, in one form for every command.
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  const fail = (what: string) => commandError(spec.name, what);
  const out: Record<string, string | boolean | string[]> = {};
  const positionals: string[] = [];
  for (const t of tokens) {
    if (t.kind === 'option-terminator') continue;
    if (t.kind === 'positional') {
      if (spec.positionals === undefined)
        throw fail(`unexpected argument '${t.value}': this command takes only options (--name value)`);
      positionals.push(t.value);
      continue;
    }
    const f = flags[t.name];
    if (!f) throw fail(`unknown option '${t.rawName}'. Did you mean '--${nearest(t.name, Object.keys(flags))}'?`);
    let value: string | boolean;
    if (f.type === 'boolean') {
      if (t.value !== undefined) throw fail(`${t.rawName} takes no value, got '${t.rawName}=${t.value}'`);
      value = true;
    } else {
      // Not inline and starting with '-': the next option, so this one's value is missing.
      if (t.value === undefined || (!t.inlineValue && t.value.startsWith('--')))
        throw fail(
          `${t.rawName} must be followed by a value (${f.value ?? 'X'}), got none${t.value === undefined ? '' : ` before '${t.value}'`}`,
        );
      if (!t.inlineValue && t.value.startsWith('-'))
        throw fail(
          `${t.rawName} got '${t.value}', which reads as an option; write ${t.rawName}=${t.value} for a value`,
        );
      value = t.value;
    }
    if (f.repeatable) out[t.name] = [...((out[t.name] as string[] | undefined) ?? []), value as string];
    else if (out[t.name] !== undefined) throw fail(`--${t.name} must be given once, got it twice`);
    else out[t.name] = value;
  }
  return { help: false, flags: out as FlagValues<F>, positionals };
}

/** `--seeds 0,1,2` → [0, 1, 2]. */
export function parseIntList(cmd: string, flag: string, value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  // Plain decimal digits: Number() would also take '1e3', '0x10' and '' (as 1000, 16 and 0).
  if (parts.some((p) => !/^\d+$/.test(p) || !Number.isSafeInteger(Number(p))))
    throw commandError(cmd, `--${flag} must be a comma-separated list of non-negative integers, got '${value}'`);
  return parts.map(Number);
}

/** An integer option ≥ `min` (plain decimal digits), or undefined when not given. */
export function parseInteger(cmd: string, flag: string, value: string | undefined, min = 1): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value.trim());
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min)
    throw commandError(cmd, `--${flag} must be an integer ≥ ${min}, got '${value}'`);
  return n;
}

/** `--set key=value` overrides; numbers and booleans are parsed, everything else stays a string. */
export function parseOverrides(cmd: string, items: readonly string[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of items ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw commandError(cmd, `--set must look like key=value, got '${item}'`);
    const key = item.slice(0, eq);
    const raw = item.slice(eq + 1);
    out[key] =
      raw === 'true' ? true : raw === 'false' ? false : raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  return out;
}
