/**
 * The grid file: one JSON format for local sweeps and for the job queue (issue 9).
 *
 * ```json
 * {
 *   "experiment": "main-table",          // results/<experiment>/
 *   "scale": "quick",                    // smoke | notebook | quick | paper
 *   "models": ["dmm", "dt"],             // the product models × envs × datasets × seeds ...
 *   "envs": ["hopper", "walker2d"],
 *   "datasets": ["medium", "medium-replay"],   // kinds; a cell's dataset id is `<env>-<kind>`; each env takes
 *                                               // its own kinds (antmaze: umaze, umaze-diverse)
 *   "seeds": [12, 23, 34, 45, 51],
 *   "overrides": { "dropout": 0.1 },     // model-config overrides for every cell (optional)
 *   "evalPadding": "official",           // optional, docs/spec.md quirk 1
 *   "source": "kit",                     // optional: kit | d4rl, the dataset source
 *   "cells": [ { "model": "dc", "dataset": "hopper-medium", "env": "hopper", "seed": 12 } ],
 *   "description": "free text"
 * }
 * ```
 * Either the four product lists, or `cells`, or both. A cell inherits `scale`, `experiment`,
 * `overrides` (merged, the cell's keys win), `evalPadding` and `source` from the grid. Every cell must be unique.
 */
import * as fs from 'fs';
import { check, nearest } from '../util/check';
import { ANTMAZE_KINDS, DATASET_KINDS } from '../config/names';
import { SCALES } from '../config/scales';
import { datasetKindsOf, normaliseRunSpec, specHash, type RunSpec } from '../config/run-spec';
import type { RunEnv } from '../config/names';

export const GRID_KEYS = [
  'experiment',
  'scale',
  'models',
  'envs',
  'datasets',
  'seeds',
  'overrides',
  'evalPadding',
  'source',
  'cells',
  'description',
] as const;
const PRODUCT_KEYS = ['models', 'envs', 'datasets', 'seeds'] as const;

export interface Grid {
  experiment: string;
  scale: string;
  models?: string[];
  envs?: string[];
  datasets?: string[];
  seeds?: number[];
  overrides?: Record<string, unknown>;
  evalPadding?: string;
  source?: string;
  cells?: Partial<RunSpec>[];
  description?: string;
}

/** One expanded cell: the normalised spec and its hash. */
export interface GridCell {
  spec: RunSpec;
  hash: string;
}

function unknownKeys(fn: string, where: string, obj: object, valid: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    check(
      valid.includes(key),
      () =>
        `Error in ${fn}: unknown key '${key}' in ${where}. Did you mean '${nearest(key, valid)}'? Valid keys: ${valid.join(', ')}.`,
    );
  }
}

function nonEmptyList(fn: string, key: string, value: unknown): unknown[] {
  check(
    Array.isArray(value) && value.length > 0,
    () => `Error in ${fn}: '${key}' must be a non-empty list, got ${JSON.stringify(value)}.`,
  );
  return value;
}

/**
 * Validates a parsed grid and expands it into cells (product first, in models → envs → datasets →
 * seeds order, then explicit cells). `file` names the grid in messages.
 */
export function expandGrid(grid: unknown, file = 'grid'): GridCell[] {
  const fn = `expandGrid (${file})`;
  check(
    typeof grid === 'object' && grid !== null && !Array.isArray(grid),
    () => `Error in ${fn}: a grid must be a JSON object, got ${JSON.stringify(grid)}.`,
  );
  const g = grid as Record<string, unknown>;
  unknownKeys(fn, 'the grid', g, GRID_KEYS);
  check(
    typeof g.experiment === 'string',
    () =>
      `Error in ${fn}: 'experiment' must be a name (it picks results/<experiment>/), got ${JSON.stringify(g.experiment)}.`,
  );
  check(
    typeof g.scale === 'string',
    () => `Error in ${fn}: 'scale' must be one of ${SCALES.join(', ')}, got ${JSON.stringify(g.scale)}.`,
  );
  check(
    g.description === undefined || typeof g.description === 'string',
    () => `Error in ${fn}: 'description' must be a string, got ${JSON.stringify(g.description)}.`,
  );
  const present = PRODUCT_KEYS.filter((k) => g[k] !== undefined);
  check(
    present.length === 0 || present.length === PRODUCT_KEYS.length,
    () =>
      `Error in ${fn}: the product needs all of ${PRODUCT_KEYS.join(', ')}, got only ${present.join(', ')}. Add the missing lists or use 'cells'.`,
  );
  check(
    present.length > 0 || g.cells !== undefined,
    () => `Error in ${fn}: a grid must give ${PRODUCT_KEYS.join(', ')} or 'cells', got neither.`,
  );

  const base = { scale: g.scale, experiment: g.experiment, evalPadding: g.evalPadding, source: g.source };
  const gridOverrides = g.overrides;
  check(
    gridOverrides === undefined ||
      (typeof gridOverrides === 'object' && gridOverrides !== null && !Array.isArray(gridOverrides)),
    () => `Error in ${fn}: 'overrides' must be an object of model-config keys, got ${JSON.stringify(gridOverrides)}.`,
  );
  const raw: { where: string; spec: Record<string, unknown> }[] = [];

  if (present.length > 0) {
    const models = nonEmptyList(fn, 'models', g.models);
    const envs = nonEmptyList(fn, 'envs', g.envs);
    const kinds = nonEmptyList(fn, 'datasets', g.datasets);
    const seeds = nonEmptyList(fn, 'seeds', g.seeds);
    const allKinds: readonly string[] = [...DATASET_KINDS, ...ANTMAZE_KINDS];
    for (const kind of kinds) {
      check(
        typeof kind === 'string' && allKinds.includes(kind),
        () =>
          `Error in ${fn}: 'datasets' lists dataset kinds (${allKinds.join(', ')}), got ${JSON.stringify(kind)}.` +
          (typeof kind === 'string'
            ? ` Did you mean '${nearest(kind.replace(/^[a-z0-9]+-(?=medium|expert|random|umaze)/, ''), allKinds)}'?`
            : ''),
      );
    }
    // Each env takes the listed kinds that are its own (antmaze: umaze, umaze-diverse; the others D4RL's
    // gym kinds), so one grid covers MuJoCo and AntMaze; a kind no env takes, or an env with none, is refused.
    const own = (env: unknown) => kinds.filter((k) => datasetKindsOf(env as RunEnv).includes(k as string));
    for (const env of envs)
      check(
        own(env).length > 0,
        () =>
          `Error in ${fn}: env ${JSON.stringify(env)} takes none of the listed datasets (${kinds.join(', ')}). Add one of ${datasetKindsOf(env as RunEnv).join(', ')}, or drop the env.`,
      );
    for (const kind of kinds)
      check(
        envs.some((env) => own(env).includes(kind)),
        () =>
          `Error in ${fn}: dataset kind '${kind}' belongs to none of the envs ${envs.join(', ')}. Add its env (antmaze for umaze kinds), or drop the kind.`,
      );
    for (const model of models)
      for (const env of envs)
        for (const kind of own(env))
          for (const seed of seeds) {
            const spec: Record<string, unknown> = { ...base, model, env, dataset: `${env}-${kind}`, seed };
            if (gridOverrides !== undefined) spec.overrides = gridOverrides;
            raw.push({ where: `the product (${model}, ${env}, ${kind}, ${seed})`, spec });
          }
  }
  if (g.cells !== undefined) {
    const cells = nonEmptyList(fn, 'cells', g.cells);
    cells.forEach((cell, i) => {
      check(
        typeof cell === 'object' && cell !== null && !Array.isArray(cell),
        () => `Error in ${fn}: cells[${i}] must be an object, got ${JSON.stringify(cell)}.`,
      );
      const c = cell as Record<string, unknown>;
      unknownKeys(fn, `cells[${i}]`, c, ['model', 'env', 'dataset', 'seed', 'overrides', 'evalPadding', 'source']);
      const spec: Record<string, unknown> = { ...base, ...c };
      if (gridOverrides !== undefined || c.overrides !== undefined) {
        const own = c.overrides;
        check(
          own === undefined || (typeof own === 'object' && own !== null && !Array.isArray(own)),
          () => `Error in ${fn}: cells[${i}].overrides must be an object, got ${JSON.stringify(own)}.`,
        );
        spec.overrides = { ...(gridOverrides as object | undefined), ...(own as object | undefined) };
      }
      raw.push({ where: `cells[${i}]`, spec });
    });
  }

  const seen = new Map<string, string>();
  const out: GridCell[] = [];
  for (const { where, spec } of raw) {
    let normal: RunSpec;
    try {
      normal = normaliseRunSpec(spec, fn);
    } catch (err) {
      // Say which cell was bad; the message already names the field and the fix.
      throw Object.assign(err as Error, { message: `${(err as Error).message.replace(/\.$/, '')} (in ${where}).` });
    }
    const hash = specHash(normal);
    const first = seen.get(hash);
    check(
      first === undefined,
      () => `Error in ${fn}: ${where} repeats ${first}; every cell must be unique. Remove one of them.`,
    );
    seen.set(hash, where);
    out.push({ spec: normal, hash });
  }
  return out;
}

/** Reads, parses and expands a grid file. Every problem is one line naming the file. */
export function loadGrid(file: string): { grid: Grid; cells: GridCell[] } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    check(
      false,
      () =>
        `Error in loadGrid: grid file must be readable, got '${file}' (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). Check the path.`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    check(false, () => `Error in loadGrid: ${file} must be valid JSON, got a parse error: ${(err as Error).message}.`);
  }
  const cells = expandGrid(parsed, file);
  return { grid: parsed as Grid, cells };
}
