/**
 * Paths that results store (records, benchmark JSON) are written relative to a folder every machine
 * has (the kit root, the data folder), so a committed result reads the same on every machine.
 */
import * as path from 'path';

/** `file` relative to `base` when it lies inside it; else its absolute path (a folder outside the kit). */
export function portablePath(file: string, base: string): string {
  const rel = path.relative(path.resolve(base), path.resolve(file));
  return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? path.resolve(file) : rel;
}
