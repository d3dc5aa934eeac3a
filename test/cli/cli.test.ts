import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseCommand, parseIntList, parseOverrides, type CommandSpec } from '../../src/cli/args';
import { main } from '../../src/cli/main';
import { normaliseRunSpec, recordPath, resultsDir, specHash } from '../../src/config/run-spec';
import { emptyRecord, writeRecord } from '../../src/results/record';
import { kitRoot } from '../../src/util/kit-root';
import { writeGrid } from '../helpers/sweep-redis';

const TOY_RUNNER = path.join(__dirname, '..', 'helpers', 'train-toy-runner.ts');

/** Runs a command in-process; resolves with its exit code and what it printed (stdout and stderr). */
async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const { log, error } = console;
  console.log = console.error = (...a: unknown[]) => void lines.push(a.join(' '));
  try {
    return { code: await fn(), out: lines.join('\n') };
  } finally {
    Object.assign(console, { log, error });
  }
}

const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-cli-'));

test('every command answers --help, -h and dmm help <command> with its usage and exits 0', async () => {
  for (const cmd of ['train', 'eval', 'sweep', 'report', 'worker', 'data generate', 'data card']) {
    const words = cmd.split(' ');
    for (const argv of [
      [...words, '--help'],
      [...words, '-h'],
      ['help', ...words],
    ]) {
      const { code, out } = await capture(() => main(argv));
      assert.equal(code, 0, argv.join(' '));
      assert.match(out, new RegExp(`^Usage: dmm ${cmd}`), argv.join(' '));
      assert.match(out, /-h, --help +show this help/);
    }
  }
  const top = await capture(() => main(['--help']));
  assert.match(top.out, /train .*\n.*eval/s);
  assert.equal((await capture(() => main(['help']))).out, top.out);
  assert.match((await capture(() => main(['data', '-h']))).out, /^Usage: dmm data <subcommand>/);
});

test('dmm --version prints the version in package.json', async () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(kitRoot(), 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-v']) {
    const { code, out } = await capture(() => main([flag]));
    assert.equal(code, 0);
    assert.equal(out, `dmm-kit ${pkg.version}`);
  }
});

test('dmm sweep --help lists every option, both modes; --queue --help is help, not a queue named --help', async () => {
  const help = (await capture(() => main(['sweep', '--help']))).out;
  for (const flag of ['grid', 'jobs', 'results', 'runner', 'queue', 'status', 'collect', 'json', 'attempts'])
    assert.match(help, new RegExp(`--${flag}\\b`), flag);
  for (const flag of ['backoff-ms', 'retry-failed', 'source', 'name'])
    assert.match(help, new RegExp(`--${flag}\\b`), flag);
  const queueHelp = await capture(() => main(['sweep', '--queue', '--help']));
  assert.equal(queueHelp.code, 0);
  assert.equal(queueHelp.out, help);
  await assert.rejects(
    main(['sweep', '--grid', 'grids/smoke-6.json', '--attempts', '2']),
    /^KitError: Error in dmm sweep: --attempts is a job-queue option: it goes with --queue URL, --status or --collect\. See dmm sweep --help\.$/,
  );
});

test('an unknown option, command or subcommand gives one line naming the nearest valid one', async () => {
  await assert.rejects(
    main(['train', '--seed', '3']),
    /^KitError: Error in dmm train: unknown option '--seed'\. Did you mean '--seeds'\? See dmm train --help\.$/,
  );
  await assert.rejects(main(['report', '--modle', 'dmm']), /Did you mean '--model'\?/);
  await assert.rejects(main(['worker', '--concurency', '2']), /Error in dmm worker: .*Did you mean '--concurrency'\?/);
  await assert.rejects(
    main(['trian']),
    /^KitError: Error in dmm: unknown command 'trian'\. Did you mean 'dmm train'\?/,
  );
  await assert.rejects(main(['help', 'trian']), /Did you mean 'dmm train'\?/);
  await assert.rejects(
    main(['--verison']),
    /^KitError: Error in dmm: unknown option '--verison'\. Did you mean '--version'\?/,
  );
  // A prefix is suggested, not accepted: 'gen' is fewer edits from 'card' but starts 'generate'.
  await assert.rejects(
    main(['data', 'gen', 'hopper-medium']),
    /^KitError: Error in dmm data: unknown subcommand 'gen'\. Did you mean 'dmm data generate'\? Subcommands: generate, download, card, train-policies\. See dmm data --help\.$/,
  );
  await assert.rejects(main(['rep']), /Did you mean 'dmm report'\?/);
  await assert.rejects(
    main(['train', '--scale', 'quik']),
    /scale must be one of smoke, notebook, quick, paper, got "quik". Did you mean 'quick'\?/,
  );
  await assert.rejects(
    main(['train', '--model', 'dmn', '--scale', 'smoke']),
    /--model must be one of dt, dc, dmamba, dmm, got "dmn". Did you mean 'dmm'\?/,
  );
  await assert.rejects(
    main(['eval']),
    /^KitError: Error in dmm eval: --checkpoint must name a checkpoint folder, got none\. See dmm eval --help\.$/,
  );
  await assert.rejects(main(['train', 'hopper']), /unexpected argument 'hopper'/);
});

test('option forms: --k v, --k=v, -h, repeatable --set; a missing value, a repeat, a value on a switch', () => {
  const spec: CommandSpec = {
    name: 'x',
    summary: '',
    usage: '',
    flags: {
      a: { type: 'string', value: 'N', help: '' },
      b: { type: 'boolean', help: '' },
      set: { type: 'string', help: '', repeatable: true },
    },
    positionals: 'NAME...',
  };
  const parsed = parseCommand(spec, [
    'p',
    '--a=1',
    '--b',
    '--set',
    'hiddenSize=32',
    '--set',
    'dsmMode=shared-frozen',
    '--',
    '--q',
  ]);
  assert.deepEqual(parsed.flags, { a: '1', b: true, set: ['hiddenSize=32', 'dsmMode=shared-frozen'] });
  assert.deepEqual(parsed.positionals, ['p', '--q']);
  assert.equal(parseCommand(spec, ['--a', '--zzz', '-h']).help, true, 'help wins over everything else');
  assert.deepEqual(parseCommand(spec, ['--a=-3']).flags, { a: '-3' });
  const oneLine = (argv: string[], re: RegExp) =>
    assert.throws(
      () => parseCommand(spec, argv),
      (e: Error) => re.test(e.message) && / See dmm x --help\.$/.test(e.message) && !e.message.includes('\n'),
    );
  oneLine(['--a'], /^Error in dmm x: --a must be followed by a value \(N\), got none\./);
  oneLine(['--a', '--b'], /--a must be followed by a value \(N\), got none before '--b'/);
  oneLine(['--a', '-3'], /--a got '-3', which reads as an option; write --a=-3 for a value/);
  oneLine(['--a', '1', '--a', '2'], /--a must be given once, got it twice/);
  oneLine(['--b=yes'], /--b takes no value, got '--b=yes'/);
  oneLine(['-z'], /unknown option '-z'/);
  assert.deepEqual(
    parseOverrides('x', ['hiddenSize=32', 'learningRate=3e-4', 'channelMlp=true', 'dsmMode=per-layer']),
    { hiddenSize: 32, learningRate: 3e-4, channelMlp: true, dsmMode: 'per-layer' },
  );
});

test('dmm train --dry-run prints the resolved configuration and writes nothing', async () => {
  const results = tmpDir();
  const { code, out } = await capture(() =>
    main([
      'train',
      '--model',
      'dt',
      '--scale',
      'smoke',
      '--seeds',
      '4,5',
      '--set',
      'hiddenSize=24',
      '--set',
      'learningRate=3e-4',
      '--results',
      results,
      '--dry-run',
    ]),
  );
  assert.equal(code, 0);
  const plan = JSON.parse(out) as {
    model: Record<string, unknown>;
    train: Record<string, unknown>;
    runs: { seed: number; record: string }[];
  };
  assert.equal(plan.model.hiddenSize, 24, 'a model override reaches the model config');
  assert.equal(plan.model.nHead, 1, "the model's own defaults are filled in");
  assert.equal(plan.train.learningRate, 3e-4, 'a trainer override reaches the trainer config');
  assert.equal(plan.train.iterations, 2, "the scale's counts");
  const spec = normaliseRunSpec({
    model: 'dt',
    env: 'hopper',
    dataset: 'medium',
    seed: 5,
    scale: 'smoke',
    overrides: { hiddenSize: 24, learningRate: 3e-4 },
  });
  assert.deepEqual(plan.runs[1], { seed: 5, record: recordPath(spec, results) });
  assert.deepEqual(fs.readdirSync(results), [], 'nothing written');
});

test('a typo in --set is refused in one line before any record is written', async () => {
  const results = tmpDir();
  await assert.rejects(
    main(['train', '--scale', 'smoke', '--seeds', '1', '--results', results, '--set', 'hiddenSiz=32']),
    /^KitError: Error in dmm train: --set hiddenSiz=… names no trainer or dmm setting\. Did you mean 'hiddenSize'\?/,
  );
  await assert.rejects(
    main(['train', '--scale', 'smoke', '--seeds', '1', '--results', results, '--set', 'learningRte=1e-3']),
    /Did you mean 'learningRate'\?/,
  );
  await assert.rejects(
    main(['train', '--scale', 'smoke', '--seeds', '1', '--results', results, '--set', 'hiddenSize=big']),
    /hiddenSize must be an integer/,
  );
  assert.deepEqual(fs.readdirSync(results), [], 'no record, not even a failed one');
});

test('smoke-scale runs from the command line write under .cache/, never into results/', async () => {
  assert.equal(process.env.DMM_RESULTS_DIR, undefined, 'this test checks the default folders');
  const smokeDir = path.join(kitRoot(), '.cache', 'results-smoke');
  assert.equal(resultsDir('smoke'), smokeDir);
  assert.equal(resultsDir('quick'), path.join(kitRoot(), 'results'));
  const dry = await capture(() => main(['train', '--scale', 'smoke', '--seeds', '1', '--dry-run']));
  const [run] = (JSON.parse(dry.out) as { runs: { record: string }[] }).runs;
  assert.ok(run.record.startsWith(smokeDir + path.sep), run.record);
  const quick = await capture(() => main(['train', '--scale', 'quick', '--seeds', '1', '--dry-run']));
  assert.ok(
    (JSON.parse(quick.out) as { runs: { record: string }[] }).runs[0].record.startsWith(
      path.join(kitRoot(), 'results') + path.sep,
    ),
  );

  // A sweep through runTraining on the tests' toy data: record and checkpoints land in .cache/results-smoke/.
  const experiment = `cli-smoke-${process.pid}`;
  const grid = writeGrid(tmpDir(), 'g', {
    experiment,
    scale: 'smoke',
    models: ['dt'],
    envs: ['hopper'],
    datasets: ['medium'],
    seeds: [1],
  });
  try {
    const { code } = await capture(() => main(['sweep', '--grid', grid, '--runner', TOY_RUNNER, '--jobs', '1']));
    assert.equal(code, 0);
    const spec = normaliseRunSpec({
      model: 'dt',
      env: 'hopper',
      dataset: 'medium',
      seed: 1,
      scale: 'smoke',
      experiment,
    });
    const hash = specHash(spec);
    assert.ok(fs.existsSync(path.join(smokeDir, experiment, `${hash}.json`)), 'the record is in .cache/');
    assert.ok(fs.existsSync(path.join(smokeDir, experiment, 'checkpoints', hash)), 'so are its checkpoints');
    assert.equal(fs.existsSync(path.join(kitRoot(), 'results', experiment)), false, 'results/ untouched');
  } finally {
    fs.rmSync(path.join(smokeDir, experiment), { recursive: true, force: true });
  }
});

test('seed lists: plain decimal integers only; an empty --seeds is an error, not the defaults', async () => {
  assert.deepEqual(parseIntList('train', 'seeds', '12, 23,0'), [12, 23, 0]);
  for (const bad of ['1e3', '0x10', '1.0', '-1', '', '3,', '+4', ' '])
    assert.throws(
      () => parseIntList('train', 'seeds', bad),
      /^KitError: Error in dmm train: --seeds must be a comma-separated list of non-negative integers.* See dmm train --help\.$/,
      bad,
    );
  const results = tmpDir();
  for (const argv of [['--seeds', ''], ['--seeds=']])
    await assert.rejects(
      main(['train', ...argv, '--scale', 'smoke', '--results', results]),
      /--seeds must be a comma-separated list of non-negative integers, got ''/,
    );
  assert.deepEqual(fs.readdirSync(results), [], 'nothing was trained');
});

test('dmm train: a seed listed twice is trained once, with a note; a finished run is skipped with a note', async () => {
  const results = tmpDir();
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

test('dmm sweep --pack trains a grid as packed runs: records say packedWith, a rerun keeps them', async () => {
  const dir = tmpDir();
  const grid = writeGrid(dir, 'packed', {
    experiment: 'cli-packed',
    scale: 'smoke',
    models: ['dmm'],
    envs: ['hopper'],
    datasets: ['medium'],
    seeds: [12, 23],
  });
  const results = path.join(dir, 'results');
  const argv = ['sweep', '--grid', grid, '--pack', '--results', results];
  const first = await capture(() => main(argv));
  assert.equal(first.code, 0, first.out);
  assert.match(first.out, /2 run\(s\): 0 finished before, 2 to run in 1 pack\(s\) of 2/);
  assert.match(first.out, /2 cells; 2 finished now, 0 already finished, 0 failed/);
  for (const seed of [12, 23]) {
    const spec = normaliseRunSpec({
      model: 'dmm',
      env: 'hopper',
      dataset: 'medium',
      seed,
      scale: 'smoke',
      experiment: 'cli-packed',
    });
    const rec = JSON.parse(fs.readFileSync(recordPath(spec, results), 'utf8'));
    assert.deepEqual([rec.status, rec.packedWith, rec.engine], ['finished', 2, 'fused']);
  }
  const again = await capture(() => main(argv));
  assert.match(again.out, /0 finished now, 2 already finished/);
  await assert.rejects(main([...argv, '--jobs', '2']), /--jobs cannot go with --pack/);
  fs.rmSync(dir, { recursive: true, force: true });
});
