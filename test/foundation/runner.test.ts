import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { BACKENDS } from '../../src/backend';
import { kitRoot } from '../../src/figures/paths';
import { listNotebooks, parseRunnerArgs, selectNotebooks } from '../../src/notebooks/plan';
import { BACKEND_NAMES, preflight } from '../../src/notebooks/run-notebooks';

const root = kitRoot();

/** The KitError message thrown by `fn` (fails when nothing is thrown). */
function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.equal((err as Error).name, 'KitError', `expected a KitError, got ${String(err)}`);
    return (err as Error).message;
  }
  assert.fail('expected an error, got none');
}

test('runner options: defaults, both spellings, per-scale cell timeout', () => {
  assert.deepEqual(parseRunnerArgs([]), {
    scale: 'notebook',
    only: undefined,
    from: undefined,
    cellTimeout: undefined,
    reuse: false,
    help: false,
  });
  assert.equal(parseRunnerArgs(['--reuse', '--only', '03']).reuse, true);
  assert.match(
    messageOf(() => parseRunnerArgs(['--scale', 'smoke', '--reuse'])),
    /--reuse must come with a committed scale/,
  );
  const a = parseRunnerArgs(['--scale', 'smoke', '--only', '3']);
  assert.equal(a.scale, 'smoke');
  assert.equal(a.only, '03');
  assert.equal(a.cellTimeout, 1200);
  const b = parseRunnerArgs(['--scale=paper', '--from=07', '--cell-timeout', '60']);
  assert.deepEqual([b.scale, b.from, b.cellTimeout], ['paper', '07', 60]);
  assert.equal(parseRunnerArgs(['--help']).help, true);
});

test('runner options: bad input gives one line naming the problem and the fix', () => {
  const cases: [string[], RegExp][] = [
    [['--scale', 'fast'], /--scale must be one of smoke, notebook, quick, paper, got 'fast'/],
    [['--scal', 'quick'], /unknown option '--scal'\. Did you mean '--scale'\?/],
    [['--only', '03', '--from', '04'], /--only and --from must not be combined/],
    [['--only', 'x3'], /--only must be a notebook number like 03, got 'x3'/],
    [['--only'], /option --only must be followed by a value/],
    [['--scale', 'quick', '--scale', 'paper'], /must be given once/],
    [['--cell-timeout', '-5'], /--cell-timeout must be a positive whole number/],
    [['--reuse=yes'], /--reuse is a switch and takes no value/],
  ];
  for (const [argv, pattern] of cases) {
    const msg = messageOf(() => parseRunnerArgs(argv));
    assert.match(msg, /^Error in run-notebooks: /);
    assert.match(msg, pattern);
    assert.ok(!msg.includes('\n'), `one line: ${msg}`);
  }
});

test('notebooks are discovered by number, in order, and selected by --only / --from', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-nb-'));
  for (const name of ['02-b.ipynb', '00-a.ipynb', '10-late.ipynb', 'notes.ipynb', '01-c.txt']) {
    fs.writeFileSync(path.join(dir, name), '{}');
  }
  const all = listNotebooks(dir);
  assert.deepEqual(
    all.map((e) => e.name),
    ['00-a', '02-b', '10-late'],
  );
  assert.deepEqual(
    selectNotebooks(all, { from: '02' }).map((e) => e.number),
    ['02', '10'],
  );
  assert.deepEqual(
    selectNotebooks(all, { only: '10' }).map((e) => e.number),
    ['10'],
  );
  assert.match(
    messageOf(() => selectNotebooks(all, { only: '07' })),
    /--only must name a notebook in notebooks\/ \(00, 02, 10\), got '07'/,
  );
  fs.writeFileSync(path.join(dir, '02-dup.ipynb'), '{}');
  assert.match(
    messageOf(() => listNotebooks(dir)),
    /notebook numbers must be unique, got two notebooks numbered 02/,
  );
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the kit ships notebook 00 and the runner finds it', () => {
  const all = listNotebooks(path.join(root, 'notebooks'));
  assert.equal(all[0]?.name, '00-environment');
});

test('preflight: unknown backend, missing Jupyter, missing Chromium each give one line with the fix', () => {
  const env = { ...process.env, DMM_BACKEND: 'gpu' };
  assert.match(
    messageOf(() => preflight(root, env)),
    /DMM_BACKEND must be one of webgpu, tensorflow, wasm, cpu, got 'gpu'/,
  );
  const noJupyter = { ...process.env, DMM_BACKEND: '', DMM_JUPYTER: '/nonexistent/jupyter' };
  assert.match(
    messageOf(() => preflight(root, noJupyter)),
    /Jupyter nbconvert must be installed.*Fix: bash environment\/setup\.sh/,
  );
  const noChromium = { ...process.env, DMM_BACKEND: '', CHROMIUM_PATH: '/nonexistent/chromium' };
  assert.match(
    messageOf(() => preflight(root, noChromium)),
    /Chromium must exist at \/nonexistent\/chromium.*apt-get install -y chromium/,
  );
});

test('the runner knows the same backend names as src/backend.ts', () => {
  assert.deepEqual([...BACKEND_NAMES], [...BACKENDS]);
});

test('the runner command exits non-zero with one line on bad input', () => {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'src/notebooks/run-notebooks.ts'), '--scale', 'fats'],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 2);
  assert.match(
    r.stderr.trim(),
    /^Error in run-notebooks: --scale must be one of smoke, notebook, quick, paper, got 'fats'\. Did you mean '\w+'\?$/,
  );
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.equal(r.stdout, '');
});
