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

/** True while process `pid` runs on this machine (EPERM: it runs, as another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the leftovers of writes killed midway in `dir`: `<name>.<pid>.<rand>.tmp` files
 * (writeFileAtomic, the HDF5 writer) and `<name>.tmp-<pid>` folders (checkpoints) whose writing
 * process is gone. `names` limits it to temporaries of those files (a run's own record and checkpoint
 * folders, one dataset), so a run never touches what another run is writing. Returns what it removed.
 */
export function removeStaleTemps(dir: string, names?: readonly string[]): string[] {
  if (!fs.existsSync(dir)) return [];
  const removed: string[] = [];
  for (const entry of fs.readdirSync(dir)) {
    const m = /^(.+)\.(\d+)\.[a-z0-9]+\.tmp$/.exec(entry) ?? /^(.+)\.tmp-(\d+)$/.exec(entry);
    if (!m || (names && !names.includes(m[1])) || processAlive(Number(m[2]))) continue;
    fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
    removed.push(entry);
  }
  return removed;
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
