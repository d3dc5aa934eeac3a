/**
 * Test helpers for the queue tests: a real redis-server (Debian's) on 127.0.0.1 on a free port with
 * its own temp folder, and worker processes started through the `dmm worker` command file.
 */
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import IORedis from 'ioredis';

const REDIS_SH = path.resolve(__dirname, '..', '..', 'environment', 'redis.sh');

/** The redis-server binary: DMM_REDIS_SERVER, or the one on PATH; undefined when there is none. */
function findRedisServer(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v "$0"', process.env.DMM_REDIS_SERVER ?? 'redis-server'], {
    encoding: 'utf8',
  });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

let missing: string | undefined | null = null;

/**
 * Why the queue tests cannot run here, or undefined when they can: `{ skip: redisMissing() }`. Only these tests
 * need redis-server, so they ask environment/redis.sh for it, which installs it as root and otherwise answers
 * with the one-line install command that becomes the skip reason.
 */
export function redisMissing(): string | undefined {
  if (missing === null) {
    const r = spawnSync('bash', [REDIS_SH, '--quiet'], { encoding: 'utf8' });
    const why = r.stderr.trim().split('\n').pop() || `environment/redis.sh exited with ${r.status}`;
    missing = r.status === 0 && findRedisServer() ? undefined : `needs redis-server: ${why}`;
  }
  return missing;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 60_000,
  everyMs = 200,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`,
  );
}

export interface TestRedis {
  url: string;
  port: number;
  dir: string;
  /** SIGKILL (no shutdown save; the append-only file with fsync always keeps every write). */
  kill(): Promise<void>;
  /** Start again on the same port and folder. */
  start(): Promise<void>;
  /** Stop and remove the folder. */
  stop(): Promise<void>;
}

async function ping(port: number): Promise<boolean> {
  const c = new IORedis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  c.on('error', () => undefined);
  try {
    await c.connect();
    return (await c.ping()) === 'PONG';
  } finally {
    c.disconnect();
  }
}

export async function startRedis(): Promise<TestRedis> {
  const why = redisMissing();
  if (why) throw new Error(why);
  const server = findRedisServer()!;
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-redis-'));
  let proc: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
    ];
    proc = spawn(server, [...args, '--maxmemory-policy', 'noeviction', '--logfile', path.join(dir, 'redis.log')], {
      stdio: 'ignore',
    });
    await waitFor(`redis-server on port ${port}`, () => ping(port), 10_000, 50);
  };
  const kill = async (): Promise<void> => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    kill,
    start,
    async stop() {
      await kill();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const DMM_CLI = path.resolve(__dirname, '..', '..', 'bin', 'dmm.js');
export const FAKE_RUNNER = path.resolve(__dirname, '..', 'sweep', 'fake-runner.ts');

export interface TestWorker {
  proc: ChildProcess;
  /** Everything printed so far. */
  output(): string;
  exited: Promise<number | null>;
}

/** A `dmm worker` process; stdout and stderr are collected, and the runner defaults to the fake one. */
export function startWorker(args: string[], env: Record<string, string> = {}): TestWorker {
  const proc = spawn(process.execPath, [DMM_CLI, 'worker', ...args], {
    env: { ...process.env, DMM_QUIET: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, output: () => out, exited };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
export async function stopProcess(w: TestWorker, graceMs = 5000): Promise<number | null> {
  if (w.proc.exitCode !== null || w.proc.signalCode !== null) return w.proc.exitCode;
  w.proc.kill('SIGTERM');
  const t = setTimeout(() => w.proc.kill('SIGKILL'), graceMs);
  const code = await w.exited;
  clearTimeout(t);
  return code;
}

/** Grid JSON in a temp file. */
export function writeGrid(dir: string, name: string, grid: object): string {
  const file = path.join(dir, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify(grid, null, 2));
  return file;
}
