/**
 * Dataset benchmark (issue 5):
 *   1. generating a medium dataset from the committed hopper policy (`--transitions`, default 1,000,000);
 *   2. loading a 1M-transition D4RL-format hopper file: the kit's layout (uncompressed) and D4RL's (gzip),
 *      read + checks + split + state statistics;
 *   3. BatchSampler batches/s at batch 64 with K = 8 and K = 20 on that dataset.
 * Usage: node --import tsx bench/data.ts [--transitions 1000000] [--seconds 2]
 * Prints a table and writes bench/results/data.json. Wall-clock and CPU seconds are both reported: on a
 * shared machine the CPU time is the better measure of the code.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Rng } from '../src/util/rng';
import { BatchSampler, datasetFromFile, generateDataset, writeHdf5, type Dataset, type H5Entry } from '../src/data';
import { parseBenchFlags, writeBenchResult } from './lib';

const args = parseBenchFlags('data', {
  transitions: { type: 'number', default: 1_000_000, help: 'transitions of the generated dataset' },
  seconds: { type: 'number', default: 2, help: 'seconds per sampler measurement' },
} as const);
const N = args.transitions;
const SECONDS = args.seconds;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-bench-data-'));

function timed<T>(fn: () => Promise<T>): Promise<{ value: T; wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  return fn().then((value) => {
    const c = process.cpuUsage(c0);
    return { value, wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
  });
}

/** A 1M-row hopper file with D4RL's keys; values random but finite, episodes of 1000 steps. */
function syntheticEntries(n: number): Record<string, H5Entry> {
  const rng = new Rng(1);
  const f = (len: number): Float32Array => Float32Array.from({ length: len }, () => rng.normal());
  const timeouts = new Int8Array(n);
  for (let i = 999; i < n; i += 1000) timeouts[i] = 1;
  const observations = f(n * 11);
  return {
    observations: { data: observations, shape: [n, 11] },
    next_observations: { data: observations, shape: [n, 11] },
    actions: { data: f(n * 3), shape: [n, 3] },
    rewards: { data: f(n), shape: [n] },
    terminals: { data: new Int8Array(n), shape: [n] },
    timeouts: { data: timeouts, shape: [n] },
    'infos/qpos': { data: f(n * 6), shape: [n, 6] },
    'infos/qvel': { data: f(n * 6), shape: [n, 6] },
    'infos/action_log_probs': { data: f(n), shape: [n] },
  };
}

async function main(): Promise<void> {
  const rows: [string, string, string][] = [];
  const out: Record<string, unknown> = {
    machine: `${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}`,
    transitions: N,
  };

  const gen = await timed(() =>
    generateDataset('hopper-medium', { scale: 'smoke', file: path.join(tmp, 'warm.hdf5'), progress: false }),
  );
  out.warmup = gen.wall;
  // Generation of N rows: the recipe's counts are fixed per scale, so time `paper` when N = 1M, else scale the rate.
  const scale = N >= 1_000_000 ? 'paper' : 'quick';
  const g = await timed(() =>
    generateDataset('hopper-medium', { scale, file: path.join(tmp, 'medium.hdf5'), progress: false }),
  );
  const perM = (x: number): number => (x / g.value.transitions) * 1e6;
  out.generate = {
    scale,
    transitions: g.value.transitions,
    wallSeconds: g.wall,
    cpuSeconds: g.cpu,
    wallPer1M: perM(g.wall),
    cpuPer1M: perM(g.cpu),
  };
  rows.push([
    `generate hopper-medium (${scale}, ${g.value.transitions} rows)`,
    `${g.wall.toFixed(1)} s wall, ${g.cpu.toFixed(1)} s CPU`,
    `per 1M: ${perM(g.wall).toFixed(0)} s wall, ${perM(g.cpu).toFixed(0)} s CPU (target ≤ 300 s)`,
  ]);

  const entries = syntheticEntries(1_000_000);
  const plain = path.join(tmp, 'plain.hdf5');
  const gzip = path.join(tmp, 'gzip.hdf5');
  await writeHdf5(plain, entries);
  await writeHdf5(gzip, entries, { gzip: 4 });
  const loads: Record<string, unknown> = {};
  let dataset: Dataset | undefined;
  for (const [label, file] of [
    ['kit layout (no compression)', plain],
    ['D4RL layout (gzip 4)', gzip],
  ] as const) {
    const l = await timed(() => datasetFromFile(file, 'hopper', 'medium'));
    dataset = l.value;
    loads[label] = { wallSeconds: l.wall, cpuSeconds: l.cpu, megabytes: fs.statSync(file).size / 2 ** 20 };
    rows.push([
      `load 1M hopper file, ${label}`,
      `${l.wall.toFixed(2)} s wall, ${l.cpu.toFixed(2)} s CPU`,
      `${(fs.statSync(file).size / 2 ** 20).toFixed(0)} MiB (target ≤ 2 s)`,
    ]);
  }
  out.load = loads;

  const sampling: Record<string, unknown> = {};
  for (const K of [8, 20]) {
    const sampler = new BatchSampler(dataset!, { contextLength: K, batchSize: 64, seed: 0 });
    for (let i = 0; i < 200; i++) sampler.sample();
    let n = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    while (performance.now() - t0 < SECONDS * 1000) {
      for (let i = 0; i < 100; i++) sampler.sample();
      n += 100;
    }
    const wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    const cpu = (c.user + c.system) / 1e6;
    sampling[`K${K}`] = { batchesPerSecondWall: n / wall, batchesPerSecondCpu: n / cpu };
    rows.push([
      `BatchSampler batch 64, K=${K}`,
      `${(n / wall).toFixed(0)} batches/s wall, ${(n / cpu).toFixed(0)} per CPU s`,
      'target ≥ 1,000',
    ]);
  }
  out.sampling = sampling;
  fs.rmSync(tmp, { recursive: true, force: true });
  const w = Math.max(...rows.map((r) => r[0].length)) + 2;
  const w2 = Math.max(...rows.map((r) => r[1].length)) + 2;
  console.log(`bench/data.ts — ${out.machine}`);
  for (const r of rows) console.log(`${r[0].padEnd(w)}${r[1].padEnd(w2)}${r[2]}`);
  writeBenchResult('data', out);
}

main().catch((err) => {
  console.error(String(err?.message ?? err));
  process.exit(1);
});
