/**
 * One error type and one guard for the whole kit: messages read
 * `Error in <function>: <what> must <rule>, got <value>.` plus the fix, and are built lazily.
 */
export class KitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KitError';
  }
}

/** Throws a KitError with `msg()` when `ok` is false. The message is only built on failure. */
export function check(ok: unknown, msg: () => string): asserts ok {
  if (!ok) throw new KitError(msg());
}

/** Levenshtein distance, for "did you mean" hints on unknown keys. */
function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

/**
 * The valid key closest to `key`, for error messages. A key that starts a valid one is taken as its
 * abbreviation (`gen` → `generate`, though `card` is fewer edits away); otherwise the fewest edits win.
 */
export function nearest(key: string, valid: readonly string[]): string {
  const lower = key.toLowerCase();
  const extended = lower === '' ? [] : valid.filter((v) => v.toLowerCase().startsWith(lower));
  const pool = extended.length > 0 ? extended : valid;
  let best = pool[0] ?? '';
  let bestD = Infinity;
  for (const v of pool) {
    const d = editDistance(key.toLowerCase(), v.toLowerCase());
    if (d < bestD) [best, bestD] = [v, d];
  }
  return best;
}

/** Rejects keys of `given` that are not in `valid`, naming the nearest valid key. */
export function checkKnownKeys(fn: string, given: object, valid: readonly string[]): void {
  for (const key of Object.keys(given)) {
    check(
      valid.includes(key),
      () =>
        `Error in ${fn}: unknown option '${key}'. Did you mean '${nearest(key, valid)}'? Valid options: ${valid.join(', ')}.`,
    );
  }
}

/** `value` when it is one of `valid`; else a one-line error naming the nearest valid value. */
export function checkOneOf<T extends string>(fn: string, what: string, value: unknown, valid: readonly T[]): T {
  check(
    typeof value === 'string' && (valid as readonly string[]).includes(value),
    () =>
      `Error in ${fn}: ${what} must be one of ${valid.join(', ')}, got ${JSON.stringify(value)}.` +
      (typeof value === 'string' ? ` Did you mean '${nearest(value, valid)}'?` : ''),
  );
  return value as T;
}
