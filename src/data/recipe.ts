/**
 * The committed generation recipe (data/recipes.json): transition counts per scale and kind, the
 * default seed, the generator version and the sha256 of every generated file
 * per scale. Changing the generator, the environments or a policy changes the bytes; the checksums
 * then fail loudly and are re-recorded on purpose (`npx dmm data generate --all --record`).
 */
import * as fs from 'fs';
import * as path from 'path';
import type { DataScale } from '../config/scales';
import { writeJsonAtomic } from '../util/atomic';
import { check } from '../util/check';
import type { EnvName, DatasetKind } from '../config/names';
import { COMMITTED_DATA_DIR } from './paths';

export const RECIPE_FORMAT = 'dmm-kit dataset recipe v1';

/** metadata/generator of every kit-generated file (src/data/generate.ts), and how a kit file is told apart. */
export const KIT_GENERATOR = 'dmm-kit';

export interface Recipe {
  format: typeof RECIPE_FORMAT;
  generator: string;
  generatorVersion: string;
  seed: number;
  /** Transitions per scale and kind; a record when the count depends on the env (medium-replay). */
  sizes: Record<DataScale, Record<DatasetKind, number | Partial<Record<EnvName, number>>>>;
  /** Rows of each AntMaze dataset per scale (src/data/antmaze-generate.ts); D4RL's files hold 1,000,000. */
  antmazeSizes?: Record<DataScale, number>;
  /** sha256 of the generated file per dataset name and scale, for the recipe's seed. */
  checksums: Record<string, Partial<Record<DataScale, string>>>;
}

export function recipeFile(): string {
  return path.join(COMMITTED_DATA_DIR, 'recipes.json');
}

export function loadRecipe(file = recipeFile()): Recipe {
  check(
    fs.existsSync(file),
    () => `Error in loadRecipe: the recipe must exist at ${file}, got no file. Restore data/recipes.json from git.`,
  );
  const r = JSON.parse(fs.readFileSync(file, 'utf8')) as Recipe;
  check(
    r.format === RECIPE_FORMAT,
    () => `Error in loadRecipe: ${file} must have format '${RECIPE_FORMAT}', got '${r.format}'.`,
  );
  return r;
}

export function transitionCount(recipe: Recipe, scale: DataScale, env: EnvName, kind: DatasetKind): number {
  const v = recipe.sizes[scale]?.[kind];
  const n = typeof v === 'number' ? v : v?.[env];
  check(
    Number.isInteger(n) && (n as number) > 0,
    () =>
      `Error in transitionCount: data/recipes.json must give a transition count for ${env}-${kind} at scale ${scale}, got ${JSON.stringify(v)}.`,
  );
  return n as number;
}

/** Writes the checksum of one generated file into data/recipes.json. */
export function recordChecksum(name: string, scale: DataScale, sha256: string, file = recipeFile()): void {
  const r = loadRecipe(file);
  r.checksums[name] = { ...(r.checksums[name] ?? {}), [scale]: sha256 };
  writeJsonAtomic(file, r);
}
