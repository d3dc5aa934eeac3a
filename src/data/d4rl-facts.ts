/**
 * What a file offered under a D4RL name (data/d4rl/<env>_<kind>-v2.hdf5) must be: D4RL's own file, not a
 * kit-generated one copied there, nor another dataset. Checked beyond `readD4rlFile`'s format checks:
 * - not kit-generated: kit files say so in metadata/generator (src/data/generate.ts);
 * - D4RL's keys (docs/spec.md §15.2): next_observations and infos/* besides the five required ones (AntMaze:
 *   infos/goal, infos/qpos, infos/qvel, no next_observations);
 * - D4RL's dtypes: float32 columns, terminals and timeouts as h5py's numpy bool (the kit writes int8); AntMaze's
 *   relabelled terminals may be float32;
 * - the episode counts where known: finished episodes (terminal or timeout) and the rows up to the last
 *   of them, split as docs/spec.md §8.1 does.
 * Each failure is one line naming the file, the problem and the fix.
 */
import * as path from 'path';
import { check } from '../util/check';
import type { TransitionArrays } from './d4rl-file';
import { d4rlFileName, type AntMazeDatasetName, type DatasetName } from './d4rl-ids';
import { KIT_GENERATOR } from './recipe';

/**
 * Episode counts of D4RL's v2 files: finished episodes and the rows they hold. hopper-medium-v2's are
 * those the kit's issue 17 quotes; the others are the trajectory counts of the Decision Transformer's
 * D4RL-v2 data (the same episode rule; halfcheetah never terminates, so its episodes are 1000 rows each).
 * Files not listed are checked for everything else.
 */
export const D4RL_FACTS: Readonly<Record<string, { episodes: number; rows?: number }>> = Object.freeze({
  'hopper-medium-v2': { episodes: 2186, rows: 999906 },
  'hopper-medium-replay-v2': { episodes: 2041 },
  'halfcheetah-medium-v2': { episodes: 1000, rows: 1000000 },
  'halfcheetah-expert-v2': { episodes: 1000, rows: 1000000 },
  'halfcheetah-medium-replay-v2': { episodes: 202, rows: 202000 },
  'walker2d-medium-v2': { episodes: 1191 },
  'walker2d-medium-replay-v2': { episodes: 1093 },
});

const D4RL_KEYS = [
  'observations',
  'next_observations',
  'actions',
  'rewards',
  'terminals',
  'timeouts',
  'infos/qpos',
  'infos/qvel',
  'infos/action_log_probs',
] as const;

const ANTMAZE_KEYS = [
  'observations',
  'actions',
  'rewards',
  'terminals',
  'timeouts',
  'infos/goal',
  'infos/qpos',
  'infos/qvel',
] as const;

/** The dtypes D4RL's files may have, per key. */
const DTYPES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  observations: ['f4'],
  next_observations: ['f4'],
  actions: ['f4'],
  rewards: ['f4'],
  terminals: ['bool'],
  timeouts: ['bool'],
});
const ANTMAZE_DTYPES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  ...DTYPES,
  // relabel_antmaze_rewards.py writes its terminals as float32 0/1.
  terminals: ['bool', 'f4'],
});

/** Finished episodes and the rows up to the end of the last one. */
export function episodeCounts(t: Pick<TransitionArrays, 'n' | 'terminals' | 'timeouts'>): {
  episodes: number;
  rows: number;
} {
  let episodes = 0;
  let rows = 0;
  for (let i = 0; i < t.n; i++)
    if (t.terminals[i] || t.timeouts[i]) {
      episodes++;
      rows = i + 1;
    }
  return { episodes, rows };
}

/** Throws one line when `t`, read from `file` under the D4RL name `name`, is not D4RL's file. */
export function checkD4rlFacts(t: TransitionArrays, name: DatasetName | AntMazeDatasetName, file: string): void {
  const antmaze = 'd4rlFile' in name;
  const fix = antmaze
    ? `Put D4RL's own ${name.d4rlFile} there, or load the kit's data with source 'kit'.`
    : `Put D4RL's own ${d4rlFileName(name)} there (npx dmm data download ${name.d4rlId}, --base-url for a mirror), or load the kit's data with source 'kit'.`;
  const where = `'${file}' (offered as ${name.d4rlId})`;
  const generator = t.metadata.generator;
  check(
    generator !== KIT_GENERATOR,
    () =>
      `Error in loadDataset: ${where} must be D4RL's file, got a kit-generated one (metadata/generator '${generator}', dataset '${t.metadata.dataset}', scale '${t.metadata.scale}'). Delete it. ${fix}`,
  );
  for (const key of antmaze ? ANTMAZE_KEYS : D4RL_KEYS)
    check(
      (t.keys ?? []).includes(key),
      () =>
        `Error in loadDataset: ${where} must hold D4RL's key '${key}', got keys ${(t.keys ?? []).join(', ')}. ${fix}`,
    );
  for (const [key, dtypes] of Object.entries(antmaze ? ANTMAZE_DTYPES : DTYPES)) {
    const got = t.dtypes?.[key];
    const names = dtypes.map((d) => (d === 'bool' ? 'bool (h5py)' : 'float32 (f4)')).join(' or ');
    check(
      got === undefined || dtypes.includes(got),
      () => `Error in loadDataset: ${where} key '${key}' must have D4RL's dtype ${names}, got ${got}. ${fix}`,
    );
  }
  const facts = D4RL_FACTS[name.d4rlId];
  if (!facts) return;
  const got = episodeCounts(t);
  check(
    got.episodes === facts.episodes && (facts.rows === undefined || got.rows === facts.rows),
    () =>
      `Error in loadDataset: ${where} must hold D4RL's ${facts.episodes} episodes${facts.rows !== undefined ? ` in ${facts.rows} rows` : ''}, got ${got.episodes} episodes in ${got.rows} rows (file: ${path.basename(file)}, ${t.n} rows in all). ${fix}`,
  );
}
