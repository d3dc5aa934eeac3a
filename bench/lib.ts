/**
 * What the benchmarks share (style: `bench/*.ts` prints a short table and writes JSON, and never runs in
 * tests). One module, so every benchmark times the same way and says where it ran:
 *   timeIt(fn, opts)          median, min and max wall time (and mean CPU time) of a callback, after warm-up;
 *   parseBenchFlags(spec)     `--name value` / `--flag` parsing with one-line errors naming the nearest flag;
 *   machine()                 the host, backend-independent facts every result records (cpu, cores, load);
 *   writeBenchResult(name, r) bench/results/<name>.json ($OUT/<name>.json when OUT is set), atomically;
 *   printTable(head, rows)    a Markdown table on stdout;
 *   trainerStep(model, ...)   the shipped training step (src/train/trainer.ts `Trainer.trainStep`) on
 *                             synthetic hopper-shaped data, so a benchmark times exactly what training runs.
 */
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { resolveTrainConfig, type TrainConfig } from '../src/config/train';
import { BatchSampler } from '../src/data/sampler';
import { maskedActionLoss } from '../src/models';
import type { SequenceModel } from '../src/train/deps';
import { Trainer } from '../src/train/trainer';
import { writeJsonAtomic } from '../src/util/atomic';
import { check, nearest } from '../src/util/check';
import { Rng } from '../src/util/rng';

export interface Timing {
  /** Median, fastest and slowest wall time of one call, ms. */
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** This process's CPU time per call, ms (on a shared, loaded machine the better estimate of one idle core). */
  cpuMs: number;
  /** Timed calls (warm-up calls excluded). */
  iters: number;
}

export interface TimeOptions {
  /** Untimed calls first (compilation, caches, lazy registration). Default 2. */
  warmup?: number;
  /** Stop after this many timed calls. Default 1000. */
  maxIters?: number;
  /** Stop once this much wall time was spent on timed calls. Default 5 s. */
  seconds?: number;
  /** At least this many timed calls, whatever `seconds` says. Default 1. */
  minIters?: number;
}

/** Times `fn` (awaited when it returns a promise): per-call wall times after `warmup` calls. */
export async function timeIt(fn: (i: number) => unknown, opts: TimeOptions = {}): Promise<Timing> {
  const { warmup = 2, maxIters = 1000, seconds = 5, minIters = 1 } = opts;
  for (let i = 0; i < warmup; i++) await fn(-1 - i);
  const samples: number[] = [];
  const c0 = process.cpuUsage();
  let spent = 0;
  while (samples.length < maxIters && (samples.length < minIters || spent < seconds * 1000)) {
    const t0 = performance.now();
    await fn(samples.length);
    const ms = performance.now() - t0;
    samples.push(ms);
    spent += ms;
  }
  const c = process.cpuUsage(c0);
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return {
    medianMs: sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2,
    minMs: sorted[0],
    maxMs: sorted[sorted.length - 1],
    cpuMs: (c.user + c.system) / 1000 / samples.length,
    iters: samples.length,
  };
}

/** A flag: a number, a string, a comma-separated list, or a boolean switch; `help` is for the usage line. */
export type FlagSpec = Record<
  string,
  {
    type: 'number' | 'string' | 'list' | 'boolean';
    default?: number | string | readonly string[] | boolean;
    help: string;
  }
>;
export type FlagValues<S extends FlagSpec> = {
  [K in keyof S]: S[K]['type'] extends 'number'
    ? number
    : S[K]['type'] extends 'list'
      ? string[]
      : S[K]['type'] extends 'boolean'
        ? boolean
        : string | undefined;
};

/** The usage lines of a flag spec. */
export function usage(bench: string, spec: FlagSpec): string {
  const lines = Object.entries(spec).map(
    ([k, f]) =>
      `  --${k}${f.type === 'boolean' ? '' : ` ${f.type === 'list' ? 'A,B' : f.type === 'number' ? 'N' : 'S'}`}  ${f.help}${f.default !== undefined && f.type !== 'boolean' ? ` (default ${String(f.default)})` : ''}`,
  );
  return `Usage: node --import tsx bench/${bench}.ts [flags]\n${lines.join('\n')}`;
}

/**
 * Parses `--name value` and `--switch` arguments. An unknown flag, a missing value or a bad number prints
 * one line, `Error in bench/<name>: ...` with the nearest valid flag, and exits with status 2.
 */
export function parseBenchFlags<S extends FlagSpec>(
  bench: string,
  spec: S,
  argv = process.argv.slice(2),
): FlagValues<S> {
  try {
    return parseFlagsOrThrow(bench, spec, argv);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
}

function parseFlagsOrThrow<S extends FlagSpec>(bench: string, spec: S, argv: string[]): FlagValues<S> {
  const fn = `bench/${bench}`;
  const out: Record<string, unknown> = {};
  for (const [k, f] of Object.entries(spec)) out[k] = f.type === 'boolean' ? (f.default ?? false) : f.default;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    check(a.startsWith('--'), () => `Error in ${fn}: arguments must be --flags, got '${a}'.\n${usage(bench, spec)}`);
    const name = a.slice(2);
    const f = spec[name];
    check(
      f !== undefined,
      () =>
        `Error in ${fn}: unknown flag '--${name}'. Did you mean '--${nearest(name, Object.keys(spec))}'? Valid flags: ${Object.keys(
          spec,
        )
          .map((k) => `--${k}`)
          .join(', ')}.`,
    );
    if (f.type === 'boolean') {
      out[name] = true;
      continue;
    }
    const v = argv[++i];
    check(
      v !== undefined && !v.startsWith('--'),
      () => `Error in ${fn}: --${name} must be followed by a value, got none.`,
    );
    if (f.type === 'number') {
      const x = Number(v);
      check(Number.isFinite(x), () => `Error in ${fn}: --${name} must be a number, got '${v}'.`);
      out[name] = x;
    } else out[name] = f.type === 'list' ? v.split(',').filter(Boolean) : v;
  }
  return out as FlagValues<S>;
}

/** Where and when: the facts every benchmark result records. */
export function machine(): Record<string, unknown> {
  return {
    date: new Date().toISOString(),
    cpu: os.cpus()[0]?.model,
    cores: os.cpus().length,
    loadavg: os.loadavg(),
    node: process.version,
    tfjs: tf.version.tfjs,
  };
}

/** Writes bench/results/<name>.json, or $OUT/<name>.json when OUT is set (the GPU host's bundles); returns the path. */
export function writeBenchResult(name: string, result: unknown): string {
  const file = path.join(process.env.OUT ?? path.join(__dirname, 'results'), `${name}.json`);
  writeJsonAtomic(file, result);
  return file;
}

/** A Markdown table on stdout. */
export function printTable(head: string[], rows: (string | number)[][]): void {
  const line = (r: (string | number)[]) => `| ${r.map(String).join(' | ')} |`;
  console.log([line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n'));
}

/** Random hopper-shaped trajectories: the cost of a step does not depend on the data's values. */
export function syntheticDataset(stateDim: number, actDim: number, seed = 1, count = 40) {
  const rng = new Rng(seed);
  const trajectories = Array.from({ length: count }, () => {
    const T = 300;
    return {
      observations: Float32Array.from({ length: T * stateDim }, () => rng.normal()),
      actions: Float32Array.from({ length: T * actDim }, () => rng.range(-1, 1)),
      rewards: Float32Array.from({ length: T }, () => 3),
      terminals: new Uint8Array(T),
      timeouts: new Uint8Array(T).fill(1, T - 1),
    };
  });
  return { trajectories, stateMean: new Float64Array(stateDim), stateStd: new Float64Array(stateDim).fill(1) };
}

/**
 * The shipped training step on `model` (a Trainer over synthetic data): `step()` runs one
 * `Trainer.trainStep` and reads the loss back, as a trainer that logs every step would (the tfjs path;
 * bench/engine.ts times both paths' `Trainer.train`).
 */
export function trainerStep(model: SequenceModel, train: Partial<TrainConfig> = {}, seed = 1) {
  const config = resolveTrainConfig(train);
  const sampler = new BatchSampler(syntheticDataset(model.dims.stateDim, model.dims.actDim, seed), {
    contextLength: Number(model.config.contextLength),
    batchSize: config.batchSize,
    seed,
  });
  const trainer = new Trainer(model, sampler, config, seed, maskedActionLoss, { engine: 'tfjs' });
  return {
    trainer,
    async step(): Promise<number> {
      const loss = trainer.trainStep();
      const value = (await loss.data())[0];
      loss.dispose();
      return value;
    },
    dispose: () => trainer.dispose(),
  };
}

/** Each model's benchmarked hopper size (docs/spec.md §5, §6.1, §6.2, §9: DMM D 64 K 8; the others' hopper-medium). */
export const HOPPER_SIZES = {
  dmm: { hiddenSize: 64, contextLength: 8 },
  dmamba: { hiddenSize: 256, contextLength: 20 },
  dc: { hiddenSize: 256, contextLength: 8 },
  dt: { hiddenSize: 128, contextLength: 20 },
} as const;
