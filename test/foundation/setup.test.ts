import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { kitRoot } from '../../src/figures/paths';

const root = kitRoot();
const setup = path.join(root, 'environment/setup.sh');

/**
 * Runs an environment/ script as a normal user on a machine where dpkg-query lists `missing` as absent (fake
 * `id` and `dpkg-query` ahead of PATH).
 */
function asUserWithout(script: string, missing: string[], env: Record<string, string> = {}) {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-fakebin-'));
  fs.writeFileSync(path.join(bin, 'id'), '#!/bin/sh\necho 1000\n', { mode: 0o755 });
  fs.writeFileSync(
    path.join(bin, 'dpkg-query'),
    `#!/bin/sh\nfor p; do :; done\ncase "$p" in ${missing.join('|')}) exit 1;; esac\nprintf "install ok installed"\n`,
    { mode: 0o755 },
  );
  try {
    return spawnSync('bash', [path.join(root, script)], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, ...env },
    });
  } finally {
    fs.rmSync(bin, { recursive: true, force: true });
  }
}

test('not root and packages missing: setup prints the exact install command and exits non-zero', () => {
  const r = asUserWithout('environment/setup.sh', ['chromium', 'redis-server']);
  assert.equal(r.status, 1);
  // redis-server is not the set-up's business: only the queue needs it (environment/redis.sh).
  assert.equal(
    r.stderr.trim(),
    "Error in setup: Debian packages missing: chromium. Install them with: sudo sh -c 'apt-get update && apt-get install -y chromium'",
  );
});

test('redis.sh: does nothing when redis-server is there, else one line with the install command', () => {
  const present = spawnSync('bash', [path.join(root, 'environment/redis.sh')], {
    encoding: 'utf8',
    env: { ...process.env, DMM_REDIS_SERVER: 'bash' },
  });
  assert.equal(present.status, 0);
  assert.equal(present.stderr, '');
  const r = asUserWithout('environment/redis.sh', ['redis-server'], { DMM_REDIS_SERVER: '/nonexistent/redis-server' });
  assert.equal(r.status, 1);
  assert.equal(
    r.stderr.trim(),
    "Error in redis: Debian packages missing: redis-server. Install them with: sudo sh -c 'apt-get update && apt-get install -y redis-server'",
  );
});

test('a second set-up run finds everything in place and changes nothing', () => {
  const kernel = path.join(root, '.jupyter/share/jupyter/kernels/tslab/kernel.json');
  const before = fs.existsSync(kernel) ? fs.statSync(kernel).mtimeMs : undefined;
  const r = spawnSync('bash', [setup], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trim(), '[setup] ready', 'no installs, no npm ci, no kernel registration');
  if (before !== undefined) assert.equal(fs.statSync(kernel).mtimeMs, before);
});
