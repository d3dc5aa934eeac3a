/** A pid that belonged to a process which has exited: the owner of a "stale" temporary file. */
import { spawnSync } from 'child_process';

export function deadPid(): number {
  const pid = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  }).stdout;
  return Number(pid);
}
