/**
 * Option parsing for the queue commands (`dmm sweep --queue|--status|--collect`, `dmm worker`):
 * node's parseArgs, with its errors turned into the kit's one-line form naming the nearest option.
 */
import { parseArgs, type ParseArgsConfig } from 'util';
import { check, KitError, nearest } from '../../util/check';

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseOptions<O extends Options>(command: string, argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    const msg = (err as Error).message;
    const flag = /'(-{1,2}[^' ]+)/.exec(msg)?.[1];
    const valid = Object.keys(options).map((k) => `--${k}`);
    if (flag && /Unknown option/i.test(msg))
      throw new KitError(
        `Error in ${command}: unknown option '${flag}'. Did you mean '${nearest(flag, valid)}'? Valid options: ${valid.join(', ')}.`,
      );
    throw new KitError(
      `Error in ${command}: ${msg.split('\n')[0].replace(/\.$/, '')}. Valid options: ${valid.join(', ')}.`,
    );
  }
}

export function parseInteger(
  command: string,
  flag: string,
  value: string | undefined,
  min: number,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  check(
    Number.isInteger(n) && n >= min,
    () => `Error in ${command}: --${flag} must be an integer ≥ ${min}, got '${value}'.`,
  );
  return n;
}

/** Runs a command body; a KitError (or any error) becomes one line on stderr and a non-zero exit code. */
export async function asCommand(body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    const e = err as Error;
    console.error(e instanceof KitError ? e.message : `Error: ${String(e?.message ?? err).split('\n')[0]}`);
    return e instanceof KitError ? 2 : 1;
  }
}
