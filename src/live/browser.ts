/**
 * Opens a live explorer page in headless Chromium (the kit's playwright-core route, src/figures/render.ts),
 * offline: every request that is not a local file is refused and reported. Returns the page once its handle
 * (`window.dmmLive`) is up, with the errors it raised so far; the test, the frame-rate bench and the
 * screenshot tool drive the handle through `page.evaluate`.
 */
import type { Browser, Page } from 'playwright-core';
import { checkChromium } from '../figures/render';
import type { LiveHandle } from './page';

/** How page.evaluate callbacks reach the handle. */
export type LiveWindow = { dmmLive?: LiveHandle; dmmLiveError?: string };

/** Headless Chromium; `args` adds flags (the bench passes tools/webgpu's SwiftShader WebGPU flags). */
export async function launchChromium(args: readonly string[] = []): Promise<Browser> {
  const executablePath = checkChromium('launchChromium');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  // Chromium refuses to run as root with its sandbox on; the kit only opens its own pages.
  return chromium.launch({ executablePath, args: [...(root ? ['--no-sandbox'] : []), ...args] });
}

/** Opens `file` (query: e.g. `?backend=wasm`) and waits for the explorer to start; `errors` keeps collecting. */
export async function openLivePage(
  browser: Browser,
  file: string,
  opts: { query?: string; width?: number; height?: number } = {},
): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: opts.width ?? 1400, height: opts.height ?? 1200 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.route(/^(?!file:)/, (route) => {
    errors.push(`network request ${route.request().url()}`);
    return route.abort();
  });
  await page.goto(`file://${file}${opts.query ?? ''}`);
  await page.waitForFunction(
    () => (globalThis as unknown as LiveWindow).dmmLive || (globalThis as unknown as LiveWindow).dmmLiveError,
    null,
    { timeout: 60_000 },
  );
  const failed = await page.evaluate(() => (globalThis as unknown as LiveWindow).dmmLiveError ?? null);
  if (failed)
    throw new Error(`Error in openLivePage: the explorer must start, got "${failed}" (${errors.join('; ')}).`);
  return { page, errors };
}
