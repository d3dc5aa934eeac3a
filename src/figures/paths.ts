/** Where figures go: a folder of the kit root (src/util/kit-root.ts), not of the working directory. */
import * as path from 'path';
import { kitRoot } from '../util/kit-root';

export { kitRoot };

/** The figure folder: DMM_FIGURES_DIR (relative to the kit root when relative), else <root>/figures. */
export function figuresDir(): string {
  const env = process.env.DMM_FIGURES_DIR;
  return env ? path.resolve(kitRoot(), env) : path.join(kitRoot(), 'figures');
}
