import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { kitRoot } from '../../src/figures/paths';

const root = kitRoot();

test('the kernel preload maps a relative folder import to its index file, and nothing else', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(path.join(root, 'environment/tslab-preload.js'));
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
  assert.match(launcher, /--require \.\/environment\/tslab-preload\.js node_modules\/tslab\/bin\/tslab/);
  assert.ok(fs.statSync(path.join(root, 'environment/tslab-kernel.sh')).mode & 0o100, 'executable');
  const kernel = path.join(root, '.jupyter/share/jupyter/kernels/tslab/kernel.json');
  if (fs.existsSync(kernel)) {
    // Registered by environment/setup.sh, which npm test runs first.
    const spec = JSON.parse(fs.readFileSync(kernel, 'utf8')) as { argv: string[] };
    assert.equal(spec.argv[0], path.join(root, 'environment/tslab-kernel.sh'));
  }
});

test('in headless runs (DMM_TSLAB_STATIC=1) the kernel preload turns off file watching', () => {
  const script = [
    "const path = require('path');",
    "const dist = path.dirname(require.resolve('tslab/dist/tspath'));",
    "const ts = require(require.resolve('@tslab/typescript-for-tslab', { paths: [dist] }));",
    'let called = 0; const w = ts.sys.watchFile(__filename, () => called++, 1000); w.close();',
    'console.log(ts.sys.watchFile.name, ts.sys.watchDirectory.name);',
  ].join('\n');
  const run = (env: NodeJS.ProcessEnv): string =>
    execFileSync(process.execPath, ['--require', path.join(root, 'environment/tslab-preload.js'), '-e', script], {
      cwd: root,
      env,
      encoding: 'utf8',
    }).trim();
  assert.equal(run({ ...process.env, DMM_TSLAB_STATIC: '1' }), 'unwatched unwatched');
  assert.notEqual(run({ ...process.env, DMM_TSLAB_STATIC: '' }), 'unwatched unwatched');
});
