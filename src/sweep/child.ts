/**
 * The child process that runs one job (forked by ./local.ts and ./worker.ts). A crash, an out-of-memory kill or a
 * `kill -9` of this process loses only this run; the worker reports it as a failed attempt. When the
 * worker itself dies, the IPC channel closes and this process exits, so no orphan keeps training.
 */
import { stableStringify } from '../util/atomic';
import { isScript } from '../util/script';
import * as trainRunner from './train-runner';
import type { RunSpec } from '../config/run-spec';
import type { JobContext, RunnerModule } from './runner';

export type ChildRequest =
  | { type: 'run'; runner: string; spec: RunSpec; ctx: Omit<JobContext, 'onProgress'> }
  /** Several specs trained together by the runner's runPackJob (dmm worker --pack): one outcome per spec. */
  | { type: 'pack'; runner: string; specs: RunSpec[]; ctx: Omit<JobContext, 'onProgress'> };

export type ChildMessage =
  | { type: 'progress'; fraction: number; info?: string }
  | { type: 'done'; record: unknown }
  | { type: 'error'; message: string };

function send(msg: ChildMessage): Promise<void> {
  return new Promise((resolve) => process.send!(msg, undefined, undefined, () => resolve()));
}

/**
 * The runner module at `file`. The default runner is linked in (a bundle cannot require a .ts file by path);
 * others load by path. The queue worker loads it too, for its packKey (worker.ts).
 */
export function loadRunner(file: string): Partial<RunnerModule> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the runner is chosen at run time by path
  return /train-runner(\.ts)?$/.test(file) ? trainRunner : (require(file) as Partial<RunnerModule>);
}

async function run(req: ChildRequest): Promise<void> {
  try {
    const mod = loadRunner(req.runner);
    const ctx = {
      ...req.ctx,
      onProgress: (fraction: number, info?: string) => void send({ type: 'progress', fraction, info }),
    };
    let record: unknown;
    if (req.type === 'pack') {
      if (typeof mod.runPackJob !== 'function')
        throw new Error(
          `Error in sweep child: runner module ${req.runner} must export runPackJob(specs, ctx) to train packs.`,
        );
      record = await mod.runPackJob(req.specs, ctx);
    } else {
      if (typeof mod.runJob !== 'function')
        throw new Error(`Error in sweep child: runner module ${req.runner} must export runJob(spec, ctx).`);
      record = await mod.runJob(req.spec, ctx);
    }
    // Round-trip through JSON so what the queue stores is exactly what a record file would hold.
    await send({ type: 'done', record: JSON.parse(stableStringify(record ?? null)) });
    process.exit(0);
  } catch (err) {
    const e = err as Error;
    await send({ type: 'error', message: (e && e.message) || String(err) });
    process.exit(1);
  }
}

/** Serves one request from the parent over IPC: this file as a script, or a bundle forked with DMM_SWEEP_CHILD=1. */
export function childMain(): void {
  process.on('disconnect', () => process.exit(1));
  process.once('message', (msg) => void run(msg as ChildRequest));
}

if (isScript(module, 'child')) childMain();
