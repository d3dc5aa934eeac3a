/**
 * Records and benchmark results read the same on every machine: the paths they store are relative
 * (data files to the data folder, checkpoint folders to the kit root), never this machine's absolute
 * paths, in the committed files and in what the writers write now.
 */
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { after, test } from 'node:test';
import { checkpointDir } from '../../src/config/run-spec';
import { REPO_ROOT } from '../../src/data/paths';
import { runTraining } from '../../src/train/run';
import { toyDeps } from '../helpers/train-fakes';

/** Every string value in a JSON value, with its key path. */
function strings(value: unknown, at = ''): [string, string][] {
  if (typeof value === 'string') return [[at, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => strings(v, `${at}[${i}]`));
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => strings(v, at ? `${at}.${k}` : k));
  return [];
}

function jsonFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'checkpoints' ? [] : jsonFiles(p);
    return e.name.endsWith('.json') ? [p] : [];
  });
}

test('committed records and benchmark results hold no absolute paths', () => {
  const files = [...jsonFiles(path.join(REPO_ROOT, 'results')), ...jsonFiles(path.join(REPO_ROOT, 'bench', 'results'))];
  assert.ok(files.length > 50, `found only ${files.length} files`);
  const absolute = files.flatMap((f) =>
    strings(JSON.parse(fs.readFileSync(f, 'utf8')))
      .filter(([, s]) => /(^|\s)\/(work|home|tmp|root|Users|mnt)\//.test(s))
      .map(([at, s]) => `${path.relative(REPO_ROOT, f)} ${at}: ${s}`),
  );
  assert.deepEqual(absolute.slice(0, 5), [], `${absolute.length} absolute paths`);
});

const scratch = path.join(REPO_ROOT, '.cache', `test-portable-${process.pid}`);
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

test('a run inside the kit records its checkpoint folder relative to the kit root', async () => {
  const spec = { model: 'dmm', env: 'hopper', dataset: 'medium', seed: 1, scale: 'smoke', experiment: 'toy' } as const;
  const rec = await runTraining(spec, { resultsDir: scratch, deps: toyDeps(), silent: true });
  assert.equal(rec.checkpointDir, path.relative(REPO_ROOT, checkpointDir(spec, scratch)));
  assert.ok(!path.isAbsolute(rec.checkpointDir!));
  assert.ok(fs.existsSync(path.join(REPO_ROOT, rec.checkpointDir!, 'iter-0002')));
});
