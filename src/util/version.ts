/**
 * The kit's version and git commit, stamped on every queued job so a worker running other code
 * refuses it (issue 9): results of a sweep must come from one version of the kit.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/** The repository root (where package.json sits), found from this file, not from the working directory. */
export const KIT_ROOT = path.resolve(__dirname, '..', '..');

export function kitVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(KIT_ROOT, 'package.json'), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

/** `git rev-parse HEAD` of the kit, `DMM_COMMIT` when set (CI images without .git), else 'unknown'. */
export function kitCommit(): string {
  if (process.env.DMM_COMMIT) return process.env.DMM_COMMIT;
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: KIT_ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return 'unknown';
  }
}
