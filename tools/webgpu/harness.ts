/**
 * Runs the WGSL selective-scan kernels in headless Chromium's emulated WebGPU adapter (SwiftShader):
 * bundles entry.ts for the browser with esbuild, serves it from http://127.0.0.1, launches Debian's
 * chromium through playwright-core with SwiftShader's WebGPU flags (below), and returns `scanCheck(cases)`.
 * CLI: `node --import tsx tools/webgpu/harness.ts` prints the results of a default set of cases.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import type { BrowserCase } from './entry';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-unsafe-swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--enable-features=Vulkan',
  '--disable-gpu-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

export interface BrowserResult {
  backend: string;
  defaultPath: string;
  adapter: string;
  logs: string[];
  results: (BrowserCase & { errors: Record<string, number>; ms: number })[];
}

export async function runInChromium(
  cases: BrowserCase[],
  executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium',
): Promise<BrowserResult> {
  const { out, adapter, logs } = await runInPage<Omit<BrowserResult, 'adapter' | 'logs'>>(
    join(__dirname, 'entry.ts'),
    'scanCheck',
    cases,
    executablePath,
  );
  return { ...out, adapter, logs };
}

/**
 * Bundles `entry` for the browser, serves it from http://127.0.0.1, opens it in headless Chromium with an
 * emulated WebGPU adapter, and returns `globalThis[fn](arg)` from the page (arg and result as JSON).
 */
export async function runInPage<T>(
  entry: string,
  fn: string,
  arg: unknown,
  executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium',
): Promise<{ out: T; adapter: string; logs: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'dmm-webgpu-'));
  buildSync({
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    outfile: join(dir, 'bundle.js'),
    logLevel: 'warning',
    external: ['webgpu'],
    define: { 'process.env.DMM_SCAN': '""' },
  });
  const files: Record<string, [string, string]> = {
    '/': ['text/html', '<!doctype html><meta charset="utf-8"><script src="/bundle.js"></script>'],
    '/bundle.js': ['text/javascript', readFileSync(join(dir, 'bundle.js'), 'utf8')],
  };
  const server = createServer((req, res) => {
    const f = files[req.url ?? '/'];
    res.writeHead(f ? 200 : 404, { 'content-type': f ? f[0] : 'text/plain' });
    res.end(f ? f[1] : 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });
  try {
    const page = await browser.newPage();
    const logs: string[] = [];
    page.on('console', (m) => logs.push(m.text()));
    page.on('pageerror', (e) => logs.push(String(e)));
    await page.goto(`http://127.0.0.1:${port}/`);
    const adapter = await page.evaluate(async () => {
      const gpu = (
        (globalThis as unknown as { navigator: unknown }).navigator as {
          gpu?: { requestAdapter(): Promise<{ info?: { vendor?: string; architecture?: string } } | null> };
        }
      ).gpu;
      const a = gpu ? await gpu.requestAdapter() : null;
      return a ? `${a.info?.vendor ?? ''} ${a.info?.architecture ?? ''}`.trim() || 'adapter' : 'none';
    });
    try {
      const out = (await page.evaluate(
        ([name, a]) => (globalThis as unknown as Record<string, (x: unknown) => Promise<unknown>>)[name as string](a),
        [fn, arg] as const,
      )) as T;
      return { out, adapter, logs };
    } catch (err) {
      throw new Error(`${(err as Error).message}\nbrowser console:\n${logs.join('\n')}`);
    }
  } finally {
    await browser.close();
    server.close();
  }
}

if (require.main === module) {
  const dims = { batch: 2, dim: 5, len: 7, nState: 16 };
  runInChromium([{ path: 'fused', dims, seed: 1, opts: {} }]).then(
    (r) => console.log(JSON.stringify(r, null, 1)),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
