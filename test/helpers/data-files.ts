/**
 * Small hand-built D4RL-format files for test/data: hopper-shaped columns (11 observations, 3 actions,
 * qpos/qvel 6) whose values are a fixed function of the row index, so tests recompute what they expect.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { H5Entry } from '../../src/data/h5';

export const OBS = 11;
export const ACT = 3;

export function tempDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `dmm-data-${label}-`));
}

export function obsValue(row: number, col: number): number {
  return Math.fround(Math.sin(row * 0.1 + col));
}

/** Entries of a valid hopper file with N rows; `ends` marks terminals (t) or timeouts (o) per row. */
export function hopperEntries(n: number, ends: Record<number, 't' | 'o'>): Record<string, H5Entry> {
  const observations = new Float32Array(n * OBS);
  for (let i = 0; i < n; i++) for (let j = 0; j < OBS; j++) observations[i * OBS + j] = obsValue(i, j);
  const actions = Float32Array.from({ length: n * ACT }, (_, k) => Math.tanh(Math.cos(k * 0.3)));
  const rewards = Float32Array.from({ length: n }, (_, i) => 1 + 0.01 * i);
  const terminals = new Int8Array(n);
  const timeouts = new Int8Array(n);
  for (const [row, kind] of Object.entries(ends)) (kind === 't' ? terminals : timeouts)[Number(row)] = 1;
  return {
    observations: { data: observations, shape: [n, OBS] },
    actions: { data: actions, shape: [n, ACT] },
    rewards: { data: rewards, shape: [n] },
    terminals: { data: terminals, shape: [n] },
    timeouts: { data: timeouts, shape: [n] },
    next_observations: { data: observations, shape: [n, OBS] },
    'infos/qpos': { data: new Float32Array(n * 6), shape: [n, 6] },
    'infos/qvel': { data: new Float32Array(n * 6), shape: [n, 6] },
    'metadata/algorithm': { data: 'test' },
  };
}
