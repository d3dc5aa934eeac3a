/**
 * `dmm train`, `report`, `sweep` and `data` for the GPU host, where the kit runs as one esbuild bundle
 * (tools/gpu/bundle.sh): src/cli/main.ts loads its commands by file name, which a bundle
 * cannot follow, so this entry imports the commands statically. Same code path as `npx dmm`.
 *
 *   bash tools/gpu/bundle-cli.sh            # here: .gpu/cli/ (this entry, plus MuJoCo, h5wasm and the models)
 *   DMM_BACKEND=webgpu bash .gpu/cli/run.sh train --model dt --seeds 12 --scale quick
 *   DMM_BACKEND=webgpu bash .gpu/cli/run.sh sweep --grid GRID --pack --results results/paper
 *   bash .gpu/cli/run.sh data generate hopper-medium --scale paper
 */
import { command as train } from '../../src/cli/commands/train';
import { command as report } from '../../src/cli/commands/report';
import { command as sweep } from '../../src/cli/commands/sweep';
import { dataCommand } from '../../src/cli/commands/data';
import { childMain } from '../../src/sweep/child';

const [name, ...rest] = process.argv.slice(2);
// The process pool forks this bundle for each run (src/sweep/local.ts): then it is a run's child process.
if (process.env.DMM_SWEEP_CHILD === '1') childMain();
else main();

function main(): void {
  const commands = { train, report, sweep, data: { run: dataCommand } } as const;
  const cmd = commands[name as keyof typeof commands];
  if (!cmd) {
    console.error(`Error in cli-entry: command must be one of ${Object.keys(commands).join(', ')}, got '${name}'.`);
    process.exit(2);
  }
  cmd.run(rest).then(
    (code) => process.exit(code),
    (err: Error) => {
      console.error(err.message);
      process.exit(1);
    },
  );
}
