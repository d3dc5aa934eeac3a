/**
 * RTG targets per environment and model, primary targets and D4RL score references (model-spec.md §10).
 */
import { check, nearest } from '../util/check';

const TARGETS: Readonly<Record<string, Readonly<Record<string, readonly number[]>>>> = Object.freeze({
  // DMM and DC share the lists; DMa adds the half target; DT uses [target, half].
  dmm: {
    hopper: [3600, 7200, 36000, 72000],
    halfcheetah: [12000, 24000, 120000, 240000],
    walker2d: [5000, 10000, 50000, 100000],
    antmaze: [1, 10, 100, 1000, 100000],
    kitchen: [4, 10, 100],
  },
  dc: {
    hopper: [3600, 7200, 36000, 72000],
    halfcheetah: [12000, 24000, 120000, 240000],
    walker2d: [5000, 10000, 50000, 100000],
    antmaze: [1, 10, 100, 1000, 100000],
  },
  dmamba: {
    hopper: [1800, 3600, 7200, 36000, 72000],
    halfcheetah: [6000, 12000, 24000, 120000, 240000],
    walker2d: [2500, 5000, 10000, 50000, 100000],
  },
  dt: { hopper: [3600, 1800], halfcheetah: [12000, 6000], walker2d: [5000, 2500] },
});

/** The target of the `final` protocol (§10). */
export const PRIMARY_TARGET: Readonly<Record<string, number>> = Object.freeze({
  hopper: 3600,
  halfcheetah: 12000,
  walker2d: 5000,
  antmaze: 1,
  kitchen: 4,
});

export function rtgTargets(model: string, env: string): readonly number[] {
  const byEnv = TARGETS[model];
  check(
    byEnv,
    () =>
      `Error in rtgTargets: model must be one of ${Object.keys(TARGETS).join(', ')}, got '${model}'. Did you mean '${nearest(model, Object.keys(TARGETS))}'?`,
  );
  const list = byEnv[env];
  check(
    list,
    () => `Error in rtgTargets: env must be one of ${Object.keys(byEnv).join(', ')} for ${model}, got '${env}'.`,
  );
  return list;
}

export function primaryTarget(env: string): number {
  const t = PRIMARY_TARGET[env];
  check(
    t !== undefined,
    () => `Error in primaryTarget: env must be one of ${Object.keys(PRIMARY_TARGET).join(', ')}, got '${env}'.`,
  );
  return t;
}

/** D4RL reference returns (`d4rl/infos.py`; MuJoCo v2 copies the -random-v0 values). */
export const D4RL_REFERENCE: Readonly<Record<string, { min: number; max: number }>> = Object.freeze({
  hopper: { min: -20.272305, max: 3234.3 },
  halfcheetah: { min: -280.178953, max: 12135.0 },
  walker2d: { min: 1.629008, max: 4592.3 },
  antmaze: { min: 0, max: 1 },
  kitchen: { min: 0, max: 4 },
});

/** D4RL normalised score, 100·(return − MIN)/(MAX − MIN). Pass the mean return over episodes (§10). */
export function normalizedScore(env: string, episodeReturn: number): number {
  const ref = D4RL_REFERENCE[env];
  check(
    ref,
    () => `Error in normalizedScore: env must be one of ${Object.keys(D4RL_REFERENCE).join(', ')}, got '${env}'.`,
  );
  return (100 * (episodeReturn - ref.min)) / (ref.max - ref.min);
}
