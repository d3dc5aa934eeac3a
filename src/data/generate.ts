/**
 * Kit-generated datasets in D4RL's gym-mujoco v2 layout (docs/spec.md §15.2, §15.4), from the
 * committed behaviour policies (data/policies/<env>.json) in the kit's own environments:
 * - random: uniform actions in [−1, 1]^a (collect_data.py --random), log-prob −a·log 2;
 * - medium / expert: rollouts of one snapshot with Gaussian exploration noise (σ of the policy file, the
 *   one its snapshots were selected with), cut at exactly N rows;
 * - medium-replay: the learner's own experience up to the medium snapshot, in the order collected: the ARS
 *   rollouts replayed from the policy file's iteration records (./experience.ts), as D4RL kept SAC's
 *   replay buffer;
 * - medium-expert: the medium file cut after its last episode end, then the expert file, as
 *   stitch_dataset.py does (loadDataset builds medium-expert from the two lists instead, docs/spec.md quirk 12).
 * Rows: observation before the step, its qpos/qvel, the action, reward, next observation; timeouts on the
 * 1000th step of an episode, terminals when the env ended it on another step. Same seed, same bytes.
 */
import * as fs from 'fs';
import * as path from 'path';
import { dataScaleOf, type DataScale } from '../config/scales';
import { check } from '../util/check';
import { Rng, deriveSeed } from '../util/rng';
import { progress } from '../util/progress';
import { makeEnv, type Env } from '../envs';
import { ENV_DIMS, parseDatasetName, type DatasetName } from './d4rl-ids';
import { type EnvName } from '../config/names';
import { readD4rlFile } from './d4rl-file';
import { sha256File } from './download';
import { writeHdf5, type H5Entry } from './h5';
import { cacheDir, COMMITTED_DATA_DIR } from './paths';
import { PolicyRunner, validatePolicy, type LinearPolicy } from './policy';
import { replayRollouts, selectRollouts } from './experience';
import { KIT_GENERATOR, loadRecipe, recordChecksum, transitionCount, type Recipe } from './recipe';
import { POLICY_SET_FORMAT, policySetFile, type PolicySet } from './train-policies';

export const GENERATOR = KIT_GENERATOR;

/** The columns of a generated file, preallocated for N rows. */
interface Columns {
  n: number;
  count: number;
  observations: Float32Array;
  actions: Float32Array;
  nextObservations: Float32Array;
  rewards: Float32Array;
  terminals: Int8Array;
  timeouts: Int8Array;
  qpos: Float32Array;
  qvel: Float32Array;
  logProbs: Float32Array;
}

function allocate(env: EnvName, n: number): Columns {
  const d = ENV_DIMS[env];
  return {
    n,
    count: 0,
    observations: new Float32Array(n * d.observationDim),
    actions: new Float32Array(n * d.actionDim),
    nextObservations: new Float32Array(n * d.observationDim),
    rewards: new Float32Array(n),
    terminals: new Int8Array(n),
    timeouts: new Int8Array(n),
    qpos: new Float32Array(n * d.nq),
    qvel: new Float32Array(n * d.nv),
    logProbs: new Float32Array(n),
  };
}

/**
 * Runs episodes while `cols.count < startBefore`, each to its end or until the columns are full.
 * `policy` null means uniform random actions.
 */
function collect(
  env: Env,
  cols: Columns,
  policy: PolicyRunner | null,
  noise: number,
  rng: Rng,
  startBefore: number,
  tick: (n: number) => void,
): void {
  const s = env.observationDim;
  const a = env.actionDim;
  const obs = new Float64Array(s);
  const act = new Float64Array(a);
  const randomLogProb = -a * Math.log(2);
  while (cols.count < startBefore && cols.count < cols.n) {
    env.resetInto(obs, 0);
    for (;;) {
      if (cols.count >= cols.n) return;
      const i = cols.count;
      const state = env.getState();
      cols.observations.set(obs, i * s);
      cols.qpos.set(state.qpos, i * env.nq);
      cols.qvel.set(state.qvel, i * env.nv);
      if (policy) cols.logProbs[i] = policy.act(obs, act, noise, rng);
      else {
        for (let j = 0; j < a; j++) act[j] = rng.range(-1, 1);
        cols.logProbs[i] = randomLogProb;
      }
      cols.actions.set(act, i * a);
      env.stepInto(act, 0, obs, 0);
      cols.nextObservations.set(obs, i * s);
      cols.rewards[i] = env.lastReward;
      const timeout = env.elapsedSteps >= env.maxEpisodeSteps;
      cols.timeouts[i] = timeout ? 1 : 0;
      cols.terminals[i] = env.lastTerminated && !timeout ? 1 : 0;
      cols.count++;
      tick(1);
      if (env.lastTerminated || env.lastTruncated) break;
    }
  }
}

export function loadPolicySet(env: EnvName, dir = COMMITTED_DATA_DIR): PolicySet {
  const file = policySetFile(env, dir);
  check(
    fs.existsSync(file),
    () =>
      `Error in generateDataset: behaviour policies for ${env} must be committed at ${file}, got no file. Train them once with: npx dmm data train-policies ${env}.`,
  );
  const set = JSON.parse(fs.readFileSync(file, 'utf8')) as PolicySet;
  check(
    set.format === POLICY_SET_FORMAT,
    () => `Error in generateDataset: ${file} must have format '${POLICY_SET_FORMAT}', got '${set.format}'.`,
  );
  for (const p of [set.medium, set.expert]) validatePolicy(p, file);
  check(
    set.experience.length === set.medium.iteration,
    () =>
      `Error in generateDataset: ${file} must record the ${set.medium.iteration} iterations before the medium snapshot, got ${set.experience.length}. Retrain with: npx dmm data train-policies ${env}.`,
  );
  return set;
}

export interface GenerateOptions {
  scale: DataScale | string;
  /** Default: the recipe's seed (the one the committed checksums are for). */
  seed?: number;
  /** Output file; default the cache path `datasetCachePath(name, scale, seed)`. */
  file?: string;
  /** Write the file's sha256 into data/recipes.json (only for the recipe's seed). */
  record?: boolean;
  /** Print a progress bar. Default true. */
  progress?: boolean;
}

export interface GeneratedFile {
  name: string;
  file: string;
  sha256: string;
  transitions: number;
  seconds: number;
  scale: DataScale;
  seed: number;
  generatorVersion: string;
  /** What produced the rows, e.g. "ARS linear policy, medium snapshot at iteration 120". */
  policy: string;
}

export function datasetCachePath(name: string, scale: DataScale, seed: number): string {
  const n = parseDatasetName(name, 'datasetCachePath');
  return path.join(cacheDir(), `${n.env}_${n.kind.replace(/-/g, '_')}-kit-${scale}-seed${seed}.hdf5`);
}

function describe(kind: string, set: PolicySet | undefined): string {
  if (!set) return 'uniform random actions in [-1, 1]';
  const snap = (p: LinearPolicy): string => `iteration ${p.iteration}`;
  if (kind === 'medium') return `ARS linear policy, medium snapshot (${snap(set.medium)})`;
  if (kind === 'expert') return `ARS linear policy, expert snapshot (${snap(set.expert)})`;
  if (kind === 'medium-replay')
    return `ARS V2-t training rollouts (perturbed linear policies) of iterations 0-${set.medium.iteration - 1}, before the medium snapshot, evenly spread, in the order collected`;
  return `ARS linear policies, medium (${snap(set.medium)}) then expert (${snap(set.expert)})`;
}

/**
 * The columns of a part of medium-expert: read from the cache when the cached file carries the
 * committed checksum (the same bytes a regeneration would give), else generated.
 */
async function cachedOrGenerated(
  name: DatasetName,
  scale: DataScale,
  seed: number,
  recipe: Recipe,
  showProgress: boolean,
): Promise<{ cols: Columns; set?: PolicySet }> {
  const file = datasetCachePath(name.name, scale, seed);
  const committed = seed === recipe.seed ? recipe.checksums[name.name]?.[scale] : undefined;
  if (committed === undefined || !fs.existsSync(file) || sha256File(file) !== committed)
    return generateColumns(name, scale, seed, recipe, showProgress);
  const t = await readD4rlFile(file, name.env, { withInfos: true });
  const cols: Columns = {
    n: t.n,
    count: t.n,
    observations: t.observations,
    actions: t.actions,
    nextObservations: t.nextObservations as Float32Array,
    rewards: t.rewards,
    terminals: Int8Array.from(t.terminals),
    timeouts: Int8Array.from(t.timeouts),
    qpos: t.qpos as Float32Array,
    qvel: t.qvel as Float32Array,
    logProbs: t.actionLogProbs as Float32Array,
  };
  return { cols, set: loadPolicySet(name.env) };
}

async function generateColumns(
  name: DatasetName,
  scale: DataScale,
  seed: number,
  recipe: Recipe,
  showProgress: boolean,
): Promise<{ cols: Columns; set?: PolicySet }> {
  const { env: envId, kind } = name;
  if (kind === 'medium-expert') {
    // stitch_dataset.py: the medium file up to its last episode end, then the expert file, capped.
    const medium = await cachedOrGenerated(parseDatasetName(`${envId}-medium`), scale, seed, recipe, showProgress);
    const expert = await cachedOrGenerated(parseDatasetName(`${envId}-expert`), scale, seed, recipe, showProgress);
    let cut = medium.cols.count;
    while (cut > 0 && !(medium.cols.terminals[cut - 1] || medium.cols.timeouts[cut - 1])) cut--;
    const n = Math.min(cut + expert.cols.count, transitionCount(recipe, scale, envId, kind));
    const out = allocate(envId, n);
    const d = ENV_DIMS[envId];
    const widths: [keyof Columns, number][] = [
      ['observations', d.observationDim],
      ['actions', d.actionDim],
      ['nextObservations', d.observationDim],
      ['rewards', 1],
      ['terminals', 1],
      ['timeouts', 1],
      ['qpos', d.nq],
      ['qvel', d.nv],
      ['logProbs', 1],
    ];
    for (const [key, w] of widths) {
      const dst = out[key] as Float32Array | Int8Array;
      dst.set((medium.cols[key] as Float32Array | Int8Array).subarray(0, cut * w), 0);
      dst.set((expert.cols[key] as Float32Array | Int8Array).subarray(0, (n - cut) * w), cut * w);
    }
    out.count = n;
    return { cols: out, set: medium.set };
  }
  const n = transitionCount(recipe, scale, envId, kind);
  const set = kind === 'random' ? undefined : loadPolicySet(envId);
  const env = await makeEnv(envId, { seed: deriveSeed(seed, envId, kind, 'env') });
  const rng = new Rng(deriveSeed(seed, envId, kind, 'actions'));
  const cols = allocate(envId, n);
  const bar = progress(`generate ${envId}-${kind} (${scale})`, n, showProgress ? {} : { silent: true });
  const tick = (k: number): void => bar.tick(k);
  try {
    if (kind === 'random') collect(env, cols, null, 0, rng, n, tick);
    else if (kind === 'medium' || kind === 'expert')
      collect(
        env,
        cols,
        PolicyRunner.of(kind === 'medium' ? set!.medium : set!.expert),
        set!.ars.actionNoise,
        rng,
        n,
        tick,
      );
    else {
      // medium-replay: the rollouts ARS ran before the medium snapshot, replayed (./experience.ts).
      const picks = selectRollouts(set!.experience, n);
      replayRollouts(set!.experience, picks, set!.ars, env.actionDim, (runner, resetSeed, p) => {
        const before = cols.count;
        env.reseed(resetSeed);
        collect(env, cols, runner, 0, rng, before + 1, tick);
        // The last rollout may be cut at N rows; every other must last as long as it did in training.
        return cols.count >= cols.n ? p.steps : cols.count - before;
      });
    }
  } finally {
    env.close();
  }
  bar.done();
  return { cols, set };
}

/**
 * Generates `name` ('hopper-medium') at `scale` into an HDF5 file with D4RL's keys and dtypes (bools
 * as int8, see h5.ts) and metadata naming generator, version, policy, seed and scale.
 */
export async function generateDataset(nameOrId: string, options: GenerateOptions): Promise<GeneratedFile> {
  const t0 = Date.now();
  const name = parseDatasetName(nameOrId, 'generateDataset');
  const scale = dataScaleOf(String(options.scale));
  const recipe = loadRecipe();
  const seed = options.seed ?? recipe.seed;
  check(Number.isInteger(seed), () => `Error in generateDataset: seed must be an integer, got ${seed}.`);
  const { cols, set } = await generateColumns(name, scale, seed, recipe, options.progress ?? true);
  const d = ENV_DIMS[name.env];
  const n = cols.count;
  const policy = describe(name.kind, set);
  const iteration =
    name.kind === 'medium' || name.kind === 'medium-replay'
      ? set?.medium.iteration
      : name.kind === 'expert' || name.kind === 'medium-expert'
        ? set?.expert.iteration
        : undefined;
  const entries: Record<string, H5Entry> = {
    observations: { data: cols.observations.subarray(0, n * d.observationDim), shape: [n, d.observationDim] },
    actions: { data: cols.actions.subarray(0, n * d.actionDim), shape: [n, d.actionDim] },
    next_observations: { data: cols.nextObservations.subarray(0, n * d.observationDim), shape: [n, d.observationDim] },
    rewards: { data: cols.rewards.subarray(0, n), shape: [n] },
    terminals: { data: cols.terminals.subarray(0, n), shape: [n] },
    timeouts: { data: cols.timeouts.subarray(0, n), shape: [n] },
    'infos/qpos': { data: cols.qpos.subarray(0, n * d.nq), shape: [n, d.nq] },
    'infos/qvel': { data: cols.qvel.subarray(0, n * d.nv), shape: [n, d.nv] },
    'infos/action_log_probs': { data: cols.logProbs.subarray(0, n), shape: [n] },
    'metadata/generator': { data: recipe.generator },
    'metadata/generator_version': { data: recipe.generatorVersion },
    'metadata/algorithm': { data: name.kind === 'random' ? 'random' : 'ARS' },
    'metadata/policy': { data: policy },
    'metadata/dataset': { data: name.name },
    'metadata/scale': { data: scale },
    'metadata/seed': { data: seed, dtype: '<i' },
    'metadata/action_noise': { data: set ? set.ars.actionNoise : 0, dtype: '<d' },
    ...(iteration !== undefined ? { 'metadata/iteration': { data: iteration, dtype: '<i' } } : {}),
  };
  const file = options.file ?? datasetCachePath(name.name, scale, seed);
  await writeHdf5(file, entries);
  const sha256 = sha256File(file);
  if (options.record) {
    check(
      seed === recipe.seed,
      () =>
        `Error in generateDataset: record must only be used with the recipe's seed ${recipe.seed}, got seed ${seed}.`,
    );
    recordChecksum(name.name, scale, sha256);
  }
  return {
    name: name.name,
    file,
    sha256,
    transitions: n,
    seconds: (Date.now() - t0) / 1000,
    scale,
    seed,
    generatorVersion: recipe.generatorVersion,
    policy,
  };
}
