/**
 * The live explorer's two screenshots in figures/live-explorer-*.png (notebook 05 embeds the first): the committed page, opened
 * offline in headless Chromium, after playing STEPS steps at the primary RTG target (layer 1, scan output, fixed
 * colours), then at half the target on layer 3 with auto colours, scrubbed back to the middle of the episode.
 * Full-page shots, so the caption (scale, training steps, seed, data) is in the PNG.
 *
 * Usage: node --import tsx tools/live/screenshots.ts [--steps 120]
 */
import * as path from 'path';
import { launchChromium, openLivePage, type LiveWindow as W } from '../../src/live/browser';
import { figuresDir } from '../../src/figures/paths';

const i = process.argv.indexOf('--steps');
const STEPS = i >= 0 ? Number(process.argv[i + 1]) : 120;

async function main(): Promise<void> {
  const dir = figuresDir();
  const browser = await launchChromium();
  try {
    const { page, errors } = await openLivePage(browser, path.join(dir, 'live-explorer.html'), { height: 1250 });
    await page.evaluate((n) => (globalThis as unknown as W).dmmLive!.play(n), STEPS);
    // Not live-explorer.png: saveStandalonePage removes a page's same-named images when it rewrites the page.
    const first = path.join(dir, 'live-explorer-target-3600.png');
    await page.screenshot({ path: first, fullPage: true });
    await page.evaluate(async (n) => {
      const live = (globalThis as unknown as W).dmmLive!;
      await live.setTarget(1800);
      await live.setLayer(2);
      await live.setRange('auto');
      await live.play(n);
      await live.scrub(Math.floor(n / 2));
    }, STEPS);
    const second = path.join(dir, 'live-explorer-target-1800-layer-3.png');
    await page.screenshot({ path: second, fullPage: true });
    if (errors.length)
      throw new Error(`Error in screenshots: the page must run without errors, got ${errors.join('; ')}`);
    console.log(`wrote ${first}\nwrote ${second}`);
  } finally {
    await browser.close();
  }
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
