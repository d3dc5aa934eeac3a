/**
 * Static PNG and SVG of a Plotly figure, drawn by headless Chromium through playwright-core.
 *
 * Plotly only runs in a browser (plain Node fails with `self is not defined`), so one system
 * Chromium (`CHROMIUM_PATH` or /usr/bin/chromium; never `npx playwright install`) is launched per
 * process and reused across figures, with Plotly loaded once into one page. The browser closes after
 * a short idle time, because an open browser keeps Node's event loop alive; scripts that want to exit
 * at once call `closeRenderer()`.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import type { Browser, Page } from 'playwright-core';
import { check, KitError } from '../util/check';

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';
/** Seconds of inactivity after which the shared browser closes (a notebook's next figure relaunches it). */
const IDLE_CLOSE_MS = 4000;

export interface RenderRequest {
  /** The figure as JSON text (typed arrays already turned into plain arrays). */
  figureJson: string;
  width: number;
  height: number;
  /** Device-pixel ratio of the PNG. */
  scale: number;
  /** Footer parts (`notebook scale`, `n = 1 seed (12)`, …), drawn below the figure joined by `·`. */
  footer?: readonly string[];
}

export interface RenderedImages {
  png: Buffer;
  svg: string;
}

/** The Chromium binary to use, or a one-line error naming the fix. */
export function chromiumPath(fn = 'chromiumPath', env: NodeJS.ProcessEnv = process.env): string {
  const file = env.CHROMIUM_PATH || DEFAULT_CHROMIUM;
  check(
    fs.existsSync(file),
    () =>
      `Error in ${fn}: Chromium must exist at ${file} (CHROMIUM_PATH or ${DEFAULT_CHROMIUM}), got no such file. ` +
      `Install it with: apt-get install -y chromium (or set CHROMIUM_PATH to a Chromium binary).`,
  );
  return file;
}

const answered = new Set<string>();

/**
 * The Chromium binary, checked (once per process) to answer `--version` as a Chromium: a CHROMIUM_PATH
 * naming anything else would otherwise fail at the first figure with Playwright's launch log.
 */
export function checkChromium(fn = 'checkChromium', env: NodeJS.ProcessEnv = process.env): string {
  const file = chromiumPath(fn, env);
  if (answered.has(file)) return file;
  const r = spawnSync(file, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  const said = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0];
  const what = r.error
    ? `which does not start (${r.error.message})`
    : r.status !== 0
      ? `which exits with ${r.status ?? r.signal} on --version`
      : `which answers ${JSON.stringify(said.slice(0, 80))} to --version`;
  check(
    r.status === 0 && /chrom/i.test(said),
    () =>
      `Error in ${fn}: CHROMIUM_PATH must name a Chromium browser, got ${file}, ${what}. ` +
      `Install it with: apt-get install -y chromium (or set CHROMIUM_PATH to a Chromium binary).`,
  );
  answered.add(file);
  return file;
}

// Runs inside the page: draws the figure into a fresh div, exports PNG and SVG, then frees it. The footer
// (what the numbers are: scale, steps, seeds, data, backend) is drawn in a band below the figure, outside
// Plotly's layout, so it can never overlap axes, legends or automargins; the band's text wraps at the
// figure's width, measured with the same font the SVG names.
const PAGE_SCRIPT = `
const FOOTER_FONT = '"Open Sans", verdana, arial, sans-serif';
const FOOTER_SIZE = 10, FOOTER_LINE = 13, FOOTER_PAD = 8;
function footerLines(ctx, parts, maxWidth) {
  ctx.font = FOOTER_SIZE + 'px ' + FOOTER_FONT;
  const words = parts.join(' \u00b7 ').split(' ');
  const lines = [];
  let cur = '';
  for (const w of words) {
    const next = cur ? cur + ' ' + w : w;
    if (cur && ctx.measureText(next).width > maxWidth) { lines.push(cur); cur = w; } else cur = next;
  }
  if (cur) lines.push(cur);
  return lines;
}
function loadImage(src) {
  return new Promise((ok, fail) => { const im = new Image(); im.onload = () => ok(im); im.onerror = fail; im.src = src; });
}
function escapeXml(t) { return t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'); }
globalThis.__dmmRender = async function (req) {
  const fig = JSON.parse(req.figureJson);
  const div = document.createElement('div');
  div.style.width = req.width + 'px';
  div.style.height = req.height + 'px';
  document.body.appendChild(div);
  try {
    const layout = Object.assign({}, fig.layout, { width: req.width, height: req.height });
    await Plotly.newPlot(div, fig.data, layout, { staticPlot: true });
    let png = await Plotly.toImage(div, { format: 'png', width: req.width, height: req.height, scale: req.scale });
    let svg = decodeURIComponent((await Plotly.toImage(div, { format: 'svg', width: req.width, height: req.height })).replace(/^[^,]*,/, ''));
    const parts = req.footer || [];
    if (parts.length) {
      const canvas = document.createElement('canvas');
      const ctx = canvas.getContext('2d');
      const lines = footerLines(ctx, parts, req.width - 2 * FOOTER_PAD);
      const band = lines.length * FOOTER_LINE + FOOTER_PAD;
      const H = req.height + band;
      canvas.width = req.width * req.scale;
      canvas.height = H * req.scale;
      ctx.fillStyle = '#fff';
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.drawImage(await loadImage(png), 0, 0);
      ctx.scale(req.scale, req.scale);
      ctx.font = FOOTER_SIZE + 'px ' + FOOTER_FONT;
      ctx.fillStyle = '#555';
      ctx.textBaseline = 'alphabetic';
      lines.forEach((l, i) => ctx.fillText(l, FOOTER_PAD, req.height + (i + 1) * FOOTER_LINE - 2));
      png = canvas.toDataURL('image/png');
      const text = lines.map((l, i) =>
        '<text x="' + FOOTER_PAD + '" y="' + (req.height + (i + 1) * FOOTER_LINE - 2) + '" font-family="' + escapeXml(FOOTER_FONT).replace(/"/g, '&quot;') +
        '" font-size="' + FOOTER_SIZE + '" fill="#555">' + escapeXml(l) + '</text>').join('');
      svg = svg
        .replace(/^(<svg[^>]*?)height="[^"]*"/, '$1height="' + H + '"')
        .replace(/viewBox="0 0 ([\\d.]+) [\\d.]+"/, 'viewBox="0 0 $1 ' + H + '"')
        .replace(/<\\/svg>$/, '<g class="dmm-footer"><rect x="0" y="' + req.height + '" width="' + req.width + '" height="' + band + '" fill="#fff"/>' + text + '</g></svg>');
    }
    return { png: png.slice(png.indexOf(',') + 1), svg };
  } finally {
    Plotly.purge(div);
    div.remove();
  }
};`;

interface Session {
  browser: Browser;
  page: Page;
  plotlyFile: string;
}

let session: Promise<Session> | undefined;
let idleTimer: NodeJS.Timeout | undefined;
let busy = 0;

async function openSession(plotlyFile: string): Promise<Session> {
  const executablePath = checkChromium('saveFigure');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  let browser: Browser;
  try {
    browser = await chromium.launch({
      executablePath,
      // Chromium refuses to run as root with its sandbox on; the kit only renders its own pages.
      args: [...(root ? ['--no-sandbox'] : []), '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
  } catch (err) {
    // Playwright's message carries its whole launch log; its first line says what happened.
    throw new KitError(
      `Error in saveFigure: Chromium at ${executablePath} must start headless, got: ${(err as Error).message.split('\n')[0]}. Check that it runs (${executablePath} --headless --version), or set CHROMIUM_PATH to another Chromium.`,
    );
  }
  try {
    const page = await browser.newPage();
    await page.setContent('<!doctype html><html><head><meta charset="utf-8"></head><body></body></html>');
    await page.addScriptTag({ path: plotlyFile });
    await page.addScriptTag({ content: PAGE_SCRIPT });
    return { browser, page, plotlyFile };
  } catch (err) {
    await browser.close().catch(() => undefined);
    throw err;
  }
}

function scheduleClose(): void {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = setTimeout(() => {
    if (busy === 0) void closeRenderer();
  }, IDLE_CLOSE_MS);
}

/** Renders PNG and SVG in memory; nothing touches the disk here, so a failure leaves no partial file. */
export async function renderImages(req: RenderRequest, plotlyFile: string): Promise<RenderedImages> {
  busy++;
  if (idleTimer) clearTimeout(idleTimer);
  try {
    if (!session) {
      session = openSession(plotlyFile);
      session.catch(() => (session = undefined));
    }
    const { page } = await session;
    const out = await page.evaluate(
      (r) =>
        (globalThis as unknown as { __dmmRender(x: unknown): Promise<{ png: string; svg: string }> }).__dmmRender(r),
      req,
    );
    check(
      out.png.length > 0 && out.svg.startsWith('<svg'),
      () => 'Error in saveFigure: Plotly returned an empty image.',
    );
    return { png: Buffer.from(out.png, 'base64'), svg: out.svg };
  } finally {
    busy--;
    scheduleClose();
  }
}

/** Closes the shared browser now (the next render relaunches it). */
export async function closeRenderer(): Promise<void> {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = undefined;
  const s = session;
  session = undefined;
  if (s) {
    const opened = await s.catch(() => undefined);
    await opened?.browser.close().catch(() => undefined);
  }
}
