import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { kitRoot } from '../../src/figures/paths';

const root = kitRoot();

test('the kernel preload maps a relative folder import to its index file, and nothing else', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(path.join(root, 'environment/tslab-folder-imports.js'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { normalizeJoin } = require('tslab/dist/tspath') as { normalizeJoin(...p: string[]): string };
  const src = path.join(root, 'src');
  assert.equal(normalizeJoin(src, './figures'), path.join(src, 'figures/index'));
  assert.equal(normalizeJoin(path.join(src, 'figures'), '../figures'), path.join(src, 'figures/index'));
  assert.equal(normalizeJoin(src, './figures/page'), path.join(src, 'figures/page'), 'a file stays a file');
  assert.equal(normalizeJoin(src, './doctor.ts'), path.join(src, 'doctor.ts'));
  assert.equal(normalizeJoin(root, 'node_modules'), path.join(root, 'node_modules'), 'a bare name is not touched');
});

test('the registered kernel starts tslab at the kit root through the launcher', () => {
  const launcher = fs.readFileSync(path.join(root, 'environment/tslab-kernel.sh'), 'utf8');
  assert.match(launcher, /cd "\$\(dirname "\$\{BASH_SOURCE\[0\]\}"\)\/\.\."/);
  assert.match(launcher, /--require \.\/environment\/tslab-folder-imports\.js node_modules\/tslab\/bin\/tslab/);
  assert.ok(fs.statSync(path.join(root, 'environment/tslab-kernel.sh')).mode & 0o100, 'executable');
  const kernel = path.join(root, '.jupyter/share/jupyter/kernels/tslab/kernel.json');
  if (fs.existsSync(kernel)) {
    // Registered by environment/setup.sh, which npm test runs first.
    const spec = JSON.parse(fs.readFileSync(kernel, 'utf8')) as { argv: string[] };
    assert.equal(spec.argv[0], path.join(root, 'environment/tslab-kernel.sh'));
  }
});
