/**
 * Whether a module runs as a script (`node --import tsx src/data/train-policies.ts`). `require.main === module`
 * alone is not enough once the kit is bundled (tools/gpu/bundle-cli.sh): every inlined module then shares the
 * bundle's `module`, so each would think it is the script. The script's own file name decides.
 */
import * as path from 'path';

export function isScript(mod: NodeModule, name: string): boolean {
  const argv1 = path.basename(process.argv[1] ?? '');
  return require.main === mod && argv1.replace(/\.[cm]?[jt]s$/, '') === name;
}
