/**
 * Trains the kit's AntMaze goal-reaching controller once and writes data/policies/antmaze-controller.json
 * (./ant-controller.ts). `generateAntMazeDataset` never retrains; it reads the committed file.
 *
 *   node --import tsx src/data/train-ant-controller.ts [--workers N] [--cpu-seconds N] [--max-iterations N]
 *     [--seed N] [--checkpoint FILE] [--out FILE] [--episodes N]
 *   node --import tsx src/data/train-ant-controller.ts --render docs/img/antmaze-umaze-controller-rollout
 *     (draws one σ 0.2 evaluation episode of the committed controller, top view, SVG and PNG)
 *
 * ARS trains the direction-conditioned policy on the open floor ('antmaze-direction'); then the best
 * `CANDIDATES` snapshots by noisy return are steered through antmaze-umaze's evaluation task (its goals, 700-step
 * limit, done at 0.5 m) with D4RL's action noise σ 0.2, and the one that succeeds most often is kept.
 */
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic';
import { svgToPng } from '../envs/render-rollout';
import { topViewSvg } from '../envs';
import { isScript } from '../util/script';
import { trainArs, ARS_DEFAULTS, type ArsConfig, type ArsSnapshot } from './ars';
import {
  CONTROLLER_FORMAT,
  controllerFile,
  controllerRollout,
  controllerSuccess,
  loadController,
  type ControllerFile,
} from './ant-controller';
import { ANTMAZE_ACTION_NOISE } from './antmaze-generate';

/** Snapshots compared on the maze, and episodes for each (the kept one is measured again on `episodes`). */
export const CANDIDATES = 5;
const SELECTION_EPISODES = 20;

export interface TrainControllerOptions {
  config?: Partial<ArsConfig>;
  workers?: number;
  checkpointFile?: string;
  /** Episodes of the final success measurement. */
  episodes?: number;
  log?: (line: string) => void;
}

export async function trainAntController(options: TrainControllerOptions = {}): Promise<ControllerFile> {
  const log = options.log ?? (() => {});
  const run = await trainArs('antmaze-direction', options.config ?? {}, {
    workers: options.workers ?? 0,
    checkpointFile: options.checkpointFile,
    log,
  });
  const seed = run.config.seed;
  const byReturn = [...run.snapshots].sort((a, b) => b.noisyReturn - a.noisyReturn || b.iteration - a.iteration);
  let best: { snap: ArsSnapshot; success: number } | undefined;
  for (const snap of byReturn.slice(0, CANDIDATES)) {
    const success = await controllerSuccess(snap, 'antmaze-umaze', {
      episodes: SELECTION_EPISODES,
      seed: seed + 1,
      noise: ANTMAZE_ACTION_NOISE,
    });
    log(`candidate iteration ${snap.iteration}: noisy return ${snap.noisyReturn.toFixed(0)}, umaze success ${success}`);
    if (!best || success > best.success) best = { snap, success };
  }
  const chosen = (best as { snap: ArsSnapshot }).snap;
  const episodes = options.episodes ?? 100;
  // A fresh seed for the reported rates, so they are not the selection's own episodes.
  const measure = (noise: number): Promise<number> =>
    controllerSuccess(chosen, 'antmaze-umaze', { episodes, seed: seed + 2, noise });
  const success = { episodes, seed: seed + 2, clean: await measure(0), noisy: await measure(ANTMAZE_ACTION_NOISE) };
  log(`kept iteration ${chosen.iteration}: umaze success ${success.clean} clean, ${success.noisy} with σ 0.2`);
  const { wallSeconds: _wall, ...policy } = chosen;
  void _wall;
  return {
    format: CONTROLLER_FORMAT,
    policy,
    success,
    command: `node --import tsx src/data/train-ant-controller.ts ${process.argv.slice(2).join(' ')}`.trim(),
    curve: run.snapshots.map((s) => ({ iteration: s.iteration, envSteps: s.envSteps, noisyReturn: s.noisyReturn })),
  };
}

function flag(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

async function main(argv: string[]): Promise<void> {
  const num = (name: string): number | undefined => {
    const v = flag(argv, name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`Error in train-ant-controller: ${name} must be a number, got '${v}'.`);
    return n;
  };
  const render = flag(argv, '--render');
  if (render) {
    const rollout = await controllerRollout(loadController().policy, 'antmaze-umaze', {
      seed: 0,
      noise: ANTMAZE_ACTION_NOISE,
    });
    const svg = topViewSvg(rollout);
    writeFileAtomic(`${render}.svg`, svg);
    const size = /width="([\d.]+)" height="([\d.]+)"/.exec(svg) as RegExpExecArray;
    const png = svgToPng(`${render}.svg`, `${render}.png`, Math.ceil(Number(size[1])), Math.ceil(Number(size[2])));
    console.log(`wrote ${render}.svg${png ? ` and ${render}.png` : ''} (${rollout.rewards.length} steps)`);
    return;
  }
  const defaults = ARS_DEFAULTS['antmaze-direction'];
  const config: Partial<ArsConfig> = {
    cpuBudgetSeconds: num('--cpu-seconds') ?? defaults.cpuBudgetSeconds,
    maxIterations: num('--max-iterations') ?? defaults.maxIterations,
    seed: num('--seed') ?? defaults.seed,
  };
  const out = flag(argv, '--out') ?? controllerFile();
  const result = await trainAntController({
    config,
    workers: num('--workers') ?? 0,
    checkpointFile: flag(argv, '--checkpoint'),
    episodes: num('--episodes'),
    log: (line) => console.log(line),
  });
  writeJsonAtomic(out, result);
  console.log(`wrote ${out}`);
}

if (isScript(module, 'train-ant-controller')) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
