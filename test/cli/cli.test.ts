import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseFlags, parseIntList, parseOverrides, type CommandSpec } from '../../src/cli/args';
import { main } from '../../src/cli/main';
import { normaliseRunSpec, recordPath } from '../../src/config/run-spec';
import { emptyRecord, writeRecord } from '../../src/results/record';

async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(' '));
  try {
    return { code: await fn(), out: lines.join('\n') };
  } finally {
    console.log = log;
  }
}

test('every command answers --help with its usage and exits 0', async () => {
  for (const cmd of ['train', 'eval', 'sweep', 'report']) {
    const { code, out } = await capture(() => main([cmd, '--help']));
    assert.equal(code, 0, cmd);
    assert.match(out, new RegExp(`^Usage: dmm ${cmd}`), cmd);
    assert.match(out, /--help/);
  }
  const top = await capture(() => main(['--help']));
  assert.match(top.out, /train .*\n.*eval/s);
});

test('an unknown flag or command gives one line naming the nearest valid one', async () => {
  await assert.rejects(
    main(['train', '--seed', '3']),
    /^KitError: Error in dmm train: unknown flag '--seed'. Did you mean '--seeds'\?/,
  );
  await assert.rejects(main(['report', '--modle', 'dmm']), /Did you mean '--model'\?/);
  await assert.rejects(main(['trian']), /unknown command 'trian'. Did you mean 'train'\?/);
  await assert.rejects(
    main(['train', '--scale', 'quik']),
    /scale must be one of smoke, notebook, quick, paper, got "quik". Did you mean 'quick'\?/,
  );
  await assert.rejects(
    main(['train', '--model', 'dmn', '--scale', 'smoke']),
    /model must be one of dt, dc, dmamba, dmm, got "dmn". Did you mean 'dmm'\?/,
  );
  await assert.rejects(main(['eval']), /--checkpoint must name a checkpoint folder/);
});

test('flag forms: --k v, --k=v, repeatable --set with typed values', () => {
  const spec: CommandSpec = {
    name: 'x',
    summary: '',
    usage: '',
    flags: {
      a: { type: 'string', help: '' },
      b: { type: 'boolean', help: '' },
      set: { type: 'string', help: '', repeatable: true },
    },
  };
  assert.deepEqual(parseFlags(spec, ['--a=1', '--b', '--set', 'hiddenSize=32', '--set', 'dsmMode=shared-frozen']), {
    a: '1',
    b: true,
    set: ['hiddenSize=32', 'dsmMode=shared-frozen'],
  });
  assert.throws(() => parseFlags(spec, ['--a']), /--a must be followed by a value/);
  assert.throws(() => parseFlags(spec, ['--a', '1', '--a', '2']), /--a must be given once/);
  assert.deepEqual(
    parseOverrides('x', ['hiddenSize=32', 'learningRate=3e-4', 'channelMlp=true', 'dsmMode=per-layer']),
    { hiddenSize: 32, learningRate: 3e-4, channelMlp: true, dsmMode: 'per-layer' },
  );
});

test('seed lists: plain decimal integers only; an empty --seeds is an error, not the defaults', async () => {
  assert.deepEqual(parseIntList('train', 'seeds', '12, 23,0'), [12, 23, 0]);
  for (const bad of ['1e3', '0x10', '1.0', '-1', '', '3,', '+4', ' '])
    assert.throws(
      () => parseIntList('train', 'seeds', bad),
      /^KitError: Error in dmm train: --seeds must be a comma-separated list of non-negative integers/,
      bad,
    );
  const results = fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-cli-'));
  for (const argv of [['--seeds', ''], ['--seeds=']])
    await assert.rejects(
      main(['train', ...argv, '--scale', 'smoke', '--results', results]),
      /--seeds must be a comma-separated list of non-negative integers, got ''/,
    );
  assert.deepEqual(fs.readdirSync(results), [], 'nothing was trained');
});

test('dmm train: a seed listed twice is trained once, with a note; a finished run is skipped with a note', async () => {
  const results = fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-cli-'));
  const spec = normaliseRunSpec({ model: 'dmm', env: 'hopper', dataset: 'medium', seed: 3, scale: 'smoke' });
  const done = {
    ...emptyRecord(spec),
    status: 'finished' as const,
    scores: { best_official: 1, final: 1, bestPerTarget: {} },
  };
  writeRecord(recordPath(spec, results), done);
  const { code, out } = await capture(() =>
    main(['train', '--seeds', '3,3', '--scale', 'smoke', '--results', results, '--jobs', '1']),
  );
  assert.equal(code, 0);
  assert.match(out, /note: --seeds lists 3 more than once; each seed is trained once\./);
  assert.match(out, /1 run\(s\): 1 finished before, 0 to run/);
  assert.match(out, /note: 1 finished run\(s\) skipped, their records kept; --restart trains them again\./);
});
