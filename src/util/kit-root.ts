/**
 * Where the kit lives. Notebooks run with their own folder as working directory and the GPU host runs a
 * bundle from another folder, so the root is found by its package.json (named dmm-kit), not from the cwd.
 */
import * as fs from 'fs';
import * as path from 'path';

function isKitRoot(dir: string): boolean {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
    return pkg.name === 'dmm-kit';
  } catch {
    return false;
  }
}

/** The kit's root folder: searched upwards from this file, then from the working directory. */
export function kitRoot(): string {
  for (const start of [__dirname, process.cwd()]) {
    let dir = path.resolve(start);
    for (;;) {
      if (isKitRoot(dir)) return dir;
      const up = path.dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  return process.cwd();
}
