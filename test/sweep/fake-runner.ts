/**
 * A stand-in for runTraining in the queue tests: the spec's overrides steer it.
 *   steps (default 4), stepMs (default 100): the run's length; with a checkpoint root it saves the step
 *     reached after each step and resumes from it;
 *   fail: true → every attempt throws; failTimes: n → the first n attempts throw;
 *   crashTimes: n → the first n attempts exit without a word (like an out-of-memory kill).
 * It writes the record to ctx.resultsDir like runTraining, and appends one line per finished run to
 * $DMM_FAKE_LOG, so a test can count how often each run really finished. As a pack runner (dmm worker
 * --pack), specs of one model share a pack key; runPackJob steps them together and each record says
 * `packedWith`.
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeJsonAtomic } from '../../src/util/atomic';
import { checkpointDir, recordPath, specHash, type RunSpec } from '../../src/config/run-spec';
import type { JobContext } from '../../src/sweep/runner';

export async function runJob(spec: RunSpec, ctx: JobContext): Promise<unknown> {
  const o = (spec.overrides ?? {}) as {
    steps?: number;
    stepMs?: number;
    fail?: boolean;
    failTimes?: number;
    crashTimes?: number;
  };
  const steps = o.steps ?? 4;
  const stepMs = o.stepMs ?? 100;
  if (o.crashTimes !== undefined && ctx.attempt <= o.crashTimes) process.exit(7);
  if (o.fail || (o.failTimes !== undefined && ctx.attempt <= o.failTimes))
    throw new Error(`planned failure of seed ${spec.seed} on attempt ${ctx.attempt}`);
  const ckpt = ctx.checkpointRoot ? path.join(checkpointDir(spec, ctx.checkpointRoot), 'step.json') : undefined;
  let start = 0;
  if (ckpt && fs.existsSync(ckpt)) start = (JSON.parse(fs.readFileSync(ckpt, 'utf8')) as { step: number }).step;
  for (let step = start; step < steps; step++) {
    await new Promise((r) => setTimeout(r, stepMs));
    if (ckpt) writeJsonAtomic(ckpt, { step: step + 1 });
    ctx.onProgress((step + 1) / steps, `step ${step + 1}/${steps}`);
  }
  const record = {
    spec,
    hash: specHash(spec),
    resumedFromStep: start,
    attempt: ctx.attempt,
    pid: process.pid,
    status: 'done',
  };
  writeJsonAtomic(recordPath(spec, ctx.resultsDir), record);
  if (process.env.DMM_FAKE_LOG) fs.appendFileSync(process.env.DMM_FAKE_LOG, `${specHash(spec)} ${process.pid}\n`);
  return record;
}

export function packKey(spec: RunSpec): string | null {
  return spec.model;
}

/** The specs' steps interleaved, as one packed program would take them; each record says packedWith. */
export async function runPackJob(specs: RunSpec[], ctx: JobContext): Promise<{ record?: unknown; error?: string }[]> {
  return Promise.all(
    specs.map(async (spec, i) => {
      try {
        const record = await runJob(spec, {
          ...ctx,
          jobId: specHash(spec),
          onProgress: (f, info) => (i === 0 ? ctx.onProgress(f, info) : undefined),
        });
        const packed = { ...(record as object), packedWith: specs.length };
        writeJsonAtomic(recordPath(spec, ctx.resultsDir), packed);
        return { record: packed };
      } catch (err) {
        return { error: (err as Error).message };
      }
    }),
  );
}
