/**
 * Trains the behaviour policies of the kit's datasets once, and writes data/policies/<env>.json:
 * the medium and expert snapshots and the replay snapshots (training order, up to medium).
 * `generateDataset` never retrains; it reads these committed files.
 *
 *   node --import tsx src/data/train-policies.ts hopper [cpuSeconds] [seed] [outFile] [actionNoise]
 *   npx dmm data train-policies hopper
 *
 * Selection (after training, re-evaluating candidates with `SELECT_EPISODES` noisy episodes):
 * - expert: the best snapshot (D4RL: a fully trained policy);
 * - medium: the snapshot whose noisy return is nearest min(D4RL's medium score, half the expert's score),
 *   normalized (D4RL: "roughly a third of the expert"; its medium datasets score 44/41/62 for
 *   hopper/halfcheetah/walker2d against experts of 108/89/108, i.e. 0.4-0.6 of expert);
 * - replay: up to `REPLAY_SNAPSHOTS` evaluated snapshots from the start to the medium one.
 */
import * as path from 'path';
import { writeJsonAtomic } from '../util/atomic';
import { Rng, deriveSeed } from '../util/rng';
import { makeEnv } from '../envs';
import { trainArs, rollout, type ArsConfig, type ArsSnapshot } from './ars';
import { normalizedScore } from './d4rl-ids';
import { ENV_NAMES, type EnvName } from '../config/names';
import { COMMITTED_DATA_DIR } from './paths';
import { PolicyRunner } from './policy';
import { isScript } from '../util/script';

/** Mean normalized scores of D4RL's *-medium-v2 datasets (the targets of the medium snapshot). */
export const D4RL_MEDIUM_SCORES: Readonly<Record<EnvName, number>> = Object.freeze({
  hopper: 44.3,
  halfcheetah: 40.7,
  walker2d: 62.1,
});

const SELECT_EPISODES = 10;
const CANDIDATES = 5;
const REPLAY_SNAPSHOTS = 24;

export const POLICY_SET_FORMAT = 'dmm-kit behaviour policies v1';

export interface PolicySet {
  format: typeof POLICY_SET_FORMAT;
  env: EnvName;
  method: string;
  ars: ArsConfig;
  training: { iterations: number; envSteps: number; cpuSeconds: number; wallSeconds: number };
  mediumTargetScore: number;
  medium: ArsSnapshot;
  expert: ArsSnapshot;
  replay: ArsSnapshot[];
  /** The training curve: iteration, environment steps, CPU seconds, noisy and mean-action evaluation returns. */
  curve: [number, number, number, number, number][];
  /** Set by `reselectPolicies`: the noise of the curve's noisy returns, and where the snapshots came from. */
  curveActionNoise?: number;
  reselectedFrom?: string;
}

export function policySetFile(env: EnvName, dir = COMMITTED_DATA_DIR): string {
  return path.join(dir, 'policies', `${env}.json`);
}

/**
 * Picks expert, medium and replay snapshots (see the header), re-evaluating candidates with
 * `SELECT_EPISODES` noisy episodes; `candidates` of each kind are re-evaluated.
 */
export async function selectSnapshots(
  env: EnvName,
  snapshots: ArsSnapshot[],
  actionNoise: number,
  seed: number,
  candidates = CANDIDATES,
): Promise<{
  expert: ArsSnapshot;
  medium: ArsSnapshot;
  replay: ArsSnapshot[];
  target: number;
  noisy: (s: ArsSnapshot) => number;
}> {
  const evalEnv = await makeEnv(env, { seed: deriveSeed(seed, 'select-env') });
  const rng = new Rng(deriveSeed(seed, 'select-noise'));
  const reevaluated = new Map<ArsSnapshot, number>();
  const noisy = (snap: ArsSnapshot): number => {
    let r = reevaluated.get(snap);
    if (r === undefined) {
      const runner = PolicyRunner.of(snap);
      r = 0;
      for (let e = 0; e < SELECT_EPISODES; e++)
        r += rollout(evalEnv, runner, { horizon: 1000, noiseStd: actionNoise, rng, shift: 0 }).episodeReturn;
      r /= SELECT_EPISODES;
      reevaluated.set(snap, r);
      snap.noisyReturn = r;
    }
    return r;
  };
  const byReturn = [...snapshots].sort((x, y) => y.noisyReturn - x.noisyReturn);
  const expert = byReturn.slice(0, candidates).sort((x, y) => noisy(y) - noisy(x))[0];
  const target = Math.min(D4RL_MEDIUM_SCORES[env], 0.5 * normalizedScore(env, noisy(expert)));
  const distance = (snap: ArsSnapshot, r: number): number => Math.abs(normalizedScore(env, r) - target);
  // Medium comes before the expert in training order, as D4RL's partially trained snapshot does.
  const early = snapshots.filter((s) => s.iteration <= expert.iteration);
  const medium = [...early]
    .sort((x, y) => distance(x, x.noisyReturn) - distance(y, y.noisyReturn))
    .slice(0, candidates)
    .sort((x, y) => distance(x, noisy(x)) - distance(y, noisy(y)) || x.iteration - y.iteration)[0];
  const upToMedium = snapshots.filter((s) => s.iteration <= medium.iteration);
  const stride = Math.max(1, Math.ceil(upToMedium.length / REPLAY_SNAPSHOTS));
  const replay = upToMedium.filter((_, i) => i % stride === 0 || i === upToMedium.length - 1);
  noisy(medium);
  evalEnv.close();
  return { expert, medium, replay, target, noisy };
}

export async function trainPolicies(
  env: EnvName,
  partial: Partial<ArsConfig> = {},
  log: (line: string) => void = console.log,
): Promise<PolicySet> {
  const run = await trainArs(env, partial, log);
  const { expert, medium, replay, target, noisy } = await selectSnapshots(
    env,
    run.snapshots,
    run.config.actionNoise,
    run.config.seed,
  );
  const set: PolicySet = {
    format: POLICY_SET_FORMAT,
    env,
    method: 'ARS V2-t (linear policy on running-normalised observations), single process',
    ars: run.config,
    training: {
      iterations: run.iterations,
      envSteps: run.envSteps,
      cpuSeconds: Math.round(run.cpuSeconds),
      wallSeconds: Math.round(run.wallSeconds),
    },
    mediumTargetScore: target,
    medium,
    expert,
    replay,
    curve: run.snapshots.map((s) => [
      s.iteration,
      s.envSteps,
      s.cpuSeconds,
      Math.round(s.noisyReturn),
      Math.round(s.meanReturn),
    ]),
  };
  log(
    `${env}: expert it ${expert.iteration} noisy ${noisy(expert).toFixed(0)} (${normalizedScore(env, noisy(expert)).toFixed(1)}), ` +
      `medium it ${medium.iteration} noisy ${noisy(medium).toFixed(0)} (${normalizedScore(env, noisy(medium)).toFixed(1)}, target ${target.toFixed(1)}), ` +
      `${replay.length} replay snapshots, ${run.cpuSeconds.toFixed(0)} CPU s`,
  );
  return set;
}

/**
 * Re-selects medium, expert and replay among the snapshots a committed file already holds, for another
 * exploration noise (no retraining). The training curve keeps the noise it was evaluated with
 * (`curveActionNoise`).
 */
export async function reselectPolicies(
  set: PolicySet,
  actionNoise: number,
  log: (line: string) => void = console.log,
): Promise<PolicySet> {
  const byIteration = new Map<number, ArsSnapshot>();
  for (const s of [...set.replay, set.medium, set.expert]) byIteration.set(s.iteration, { ...s });
  const snapshots = [...byIteration.values()].sort((x, y) => x.iteration - y.iteration);
  const { expert, medium, replay, target, noisy } = await selectSnapshots(
    set.env,
    snapshots,
    actionNoise,
    set.ars.seed,
    snapshots.length,
  );
  log(
    `${set.env} reselected at noise ${actionNoise}: expert it ${expert.iteration} noisy ${noisy(expert).toFixed(0)}, medium it ${medium.iteration} noisy ${noisy(medium).toFixed(0)} (target ${target.toFixed(1)}), ${replay.length} replay snapshots`,
  );
  return {
    ...set,
    ars: { ...set.ars, actionNoise },
    curveActionNoise: set.curveActionNoise ?? set.ars.actionNoise,
    reselectedFrom: `the ${snapshots.length} snapshots stored by the run (trained with selection noise ${set.curveActionNoise ?? set.ars.actionNoise})`,
    mediumTargetScore: target,
    medium,
    expert,
    replay,
  };
}

if (isScript(module, 'train-policies')) {
  const env = process.argv[2] as EnvName;
  if (!(ENV_NAMES as readonly string[]).includes(env)) {
    console.error(`Error in train-policies: env must be one of ${ENV_NAMES.join(', ')}, got '${env}'.`);
    process.exit(2);
  }
  const partial: Partial<ArsConfig> = {};
  if (process.argv[3]) partial.cpuBudgetSeconds = Number(process.argv[3]);
  if (process.argv[4]) partial.seed = Number(process.argv[4]);
  if (process.argv[6]) partial.actionNoise = Number(process.argv[6]);
  trainPolicies(env, partial).then(
    (set) => {
      const out = process.argv[5] ?? policySetFile(env);
      writeJsonAtomic(out, set);
      console.log(`wrote ${out}`);
    },
    (err) => {
      console.error(String(err?.message ?? err));
      process.exit(1);
    },
  );
}
