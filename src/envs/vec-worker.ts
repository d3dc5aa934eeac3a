/**
 * The body of a VecEnv worker thread: builds one Shard and runs 'reset' / 'step' / 'close' requests from the
 * parent, answering each with 'ok' or a one-line error. Started through the bootstrap in vec-env.ts, which
 * registers tsx first so this TypeScript file loads in a plain Node worker.
 */
import { parentPort } from 'worker_threads';
import { loadMujoco } from './mujoco';
import { Shard, type ShardSpec } from './vec-shard';

type Request = { type: 'init'; spec: ShardSpec } | { type: 'reset' } | { type: 'step' } | { type: 'close' };

let shard: Shard | undefined;

async function handle(req: Request): Promise<void> {
  switch (req.type) {
    case 'init':
      shard = new Shard(await loadMujoco(), req.spec);
      return;
    case 'reset':
      (shard as Shard).reset();
      return;
    case 'step':
      (shard as Shard).step();
      return;
    case 'close':
      shard?.close();
      shard = undefined;
      return;
  }
}

const port = parentPort;
if (port) {
  port.on('message', (req: Request) => {
    handle(req).then(
      () => port.postMessage({ type: 'ok' }),
      (err: unknown) => port.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) }),
    );
  });
}
