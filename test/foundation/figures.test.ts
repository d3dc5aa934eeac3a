import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { closeFigures, listFigures, saveFigure, saveStandalonePage, writeGallery } from '../../src/figures';
import { checkChromium } from '../../src/figures/render';

let dir: string;
const savedEnv = { figures: process.env.DMM_FIGURES_DIR, chromium: process.env.CHROMIUM_PATH };

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-figures-'));
  process.env.DMM_FIGURES_DIR = dir;
});

after(async () => {
  await closeFigures();
  fs.rmSync(dir, { recursive: true, force: true });
  if (savedEnv.figures === undefined) delete process.env.DMM_FIGURES_DIR;
  else process.env.DMM_FIGURES_DIR = savedEnv.figures;
  if (savedEnv.chromium === undefined) delete process.env.CHROMIUM_PATH;
  else process.env.CHROMIUM_PATH = savedEnv.chromium;
});

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function line(name: string, ys: number[]) {
  return {
    name,
    data: [{ type: 'scatter' as const, mode: 'lines' as const, x: ys.map((_, i) => i), y: new Float32Array(ys) }],
    layout: { title: { text: `Title of ${name}` } },
    caption: 'A test line',
    notebook: 'notebooks/00-environment.ipynb',
    scale: 'smoke',
    seeds: [3, 4],
    steps: [6],
    dataSource: 'synthetic',
    backend: 'cpu',
  };
}

test('saveFigure writes html, png and svg, and the gallery lists it', async () => {
  const out = await saveFigure(line('00-test-line', [1, 3, 2, 5]));
  const png = fs.readFileSync(out.png);
  assert.ok(png.subarray(0, 8).equals(PNG_SIGNATURE), 'PNG signature');
  assert.ok(png.length > 5000, `a drawn PNG, got ${png.length} bytes`);
  // Chromium drew at devicePixelRatio 2: width 760 -> 1520 pixels (IHDR width at byte 16).
  assert.equal(png.readUInt32BE(16), 1520);
  const svg = fs.readFileSync(out.svg, 'utf8');
  assert.match(svg, /^<svg[\s\S]*<\/svg>$/);
  assert.match(svg, /Title of 00-test-line/);
  const html = fs.readFileSync(out.html, 'utf8');
  assert.match(html, /<script src="assets\/plotly-[\d.]+\.min\.js"><\/script>/);
  assert.doesNotMatch(html, /cdn\.plot\.ly|https?:\/\/[^"]*plotly/);
  assert.ok(html.length < 20000, `no embedded Plotly in the page, got ${html.length} bytes`);
  assert.match(html, /"y":\[1,3,2,5\]/, 'typed arrays are written as plain arrays');
  const asset = fs.readdirSync(path.join(dir, 'assets'));
  assert.equal(asset.length, 1);
  assert.ok(fs.statSync(path.join(dir, 'assets', asset[0])).size > 1e6, 'the shared Plotly copy');
  const today = new Date().toISOString().slice(0, 10);
  assert.equal(
    out.caption,
    `A test line. Scale: smoke. Training steps: 6 per run. Seeds: 3, 4 (n = 2). Data: synthetic. Backend: cpu. Date: ${today}.`,
  );
  const index = fs.readFileSync(path.join(dir, 'index.html'), 'utf8');
  assert.match(index, /<img src="00-test-line\.png"/);
  assert.match(index, /href="\.\.\/notebooks\/00-environment\.ipynb"/);
  // The gallery caption says what the figure shows; how it was computed sits in a details line.
  assert.match(index, /<br>A test line\.\n<details><summary>details<\/summary>Scale: smoke\. .*Seeds: 3, 4 \(n = 2\)/);
});

test('every PNG and SVG carries a footer with scale, steps, seeds, data and backend', async () => {
  const out = await saveFigure({ ...line('00-footer', [1, 2]), seeds: [12], steps: [500, 500] });
  const svg = fs.readFileSync(out.svg, 'utf8');
  const footer = [...svg.matchAll(/<text [^>]*fill="#555">([^<]*)<\/text>/g)].map((m) => m[1]).join(' ');
  assert.equal(
    footer,
    `smoke scale · 500 training steps per run · n = 1 seed (12) · data: synthetic · backend: cpu · ${new Date().toISOString().slice(0, 10)}`,
  );
  assert.match(svg, /^<svg[^>]*height="(\d+)"[^>]*viewBox="0 0 760 \1"/, 'height and viewBox grow together');
  const height = Number(/^<svg[^>]*height="(\d+)"/.exec(svg)![1]);
  assert.ok(height > 460, `the footer band lies below the 460 px figure, got ${height}`);
  // The PNG (device-pixel ratio 2) holds the same band: IHDR height at byte 20.
  assert.equal(fs.readFileSync(out.png).readUInt32BE(20), 2 * height);
  // Nine datasets: the footer counts them (the caption keeps every checksum), and wraps at the figure's width.
  const nine = Array.from({ length: 9 }, (_, i) => `kit-generated dataset-${i} (sha256 0123abc${i})`).join(', ');
  const long = await saveFigure({ ...line('00-footer-long', [1, 2]), width: 400, dataSource: nine });
  const longSvg = fs.readFileSync(long.svg, 'utf8');
  const texts = [...longSvg.matchAll(/<text [^>]*fill="#555">([^<]*)<\/text>/g)].map((m) => m[1]);
  assert.match(texts.join(' '), /data: 9 datasets \(kit-generated\), sha256 checksums in the caption/);
  assert.ok(texts.length >= 2, `the footer wraps on a 400 px figure, got ${texts.length} line(s)`);
  assert.ok(long.caption.includes('dataset-8 (sha256 0123abc8)'), 'the caption keeps every checksum');
  for (const name of ['00-footer', '00-footer-long'])
    for (const ext of ['html', 'png', 'svg']) fs.rmSync(path.join(dir, `${name}.${ext}`));
});

test('a second figure joins the gallery; the gallery is rebuilt from the pages on disk', async () => {
  await saveFigure({ ...line('01-second', [2, 1]), notebook: '01-datasets' });
  assert.deepEqual(
    listFigures(dir).map((m) => m.name),
    ['00-test-line', '01-second'],
  );
  fs.rmSync(path.join(dir, '01-second.html'));
  assert.equal(writeGallery(dir), 1);
  assert.doesNotMatch(fs.readFileSync(path.join(dir, 'index.html'), 'utf8'), /01-second/);
});

test('a failing render writes nothing and leaves the previous figure intact', async () => {
  const before = Object.fromEntries(
    ['html', 'png', 'svg'].map((ext) => [ext, fs.readFileSync(path.join(dir, `00-test-line.${ext}`))]),
  );
  const listing = fs.readdirSync(dir).sort();
  await closeFigures();
  // A "browser" that exits at once: the launch fails after the caption and page were built.
  const fake = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-fake-')), 'chromium.sh');
  fs.writeFileSync(fake, '#!/bin/sh\nexit 1\n', { mode: 0o755 });
  process.env.CHROMIUM_PATH = fake;
  try {
    await assert.rejects(saveFigure(line('00-test-line', [9, 9, 9])));
    await assert.rejects(saveFigure(line('02-new', [1])));
  } finally {
    delete process.env.CHROMIUM_PATH;
  }
  assert.deepEqual(fs.readdirSync(dir).sort(), listing, 'no new, partial or temporary files');
  for (const ext of ['html', 'png', 'svg']) {
    assert.ok(fs.readFileSync(path.join(dir, `00-test-line.${ext}`)).equals(before[ext]), `${ext} unchanged`);
  }
  fs.rmSync(path.dirname(fake), { recursive: true, force: true });
});

test('a missing Chromium is one line naming the fix', async () => {
  process.env.CHROMIUM_PATH = '/nonexistent/chromium';
  try {
    await assert.rejects(saveFigure(line('03-x', [1])), (err: Error) => {
      assert.match(
        err.message,
        /^Error in saveFigure: Chromium must exist at \/nonexistent\/chromium.*apt-get install -y chromium/,
      );
      return true;
    });
  } finally {
    delete process.env.CHROMIUM_PATH;
  }
});

test('a CHROMIUM_PATH that is not a browser: one line at the first figure and in the notebook runner preflight', async () => {
  await closeFigures();
  for (const notBrowser of ['/bin/true', '/bin/ls']) {
    process.env.CHROMIUM_PATH = notBrowser;
    try {
      await assert.rejects(saveFigure(line('03-x', [1])), (err: Error) => {
        assert.match(
          err.message,
          new RegExp(`^Error in saveFigure: CHROMIUM_PATH must name a Chromium browser, got ${notBrowser}, which `),
        );
        assert.match(err.message, /apt-get install -y chromium/);
        assert.ok(!err.message.includes('\n'), err.message);
        return true;
      });
    } finally {
      delete process.env.CHROMIUM_PATH;
    }
    assert.throws(
      () => checkChromium('run-notebooks', { CHROMIUM_PATH: notBrowser }),
      /^KitError: Error in run-notebooks: CHROMIUM_PATH must name a Chromium browser/,
    );
  }
  assert.equal(checkChromium('run-notebooks', {}), '/usr/bin/chromium');
});

test('saveFigure rejects bad input before rendering', async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ name: 'Bad Name' }, /name must be kebab-case/],
    [{ name: 'index' }, /name must be kebab-case/],
    [{ scale: 'huge' }, /scale must be one of smoke, notebook, quick, paper, got "huge"/],
    [{ notebook: 'environment' }, /notebook must be a notebook name like '04-size-vs-score', got 'environment'/],
    [{ caption: '  ' }, /caption must say what the figure shows/],
    [{ seeds: [1.5] }, /seeds must be integers/],
    [{ steps: [-1] }, /steps must be non-negative integers/],
    [{ captoin: 'x' }, /unknown option 'captoin'\. Did you mean 'caption'\?/],
    [{ width: 10 }, /width and height must be integers in \[100, 4000\]/],
  ];
  for (const [patch, pattern] of cases) {
    await assert.rejects(
      saveFigure({ ...line('04-ok', [1]), ...patch } as Parameters<typeof saveFigure>[0]),
      (err: Error) => {
        assert.equal(err.name, 'KitError');
        assert.match(err.message, pattern);
        return true;
      },
    );
  }
  assert.ok(!fs.existsSync(path.join(dir, '04-ok.html')));
});

test('saveStandalonePage writes an offline page on the shared Plotly copy, listed in the gallery', () => {
  const file = saveStandalonePage({
    name: '05-explorer',
    title: 'Explorer',
    caption: 'Pick a layer',
    notebook: '05-activation-heatmaps',
    scale: 'quick',
    body: '<div id="plot"></div>',
    script: "Plotly.newPlot('plot', [{ type: 'heatmap', z: DMM_DATA.z }]);",
    data: { z: [new Float32Array([1, 2]), new Float32Array([3, 4])] },
  });
  const html = fs.readFileSync(file, 'utf8');
  assert.match(html, /<script src="assets\/plotly-[\d.]+\.min\.js"><\/script>/);
  assert.match(html, /var DMM_DATA = \{"z":\[\[1,2\],\[3,4\]\]\};/);
  assert.ok(listFigures(dir).some((m) => m.name === '05-explorer' && m.kind === 'page'));
  assert.match(fs.readFileSync(path.join(dir, 'index.html'), 'utf8'), /href="05-explorer\.html"/);
});
