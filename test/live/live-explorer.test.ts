/**
 * The live explorer in headless Chromium, offline from file://: a page built from the current src/ (bundle.ts)
 * with the trained checkpoints that figures/live-explorer.html carries plays 50 steps, and every action, every
 * token-type mean of every tap and layer, and the shown heatmap and gradient norms equal what the same
 * checkpoints compute in Node (LiveRun: the evaluator's windows, the kit's models and env). Then the RTG target
 * and the layer change, and the page is photographed.
 */
import { before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readLivePageData, rebuildLivePage } from '../../src/experiments/live-explorer';
import { makeEnv } from '../../src/envs';
import { launchChromium, openLivePage, type LiveWindow as W } from '../../src/live/browser';
import type { LivePageData } from '../../src/live/page-data';
import type { PlayedReport, ShownStep } from '../../src/live/page';
import { LiveRun, restoreLiveModel } from '../../src/live/run';
import { initBackend } from '../../src/backend';

const STEPS = 50;
/** float32 round-off of the same wasm kernels (a few ulps, grown over an episode's steps). */
const TOL = 1e-4;
const COMMITTED = path.resolve(__dirname, '../../figures/live-explorer.html');

/** Largest |x − y| / max(1, |y|) over two nested number lists of the same shape. */
function worst(x: unknown, y: unknown, where: string): number {
  if (typeof y === 'number') {
    assert.equal(typeof x, 'number', `${where}: ${JSON.stringify(x)} is not a number`);
    return Math.abs((x as number) - y) / Math.max(1, Math.abs(y));
  }
  assert.ok(Array.isArray(x) && Array.isArray(y) && x.length === y.length, `${where}: lengths differ`);
  return (y as unknown[]).reduce<number>((w, v, i) => Math.max(w, worst((x as unknown[])[i], v, `${where}[${i}]`)), 0);
}

/** What Node computes: each model's LiveRun played `steps` steps from the same seed and target. */
async function nodeRuns(data: LivePageData, target: number, steps: number): Promise<LiveRun[]> {
  const runs: LiveRun[] = [];
  for (const entry of data.models) {
    const run = new LiveRun(restoreLiveModel(entry), entry, await makeEnv(entry.env), { target, seed: data.seed });
    for (let t = 0; t < steps && !run.done; t++) await run.advance();
    runs.push(run);
  }
  return runs;
}

function compare(played: PlayedReport[], runs: LiveRun[], label: string): void {
  runs.forEach((run, i) => {
    const p = played[i];
    const name = `${label} ${p.model}`;
    assert.equal(p.actions.length, run.steps.length, `${name}: steps played`);
    const actions = run.steps.map((s) => Array.from(s.action));
    const means = run.steps.map((s) =>
      Object.fromEntries(Object.entries(s.means).map(([k, ls]) => [k, ls.map((m) => [m.R, m.s, m.a])])),
    );
    const wa = worst(p.actions, actions, `${name} actions`);
    assert.ok(wa <= TOL, `${name}: actions differ from Node by ${wa}`);
    for (const tap of Object.keys(means[0])) {
      const wm = worst(
        p.means.map((m) => m[tap]),
        means.map((m) => m[tap]),
        `${name} ${tap}`,
      );
      assert.ok(wm <= TOL, `${name}: ${tap} token-type means differ from Node by ${wm}`);
    }
  });
}

async function compareShown(shown: ShownStep[], runs: LiveRun[], label: string): Promise<void> {
  for (const [i, s] of shown.entries()) {
    const insight = await runs[i].insightAt(s.step);
    const values = insight.taps[s.tap]?.[s.layer];
    assert.ok(values && s.values, `${label} ${s.model}: no ${s.tap} tap at layer ${s.layer}`);
    const w = Math.max(
      worst(s.values, Array.from(values), `${label} ${s.model} heatmap`),
      worst(s.gradientNorms, Array.from(insight.gradientNorms), `${label} ${s.model} gradient norms`),
    );
    assert.ok(w <= TOL, `${label} ${s.model}: heatmap or gradient norms differ from Node by ${w}`);
  }
}

before(() => initBackend({ backend: 'wasm', log: false }));

test(
  'live explorer: offline in Chromium, 50 steps equal the Node evaluator, RTG target and layer change',
  { timeout: 180_000 },
  async () => {
    assert.ok(fs.existsSync(COMMITTED), `${COMMITTED} must exist: build it with tools/live/build-page.ts`);
    const data = readLivePageData(COMMITTED);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-live-'));
    const before = process.env.DMM_FIGURES_DIR;
    process.env.DMM_FIGURES_DIR = dir;
    const browser = await launchChromium();
    try {
      const file = rebuildLivePage(data.models, 'smoke');
      // The wasm backend, as in Node: the same kernels give the same float32 sums.
      const { page, errors } = await openLivePage(browser, file, { query: '?backend=wasm' });
      assert.equal(await page.evaluate(() => (globalThis as unknown as W).dmmLive!.backend), 'wasm');

      // The page opens on step 0; play 50 more.
      await page.evaluate((n) => (globalThis as unknown as W).dmmLive!.play(n), STEPS);
      const runs = await nodeRuns(data, data.target, STEPS + 1);
      compare(await page.evaluate(() => (globalThis as unknown as W).dmmLive!.played()), runs, `target ${data.target}`);
      await compareShown(await page.evaluate(() => (globalThis as unknown as W).dmmLive!.shown()), runs, 'last step');

      // A lower RTG target restarts both episodes from the same seed: a different episode, still Node's.
      const target = data.target / 2;
      await page.evaluate((v) => (globalThis as unknown as W).dmmLive!.setTarget(v), target);
      await page.evaluate(() => (globalThis as unknown as W).dmmLive!.play(5));
      const again = await nodeRuns(data, target, 6);
      const played = await page.evaluate(() => (globalThis as unknown as W).dmmLive!.played());
      compare(played, again, `target ${target}`);
      assert.notDeepEqual(played[0].actions[5], Array.from(runs[0].steps[5].action), 'the target changed nothing');

      // Another layer: the heatmap shows that layer's tap.
      await page.evaluate(() => (globalThis as unknown as W).dmmLive!.setLayer(2));
      const shown = await page.evaluate(() => (globalThis as unknown as W).dmmLive!.shown());
      assert.ok(shown.every((s) => s.layer === 2));
      await compareShown(shown, again, 'layer 3');

      const png = await page.screenshot({ path: path.join(dir, 'live-explorer.png'), fullPage: true });
      assert.ok(png.length > 50_000, `screenshot of ${png.length} bytes`);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      if (before === undefined) delete process.env.DMM_FIGURES_DIR;
      else process.env.DMM_FIGURES_DIR = before;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);
