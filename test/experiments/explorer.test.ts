/**
 * The offline heatmap explorer (figures/05-heatmap-explorer.html) loads in headless Chromium, draws a
 * heatmap, and switches model, layer, tap and step without page errors. The activations are random
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
  'heatmap explorer loads offline and switches layers, taps, steps and models without errors',
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
      const spec = explorerPage([randomSet('dmamba', 3, 16, rng), randomSet('dmm', 3, 8, rng)], 'smoke', []);
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
      await page.waitForSelector('#heat .main-svg');
      const title = () => page.$eval('#heat .gtitle', (e) => e.textContent ?? '');
      assert.match(await title(), /Decision Mamba · layer 1 · scanInput · step 5/);
      await page.selectOption('#layer', '2');
      assert.match(await title(), /layer 3/);
      await page.selectOption('#tap', 'scanOutput');
      await page.selectOption('#step', '1');
      assert.match(await title(), /layer 3 · scanOutput · step 11/);
      await page.selectOption('#model', '1');
      assert.match(await title(), /^DMM · layer 3 · scanOutput · step 11/);
      const taps = await page.$$eval('#tap option', (os) => os.map((o) => (o as unknown as { value: string }).value));
      assert.deepEqual(taps, ['mixerInput', 'localMixerOutput', 'scanInput', 'scanOutput']);
      await page.selectOption('#tap', 'localMixerOutput');
      assert.match(await title(), /localMixerOutput/);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      if (before === undefined) delete process.env.DMM_FIGURES_DIR;
      else process.env.DMM_FIGURES_DIR = before;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);
