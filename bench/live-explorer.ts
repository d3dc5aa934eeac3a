/**
 * Frames per second of the live explorer (figures/live-explorer.html) in headless Chromium on this machine: a
 * page rebuilt from the current src/ around the checkpoints the committed page carries, opened from file://,
 * plays N steps; a frame is one evaluation step of both models (model, taps, gradient norms, MuJoCo) plus the
 * redraw of both panels (stick figure and three Plotly charts each). For scale, the same two LiveRuns step in
 * Node (wasm) without drawing, and the page's actions are compared with Node's (largest relative difference).
 * `--swiftshader` gives Chromium an emulated WebGPU adapter (tools/webgpu's flags), for `--backend webgpu`.
 * Usage: node --import tsx bench/live-explorer.ts [--steps 100] [--backend wasm] [--swiftshader]
 * Prints a table and writes bench/results/live-explorer.json. Rates are wall-clock and depend on machine load.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../src/backend';
import { makeEnv } from '../src/envs';
import { readLivePageData, rebuildLivePage } from '../src/experiments/live-explorer';
import { launchChromium, openLivePage, type LiveWindow } from '../src/live/browser';
import type { PlayedReport } from '../src/live/page';
import { LiveRun, restoreLiveModel } from '../src/live/run';
import { CHROMIUM_ARGS } from '../tools/webgpu/harness';
import { machine, parseBenchFlags, printTable, writeBenchResult } from './lib';

const flags = parseBenchFlags('live-explorer', {
  steps: { type: 'number', default: 100, help: 'steps played after 5 of warm-up' },
  swiftshader: { type: 'boolean', default: false, help: "SwiftShader's emulated WebGPU adapter in Chromium" },
  backend: {
    type: 'string',
    default: 'wasm',
    help: "the page's and Node's tfjs backend (webgpu where Chromium has an adapter)",
  },
});

async function main(): Promise<void> {
  const requested = flags.backend ?? 'wasm';
  const data = readLivePageData(path.join(__dirname, '../figures/live-explorer.html'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-live-bench-'));
  process.env.DMM_FIGURES_DIR = dir;
  const file = rebuildLivePage(data.models, 'smoke');
  const browser = await launchChromium(flags.swiftshader ? CHROMIUM_ARGS : []);
  let pageFps: number;
  let backend: string;
  let played: PlayedReport[];
  try {
    const { page } = await openLivePage(browser, file, { query: `?backend=${requested}` });
    backend = await page.evaluate(() => (globalThis as unknown as LiveWindow).dmmLive!.backend);
    await page.evaluate(() => (globalThis as unknown as LiveWindow).dmmLive!.play(5)); // warm-up
    pageFps = await page.evaluate((n) => (globalThis as unknown as LiveWindow).dmmLive!.play(n), flags.steps);
    played = await page.evaluate(() => (globalThis as unknown as LiveWindow).dmmLive!.played());
  } finally {
    await browser.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }

  await initBackend({ backend: 'wasm', log: false });
  const runs = await Promise.all(
    data.models.map(
      async (e) => new LiveRun(restoreLiveModel(e), e, await makeEnv(e.env), { target: data.target, seed: data.seed }),
    ),
  );
  for (let t = 0; t < 6; t++) for (const r of runs) await r.advance(); // as the page: its first step and 5 of warm-up
  const t0 = performance.now();
  let steps = 0;
  for (; steps < flags.steps; steps++) for (const r of runs) await r.advance();
  const nodeFps = (steps * 1000) / (performance.now() - t0);
  let worst = 0;
  runs.forEach((r, i) =>
    r.steps.forEach((s, t) =>
      s.action.forEach((v, j) => {
        worst = Math.max(worst, Math.abs(v - played[i].actions[t][j]) / Math.max(1, Math.abs(v)));
      }),
    ),
  );

  printTable(
    ['where', 'backend', 'steps', 'frames (steps of both models) per second'],
    [
      ['headless Chromium, page drawing each step', backend, flags.steps, pageFps.toFixed(1)],
      ['Node, LiveRun.advance only (no drawing)', 'wasm', flags.steps, nodeFps.toFixed(1)],
    ],
  );
  console.log(
    `page actions vs Node's over ${flags.steps + 6} steps: largest relative difference ${worst.toExponential(2)}`,
  );
  const out = writeBenchResult(`live-explorer-${backend}`, {
    machine: machine(),
    steps: flags.steps,
    models: data.models.map((m) => m.title),
    page: { backend, fps: pageFps },
    node: { backend: 'wasm', fps: nodeFps },
    worstActionDifference: worst,
  });
  console.log(`wrote ${out}`);
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
