/**
 * Environment benchmark (issue 4). Per task, with uniform random actions in [-1, 1]:
 *   1. raw mj_step calls per second (MuJoCo alone, random ctrl, state reset every 1000 calls);
 *   2. single-environment steps per second, through step() (allocates its result) and stepInto() (does not),
 *      resetting when an episode ends;
 *   3. VecEnv N=100 (autoReset) environment steps per second in-thread, on 1 worker and on 2 workers.
 * Usage: node --import tsx bench/envs.ts [--seconds 1.5] [--n 100] [--ids hopper,halfcheetah,walker2d]
 * Prints a table and writes bench/results/envs.json (other --ids: envs-<ids>.json, e.g. envs-antmaze-umaze.json).
 * Rates are wall-clock and depend on machine load.
 */
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { writeBenchResult } from './lib';
import { Rng } from '../src/util/rng';
import { ENV_IDS, ENV_NAMES, type EnvId } from '../src/config/names';
import { check } from '../src/util/check';
import { loadMujoco, makeEnv, VecEnv } from '../src/envs';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '1.5' },
    n: { type: 'string', default: '100' },
    ids: { type: 'string', default: ENV_NAMES.join(',') },
  },
});
const IDS = String(args.ids).split(',') as EnvId[];
for (const id of IDS)
  check(
    (ENV_IDS as readonly string[]).includes(id),
    () => `Error in bench/envs: --ids must list ids of ${ENV_IDS.join(', ')}, got '${id}'.`,
  );
const SECONDS = Number(args.seconds);
const N = Number(args.n);

function now(): number {
  return performance.now() / 1000;
}

interface Rate {
  /** Units per wall-clock second. */
  wall: number;
  /** Units per second of CPU time of this process (all its threads): per-core throughput, less sensitive to load. */
  cpu: number;
}

/** Calls `chunk()` (returning the work units it did) until SECONDS of wall time have passed. */
async function rate(chunk: () => number | Promise<number>): Promise<Rate> {
  await chunk(); // warm-up (JIT, caches)
  let units = 0;
  const c0 = process.cpuUsage();
  const t0 = now();
  let t = t0;
  while (t - t0 < SECONDS) {
    units += await chunk();
    t = now();
  }
  const c = process.cpuUsage(c0);
  return { wall: units / (t - t0), cpu: units / ((c.user + c.system) / 1e6) };
}

async function rawMjStep(id: EnvId): Promise<Rate> {
  const env = await makeEnv(id, { seed: 0 });
  env.reset();
  const { mj, model, data } = env.raw;
  const rng = new Rng(1);
  const r = await rate(() => {
    mj.mj_resetData(model, data);
    const ctrl = data.ctrl as Float64Array;
    for (let k = 0; k < 1000; k++) {
      if (k % 4 === 0) for (let i = 0; i < ctrl.length; i++) ctrl[i] = rng.range(-1, 1);
      mj.mj_step(model, data);
    }
    return 1000;
  });
  env.close();
  return r;
}

async function singleEnv(id: EnvId, api: 'step' | 'stepInto'): Promise<{ rate: Rate; meanEpisode: number }> {
  const env = await makeEnv(id, { seed: 0 });
  const rng = new Rng(2);
  const action = new Float64Array(env.actionDim);
  const out = new Float64Array(env.observationDim);
  let episodes = 0;
  let steps = 0;
  env.reset();
  const r = await rate(() => {
    for (let k = 0; k < 500; k++) {
      for (let i = 0; i < action.length; i++) action[i] = rng.range(-1, 1);
      let done: boolean;
      if (api === 'step') {
        const res = env.step(action);
        done = res.terminated || res.truncated;
      } else {
        env.stepInto(action, 0, out, 0);
        done = env.lastTerminated || env.lastTruncated;
      }
      steps++;
      if (done) {
        episodes++;
        env.reset();
      }
    }
    return 500;
  });
  env.close();
  return { rate: r, meanEpisode: episodes > 0 ? steps / episodes : steps };
}

async function vecEnv(id: EnvId, workers: number): Promise<Rate> {
  const vec = await VecEnv.create(id, N, { seed: 0, workers, autoReset: true });
  await vec.reset();
  const rng = new Rng(3);
  const actions = new Float32Array(N * vec.actionDim);
  const r = await rate(async () => {
    for (let k = 0; k < 5; k++) {
      for (let i = 0; i < actions.length; i++) actions[i] = rng.range(-1, 1);
      await vec.step(actions);
    }
    return 5 * N;
  });
  await vec.close();
  return r;
}

async function main(): Promise<void> {
  const mj = await loadMujoco();
  const load = os.loadavg();
  const rows: Record<string, number | string>[] = [];
  for (const id of IDS) {
    const raw = await rawMjStep(id);
    const step = await singleEnv(id, 'step');
    const into = await singleEnv(id, 'stepInto');
    const vec0 = await vecEnv(id, 0);
    const vec1 = await vecEnv(id, 1);
    const vec2 = await vecEnv(id, 2);
    const r = (x: number) => Math.round(x);
    rows.push({
      task: id,
      mjStepPerS: r(raw.wall),
      mjStepPerCpuS: r(raw.cpu),
      envStepPerS: r(step.rate.wall),
      envStepPerCpuS: r(step.rate.cpu),
      envStepIntoPerS: r(into.rate.wall),
      envStepIntoPerCpuS: r(into.rate.cpu),
      meanRandomEpisodeSteps: r(step.meanEpisode),
      vecN: N,
      vecInThreadPerS: r(vec0.wall),
      vec1WorkerPerS: r(vec1.wall),
      vec2WorkersPerS: r(vec2.wall),
      vec2WorkersPerCpuS: r(vec2.cpu),
      scaling2Over1: Number((vec2.wall / vec1.wall).toFixed(2)),
    });
  }
  const loadAfter = os.loadavg();
  const header = [
    'task',
    'mj_step/s (per CPU-s)',
    'env step/s (per CPU-s)',
    'stepInto/s (per CPU-s)',
    'ep len',
    `Vec N=${N} in-thread`,
    '1 worker',
    '2 workers',
    '2w/1w',
  ];
  const lines = rows.map((r) => [
    r.task,
    `${r.mjStepPerS} (${r.mjStepPerCpuS})`,
    `${r.envStepPerS} (${r.envStepPerCpuS})`,
    `${r.envStepIntoPerS} (${r.envStepIntoPerCpuS})`,
    r.meanRandomEpisodeSteps,
    r.vecInThreadPerS,
    r.vec1WorkerPerS,
    r.vec2WorkersPerS,
    r.scaling2Over1,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => String(l[i]).length)));
  const fmt = (cells: (string | number)[]) =>
    '| ' + cells.map((c, i) => String(c).padStart(widths[i])).join(' | ') + ' |';
  console.log(fmt(header));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const l of lines) console.log(fmt(l));
  console.log(
    `\n${os.cpus().length} cores (${os.cpus()[0]?.model}), load average ${load[0].toFixed(2)} before / ${loadAfter[0].toFixed(2)} after;` +
      ` MuJoCo ${mj.mj_versionString()} (mujoco-js), Node ${process.version}; ${SECONDS} s per measurement, random actions.`,
  );
  const name = args.ids === ENV_NAMES.join(',') ? 'envs' : `envs-${IDS.join('-')}`;
  const file = writeBenchResult(name, {
    bench: 'envs',
    date: new Date().toISOString(),
    node: process.version,
    mujoco: mj.mj_versionString(),
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    loadAverageBefore: load,
    loadAverageAfter: loadAfter,
    secondsPerMeasurement: SECONDS,
    note: 'Wall-clock rates with uniform random actions; random Hopper/Walker episodes are short, so resets are included. Rates depend on the load of the machine.',
    rows,
  });
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
