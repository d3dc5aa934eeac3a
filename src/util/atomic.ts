import * as fs from 'fs';
import * as path from 'path';

/**
 * Writes a file atomically: a temporary file beside the target, then a rename, so a crash or a
 * failing notebook never leaves a half-written result, checkpoint or figure behind.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/** JSON with sorted keys, so equal objects give equal bytes (and equal hashes). */
export function stableStringify(value: unknown, indent = 0): string {
  return JSON.stringify(sortKeys(value), null, indent);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object' && !ArrayBuffer.isView(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value as object).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, stableStringify(value, 2) + '\n');
}
