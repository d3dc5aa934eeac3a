import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { kitRoot } from '../../src/figures/paths';
import { parseRunnerArgs } from '../../src/notebooks/plan';
import { runNotebook } from '../../src/notebooks/run-notebooks';

const root = kitRoot();

function notebook(cells: [string, string][]): string {
  return JSON.stringify({
    cells: cells.map(([kind, source], i) => ({
      cell_type: kind,
      id: `c${i}`,
      metadata: {},
      source,
      ...(kind === 'code' ? { execution_count: null, outputs: [] } : {}),
    })),
    metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } },
    nbformat: 4,
    nbformat_minor: 5,
  });
}

test('a failing cell stops the notebook: cell number, error text, partial copy, no later cells', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-run-'));
  const file = path.join(dir, '98-runner-failure.ipynb');
  fs.writeFileSync(
    file,
    notebook([
      ['markdown', '# a test notebook'],
      ['code', "console.log('scale', process.env.DMM_SCALE);"],
      ['code', "throw new Error('boom 42');"],
      ['code', "console.log('never printed');"],
    ]),
  );
  const env = { ...process.env, DMM_SCALE: 'smoke', JUPYTER_PATH: path.join(root, '.jupyter/share/jupyter') };
  const result = await runNotebook(
    { number: '98', name: '98-runner-failure', file },
    parseRunnerArgs(['--scale', 'smoke']),
    root,
    env,
  );
  try {
    assert.equal(result.ok, false);
    assert.equal(result.failedCell, 3, 'cells are numbered from 1, markdown included');
    assert.match(result.error ?? '', /Error: boom 42/);
    assert.doesNotMatch(result.error ?? '', /node_modules\/tslab/, "tslab's own frames are trimmed");
    const partial = JSON.parse(
      fs.readFileSync(path.join(root, '.cache/notebooks-failed/98-runner-failure.ipynb'), 'utf8'),
    ) as {
      cells: { outputs?: { text?: string | string[] }[] }[];
    };
    const text = (i: number): string =>
      (partial.cells[i].outputs ?? []).map((o) => [o.text ?? ''].flat().join('')).join('');
    assert.match(text(1), /scale smoke/, 'the notebook got the scale from the runner');
    assert.equal(text(3), '', 'nothing ran after the failing cell');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(path.join(root, '.cache/notebooks-failed/98-runner-failure.ipynb'), { force: true });
  }
});
