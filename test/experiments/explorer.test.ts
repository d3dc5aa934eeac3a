/**
 * The offline heatmap explorer (figures/05-heatmap-explorer.html) loads in headless Chromium, draws two
 * models side by side with a per-token profile under each heatmap, explains the chosen tap, toggles the
 * colour range, and switches model, layer, tap and step without page errors. The activations are random
 * (seeded), so the test exercises the page, not a model.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { explorerPage, type TapSet } from '../../src/experiments/activation-heatmaps';
import { saveStandalonePage } from '../../src/figures';
import { Rng } from '../../src/util/rng';

function randomSet(model: string, layers: number, channels: number, rng: Rng): TapSet {
  const K = 8;
  const taps: TapSet['taps'] = {};
  for (const tap of model === 'dmm'
    ? ['mixerInput', 'localMixerOutput', 'scanInput', 'scanOutput']
    : ['scanInput', 'scanOutput'])
    taps[tap] = [0, 1].map(() =>
      Array.from({ length: layers }, () =>
        Array.from({ length: 3 * K }, () =>
          Array.from({ length: channels }, () => Math.round((rng.uniform() * 10 - 5) * 100) / 100),
        ),
      ),
    );
  return { model, K, layers, steps: [5, 11], episode: { length: 12, ret: 34.5 }, taps };
}

test(
  'heatmap explorer: two panels, tap explanations, colour-range toggle, token profile, offline and error-free',
  { timeout: 120_000 },
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-explorer-'));
    const before = process.env.DMM_FIGURES_DIR;
    process.env.DMM_FIGURES_DIR = dir;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { chromium } = require('playwright-core') as typeof import('playwright-core');
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    try {
      const rng = new Rng(5);
      const sets = [randomSet('dmamba', 3, 16, rng), randomSet('dmm', 3, 8, rng)];
      const spec = explorerPage(sets, 'smoke', []);
      const file = saveStandalonePage(spec);
      assert.ok(fs.existsSync(file));
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      // Offline: any request that is not a local file fails the test.
      await page.route(/^(?!file:)/, (route) => {
        errors.push(`network request ${route.request().url()}`);
        return route.abort();
      });
      await page.goto('file://' + file);
      await page.waitForSelector('#heat-1 .main-svg');
      const title = (i: number) => page.$eval(`#heat-${i} .gtitle`, (e) => e.textContent ?? '');
      // Two models side by side, each starting at layer 1, the scan output and the episode's last kept step.
      assert.match(await title(0), /^Decision Mamba · layer 1 · scan output y · step 11/);
      assert.match(await title(1), /^Decision MetaMamba · layer 1 · scan output y · step 11/);
      await page.selectOption('#layer-0', '2');
      assert.match(await title(0), /layer 3/);
      await page.selectOption('#tap-0', 'scanInput');
      await page.selectOption('#tap-0', 'scanOutput');
      await page.selectOption('#step-0', '0');
      assert.match(await title(0), /layer 3 · scan output y · step 5/);
      assert.match(await title(1), /layer 1 · scan output y · step 11/, 'the other panel keeps its choice');
      // One line explains the chosen tap; the colorbar has a title; a per-token profile sits under the heatmap.
      assert.match(await page.$eval('#tapinfo-0', (e) => e.textContent ?? ''), /^scan output y: the scan's output y/);
      assert.equal(await page.$eval('#heat-0 .cbtitle', (e) => e.textContent), 'activation');
      const bars = await page.$$eval('#profile-0 .bars .point', (ps) => ps.length);
      assert.equal(bars, 24, 'one bar per token');
      // The profile is the mean |activation| of each token over channels, from the unpacked values.
      // Plotly keeps a plot's traces on its element (gd.data).
      type Trace = { y: number[]; zmax?: number; zauto?: boolean };
      const traceOf = (id: string) => page.$eval(id, (e) => (e as unknown as { data: Trace[] }).data[0]);
      const firstBar = (await traceOf('#profile-0')).y[0];
      const tok = sets[0].taps.scanOutput[0][2][0];
      const expected = tok.reduce((a, v) => a + Math.abs(v), 0) / tok.length;
      assert.ok(Math.abs(firstBar - expected) < 0.05, `profile ${firstBar} vs ${expected}`);
      // Fixed range by default; auto follows the heatmap's own values.
      const zmax = async () => {
        const t = await traceOf('#heat-0');
        return t.zauto ? 'auto' : t.zmax;
      };
      assert.equal(await zmax(), 5);
      await page.selectOption('#range', 'auto');
      assert.equal(await zmax(), 'auto');
      await page.selectOption('#model-0', '1');
      assert.match(await title(0), /^Decision MetaMamba · layer 3 · scan output y · step 5/);
      const taps = await page.$$eval('#tap-0 option', (os) => os.map((o) => (o as unknown as { value: string }).value));
      assert.deepEqual(taps, ['mixerInput', 'localMixerOutput', 'scanInput', 'scanOutput']);
      await page.selectOption('#tap-0', 'localMixerOutput');
      assert.match(await title(0), /DSM output/);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      if (before === undefined) delete process.env.DMM_FIGURES_DIR;
      else process.env.DMM_FIGURES_DIR = before;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);
