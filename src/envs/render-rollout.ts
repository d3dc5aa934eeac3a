/**
 * Draws a random-policy rollout as a stick-figure SVG strip, or an AntMaze top view (and a PNG through headless Chromium when
 * /usr/bin/chromium exists). Run: `node --import tsx src/envs/render-rollout.ts hopper 0 docs/img/hopper-random-rollout`.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeFileAtomic } from '../util/atomic';
import { check } from '../util/check';
import { deriveSeed, Rng } from '../util/rng';
import { makeEnv } from './env';
import { recordRollout, stickFigureSvg, topViewSvg, type Rollout } from './stick-figure';
import { ENV_IDS, type EnvId } from '../config/names';
import { isScript } from '../util/script';

/** One episode of uniform random actions in [-1, 1] (D4RL's "random" behaviour), env and policy seeded from `seed`. */
export async function randomRollout(id: EnvId, seed: number, maxSteps?: number): Promise<Rollout> {
  const env = await makeEnv(id, { seed: deriveSeed(seed, 'env', 0) });
  const rng = new Rng(deriveSeed(seed, 'random-policy'));
  const action = new Float64Array(env.actionDim);
  try {
    return recordRollout(
      env,
      () => {
        for (let i = 0; i < action.length; i++) action[i] = rng.range(-1, 1);
        return action;
      },
      { maxSteps, label: `uniform random policy, seed ${seed}, MuJoCo 3.3.8 (mujoco-js)` },
    );
  } finally {
    env.close();
  }
}

/** Renders an SVG file to PNG with headless Chromium; returns false when Chromium is missing. */
export function svgToPng(svgFile: string, pngFile: string, width: number, height: number): boolean {
  const chromium = '/usr/bin/chromium';
  if (!fs.existsSync(chromium)) return false;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-png-'));
  try {
    const shot = path.join(tmp, 'shot.png');
    execFileSync(
      chromium,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--hide-scrollbars',
        `--window-size=${width},${height}`,
        `--screenshot=${shot}`,
        `file://${path.resolve(svgFile)}`,
      ],
      { stdio: 'ignore', timeout: 60_000 },
    );
    writeFileAtomic(pngFile, fs.readFileSync(shot));
    return true;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const [id = 'hopper', seedText = '0', base = `docs/img/${id}-random-rollout`, maxText] = process.argv.slice(2);
  check(
    (ENV_IDS as readonly string[]).includes(id),
    () => `Error in render-rollout: id must be one of ${ENV_IDS.join(', ')}, got '${id}'.`,
  );
  const seed = Number(seedText);
  check(Number.isInteger(seed), () => `Error in render-rollout: seed must be an integer, got '${seedText}'.`);
  const rollout = await randomRollout(id as EnvId, seed, maxText ? Number(maxText) : undefined);
  const svg = rollout.view === 'top' ? topViewSvg(rollout) : stickFigureSvg(rollout);
  writeFileAtomic(`${base}.svg`, svg);
  const size = /width="(\d+)" height="(\d+)"/.exec(svg) as RegExpExecArray;
  const png = svgToPng(`${base}.svg`, `${base}.png`, Number(size[1]), Number(size[2]));
  console.log(`wrote ${base}.svg${png ? ` and ${base}.png` : ''} (${rollout.frames.length - 1} steps)`);
}

if (isScript(module, 'render-rollout')) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
