/**
 * Run records: one JSON per run at results/<experiment>/<specHash>.json.
 * Tables and figures are pure functions of these files.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { TargetResult } from '../eval/rollout';
import { specHash, type NormalRunSpec } from '../config/run-spec';
import { writeJsonAtomic } from '../util/atomic';
import { KitError } from '../util/check';

export const RECORD_FORMAT = 'dmm-kit/run-record@1';

export interface IterationRecord {
  iteration: number;
  /** Optimiser steps done at this evaluation. */
  step: number;
  /** Mean training loss over this iteration's steps. */
  loss: number;
  trainSeconds: number;
  evalSeconds: number;
  targets: TargetResult[];
}

export interface RunRecord {
  format: typeof RECORD_FORMAT;
  specHash: string;
  spec: NormalRunSpec;
  status: 'running' | 'finished' | 'failed';
  error?: string;
  seed: number;
  backend: string;
  /**
   * The training path: 'fused' (src/engine/; its WebGPU executor when backend is webgpu, else its CPU
   * executor) or 'tfjs' (op by op). Absent in records written before the engine existed (all tfjs).
   */
  engine?: 'fused' | 'tfjs';
  /** Why a run asked for the fused engine trained on tfjs. */
  engineNote?: string;
  /** Trained in one packed engine program with this many runs (src/train/packed-run.ts); absent when alone. */
  packedWith?: number;
  gitCommit: string;
  kitVersion: string;
  /** Resolved model, trainer and evaluator configs. */
  config: { model: Record<string, unknown>; train: Record<string, unknown>; eval: Record<string, unknown> };
  parameterCount?: number;
  dataset: { id: string; source: string; checksum: string; provenance: unknown };
  iterations: IterationRecord[];
  /** The two protocols of docs/spec.md §10 for this run (absent until one evaluation exists). */
  scores?: { best_official: number; final: number; bestPerTarget: Record<string, number> };
  startedAt: string;
  finishedAt?: string;
  wallSeconds?: number;
  /** The run's checkpoint folder, relative to the kit root when it lies inside the kit. */
  checkpointDir?: string;
}

/** A record of a run that has not started: the spec, status 'running', nothing measured yet. */
export function emptyRecord(spec: NormalRunSpec): RunRecord {
  return {
    format: RECORD_FORMAT,
    specHash: specHash(spec),
    spec,
    status: 'running',
    seed: spec.seed,
    backend: 'unknown',
    gitCommit: 'unknown',
    kitVersion: 'unknown',
    config: { model: {}, train: {}, eval: {} },
    dataset: { id: spec.dataset, source: spec.source, checksum: '', provenance: null },
    iterations: [],
    startedAt: new Date().toISOString(),
  };
}

export function writeRecord(file: string, record: RunRecord): void {
  writeJsonAtomic(file, record);
}

/**
 * Where a restarted run writes while a finished record of its spec exists (`<specHash>.rerun.json`
 * beside it): the finished record is replaced only by a finished rerun, and a failing one stays here.
 * Tables never read these files.
 */
export function rerunRecordPath(file: string): string {
  return file.replace(/\.json$/, '') + '.rerun.json';
}

/** The record at `file` when it is there, readable and finished; else undefined. */
export function finishedRecord(file: string): RunRecord | undefined {
  try {
    const r = readRecord(file);
    return r.status === 'finished' ? r : undefined;
  } catch {
    return undefined;
  }
}

function bad(file: string, what: string): never {
  throw new KitError(
    `Error in readRecord: ${file} must be a ${RECORD_FORMAT} JSON file, got ${what}. Delete it to rerun the cell, or restore it from version control.`,
  );
}

/** Reads and validates one record; a corrupt file gives one line naming the file and the problem. */
export function readRecord(file: string): RunRecord {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    bad(file, `an unreadable file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let rec: RunRecord;
  try {
    rec = JSON.parse(text) as RunRecord;
  } catch (err) {
    bad(file, `invalid JSON (${(err as Error).message.split('\n')[0]})`);
  }
  if (!rec || typeof rec !== 'object') bad(file, 'a non-object');
  if (rec.format !== RECORD_FORMAT) bad(file, `format '${String(rec.format)}'`);
  if (!['running', 'finished', 'failed'].includes(rec.status)) bad(file, `status '${String(rec.status)}'`);
  if (!rec.spec || typeof rec.spec.model !== 'string' || typeof rec.spec.env !== 'string') bad(file, 'no spec');
  if (!Array.isArray(rec.iterations)) bad(file, 'no iterations array');
  for (const it of rec.iterations) {
    if (!Array.isArray(it.targets) || it.targets.some((t) => typeof t.normalizedScore !== 'number'))
      bad(file, `iteration ${it.iteration} without numeric target scores`);
    // Every episode's return is kept, so any protocol can be recomputed later (src/results/scores.ts).
    if (it.targets.some((t) => !Array.isArray(t.returns) || t.returns.some((v) => typeof v !== 'number')))
      bad(file, `iteration ${it.iteration} without its per-episode returns`);
  }
  // A row's seed count is its number of finished records, so each must carry both protocols' numbers.
  if (rec.status === 'finished' && !('scores' in rec)) bad(file, 'a finished record without scores');
  if ('scores' in rec) {
    const s = rec.scores as unknown;
    const isNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
    if (!s || typeof s !== 'object') bad(file, `scores ${JSON.stringify(s)}`);
    const { best_official, final, bestPerTarget } = s as Record<string, unknown>;
    if (!isNumber(best_official)) bad(file, `scores.best_official ${JSON.stringify(best_official)}`);
    if (!isNumber(final)) bad(file, `scores.final ${JSON.stringify(final)}`);
    if (!bestPerTarget || typeof bestPerTarget !== 'object')
      bad(file, `scores.bestPerTarget ${JSON.stringify(bestPerTarget)}`);
    for (const [target, v] of Object.entries(bestPerTarget))
      if (!isNumber(v)) bad(file, `scores.bestPerTarget.${target} ${JSON.stringify(v)}`);
  }
  return rec;
}

/** Every record under resultsDir (optionally one experiment), skipping checkpoint folders and reruns. */
export function listRecordFiles(resultsDir: string, experiment?: string): string[] {
  if (!fs.existsSync(resultsDir)) return [];
  const exps = experiment
    ? [experiment]
    : fs.readdirSync(resultsDir).filter((d) => fs.statSync(path.join(resultsDir, d)).isDirectory());
  const files: string[] = [];
  for (const exp of exps) {
    const dir = path.join(resultsDir, exp);
    if (!fs.existsSync(dir)) continue;
    for (const f of fs.readdirSync(dir).sort())
      if (f.endsWith('.json') && !f.endsWith('.rerun.json')) files.push(path.join(dir, f));
  }
  return files;
}
