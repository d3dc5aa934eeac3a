/**
 * Where datasets live: `DMM_DATA_DIR` when set, else the repository's `data/` folder. D4RL downloads go
 * to `<dir>/d4rl/`, kit-generated files to `<dir>/cache/` (both gitignored); the committed recipes and
 * behaviour policies always come from the repository's `data/`.
 */
import * as path from 'path';
import { portablePath } from '../util/portable-path';

/** The repository root (src/data/ is two levels down). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Committed inputs: recipes, policies, checksums. */
export const COMMITTED_DATA_DIR = path.join(REPO_ROOT, 'data');

export function dataDir(): string {
  const env = process.env.DMM_DATA_DIR;
  return env && env.trim() !== '' ? path.resolve(env) : COMMITTED_DATA_DIR;
}

export function d4rlDir(): string {
  return path.join(dataDir(), 'd4rl');
}

export function cacheDir(): string {
  return path.join(dataDir(), 'cache');
}

/** How records name a data file: relative to the data folder when it lies there (`cache/…`, `d4rl/…`). */
export function dataFileName(file: string): string {
  return portablePath(file, dataDir());
}
