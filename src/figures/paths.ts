/**
 * Where the kit lives and where figures go. Notebooks run with their own folder as working directory,
 * so paths are found from the kit root (the folder whose package.json is named dmm-kit), not the cwd.
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

/** The figure folder: DMM_FIGURES_DIR (relative to the kit root when relative), else <root>/figures. */
export function figuresDir(): string {
  const env = process.env.DMM_FIGURES_DIR;
  return env ? path.resolve(kitRoot(), env) : path.join(kitRoot(), 'figures');
}
