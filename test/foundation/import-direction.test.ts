/**
 * One direction (style: data → models → train → eval → results → figures; experiments compose them;
 * notebooks call experiments): the import lines of every file in src/ are checked against the rules below.
 * Type-only imports count: a stage that names another's types depends on it.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';

const SRC = path.resolve(__dirname, '../../src');

/** [importer folder, imported folder, why]: an importer in the first may not import from the second. */
const FORBIDDEN: [string, string, string][] = [
  ['*', 'experiments', 'experiments compose the library; nothing in it imports them'],
  ['*', 'cli', 'the command line is the top; nothing imports it'],
  ['eval', 'train', 'the evaluator reads a model, not the trainer'],
  ['results', 'train', 'records are written by training, read without it'],
  ['figures', 'models', 'figures read records, never models'],
  ['models', 'data', 'models never import data'],
  ['models', 'train', 'models know nothing of training'],
  ['nn', 'models', 'building blocks below the models'],
  ['ops', 'models', 'kernels below the models'],
  ['ops', 'nn', 'kernels below the building blocks'],
  ['config', 'train', 'configuration is plain data, below every stage'],
  ['config', 'models', 'configuration is plain data, below every stage'],
  ['config', 'data', 'configuration is plain data, below every stage'],
];

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** The top folder of src/ a file is in ('backend.ts' → 'backend'). */
const stage = (file: string) => path.relative(SRC, file).split(path.sep)[0].replace(/\.ts$/, '');

/** Relative import, export-from and require targets of a source file, resolved to files under src/. */
export function importsOf(file: string, text = fs.readFileSync(file, 'utf8')): string[] {
  const specs = [
    ...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/gm),
    ...text.matchAll(/^\s*import\s+'([^']+)'/gm),
    ...text.matchAll(/require\('([^']+)'\)/g),
  ].map((m) => m[1]);
  return specs.filter((s) => s.startsWith('.')).map((s) => path.resolve(path.dirname(file), s));
}

export function violations(pairs: { file: string; target: string }[]): string[] {
  const out: string[] = [];
  for (const { file, target } of pairs) {
    const from = stage(file);
    const to = stage(target);
    if (from === to) continue;
    for (const [a, b, why] of FORBIDDEN)
      if ((a === '*' || a === from) && b === to)
        out.push(`${path.relative(SRC, file)} imports ${path.relative(SRC, target)}: ${why}`);
  }
  return out;
}

test('imports in src/ go one way', () => {
  const pairs = files(SRC).flatMap((file) => importsOf(file).map((target) => ({ file, target })));
  assert.ok(pairs.length > 300, `found only ${pairs.length} imports: the scan itself is broken`);
  assert.deepEqual(violations(pairs), []);
});

test('the check sees a bad import, typed or required', () => {
  const file = path.join(SRC, 'eval', 'rollout.ts');
  const bad = [
    "import type { Trainer } from '../train/trainer';",
    "import {\n  runCells,\n} from '../experiments/cells';",
    "const x = require('../cli/main');",
  ].join('\n');
  const found = violations(importsOf(file, bad).map((target) => ({ file, target })));
  assert.equal(found.length, 3, found.join('\n'));
  assert.match(found[0], /eval\/rollout\.ts imports train\/trainer: the evaluator reads a model/);
});
