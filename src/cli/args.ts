/**
 * Flag parsing for `dmm` commands: each command declares its flags once (type, default, help), which
 * gives both `--help` and the "unknown flag, did you mean" line. Only `--name value`, `--name=value`
 * and boolean `--name` forms; repeatable flags collect into arrays.
 */
import { KitError, nearest } from '../util/check';

export interface FlagSpec {
  type: 'string' | 'boolean';
  help: string;
  /** Shown in --help; the command applies it. */
  default?: string;
  repeatable?: boolean;
  /** Placeholder in the usage line, e.g. FILE. */
  value?: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  flags: Record<string, FlagSpec>;
  examples?: string[];
}

export type FlagValues = Record<string, string | boolean | string[] | undefined>;

const HELP: FlagSpec = { type: 'boolean', help: 'show this help' };

export function helpText(spec: CommandSpec): string {
  const flags = { ...spec.flags, help: HELP };
  const width =
    Math.max(
      ...Object.entries(flags).map(([k, f]) => k.length + (f.type === 'string' ? (f.value ?? 'X').length + 1 : 0)),
    ) + 4;
  const lines = [`Usage: ${spec.usage}`, '', spec.summary, '', 'Options:'];
  for (const [k, f] of Object.entries(flags)) {
    const left = `--${k}${f.type === 'string' ? ` ${f.value ?? 'X'}` : ''}`;
    lines.push(
      `  ${left.padEnd(width)}${f.help}${f.default !== undefined ? ` (default: ${f.default})` : ''}${f.repeatable ? ' (repeatable)' : ''}`,
    );
  }
  if (spec.examples?.length) lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  return lines.join('\n');
}

/** Parses argv against the command's flags; a bad flag gives one KitError line naming the nearest valid flag. */
export function parseFlags(spec: CommandSpec, argv: string[]): FlagValues {
  const flags: Record<string, FlagSpec> = { ...spec.flags, help: HELP };
  const names = Object.keys(flags);
  const out: FlagValues = {};
  const cmd = `dmm ${spec.name}`;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      throw new KitError(
        `Error in ${cmd}: arguments must be flags (--name value), got '${arg}'. See dmm ${spec.name} --help.`,
      );
    }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const f = flags[name];
    if (!f)
      throw new KitError(
        `Error in ${cmd}: unknown flag '--${name}'. Did you mean '--${nearest(name, names)}'? See dmm ${spec.name} --help.`,
      );
    let value: string | boolean;
    if (f.type === 'boolean') {
      if (eq >= 0) throw new KitError(`Error in ${cmd}: --${name} takes no value, got '${arg}'.`);
      value = true;
    } else if (eq >= 0) {
      value = arg.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--'))
        throw new KitError(
          `Error in ${cmd}: --${name} must be followed by a value${f.value ? ` (${f.value})` : ''}, got none.`,
        );
      value = next;
      i++;
    }
    if (f.repeatable) out[name] = [...((out[name] as string[] | undefined) ?? []), value as string];
    else {
      if (out[name] !== undefined) throw new KitError(`Error in ${cmd}: --${name} must be given once, got it twice.`);
      out[name] = value;
    }
  }
  return out;
}

/** `--seeds 0,1,2` → [0, 1, 2]. */
export function parseIntList(cmd: string, flag: string, value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  // Plain decimal digits: Number() would also take '1e3', '0x10' and '' (as 1000, 16 and 0).
  if (parts.some((p) => !/^\d+$/.test(p) || !Number.isSafeInteger(Number(p)))) {
    throw new KitError(
      `Error in dmm ${cmd}: --${flag} must be a comma-separated list of non-negative integers, got '${value}'.`,
    );
  }
  return parts.map(Number);
}

export function parsePositiveInt(cmd: string, flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || n < 1)
    throw new KitError(`Error in dmm ${cmd}: --${flag} must be a positive integer, got '${value}'.`);
  return n;
}

/** `--set key=value` overrides; numbers and booleans are parsed, everything else stays a string. */
export function parseOverrides(cmd: string, items: string[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of items ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new KitError(`Error in dmm ${cmd}: --set must look like key=value, got '${item}'.`);
    const key = item.slice(0, eq);
    const raw = item.slice(eq + 1);
    out[key] =
      raw === 'true' ? true : raw === 'false' ? false : raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  return out;
}
