/**
 * The figure pipeline: one call takes a Plotly figure and writes, into the figure folder,
 *   NAME.html  interactive and offline, loading the one shared local Plotly copy (assets/),
 *   NAME.png   and NAME.svg, drawn by headless Chromium,
 *   index.html the gallery, rebuilt from every page present.
 * Each caption carries scale, training steps, seeds, data source, backend and date (house rule: figures
 * say what was computed), and every PNG and SVG carries them in a footer line, so an image pasted alone
 * says it too. Everything is rendered in memory first and written atomically, so a failing notebook or
 * render leaves no half-written figure. Inside a tslab notebook the PNG and caption are also shown
 * inline; Plotly itself is never embedded in the notebook, which keeps executed notebooks small.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Data, Layout } from 'plotly.js-dist';
import { writeFileAtomic } from '../util/atomic';
import { check, checkKnownKeys } from '../util/check';
import { parseScale } from '../config/scales';
import { writeGallery } from './gallery';
import {
  ensurePlotlyAsset,
  figurePage,
  scriptJson,
  standalonePage,
  type FigureMeta,
  type StandalonePageContent,
} from './page';
import { figuresDir, kitRoot } from './paths';
import { closeRenderer, renderImages } from './render';

export { figuresDir, kitRoot } from './paths';
export { listFigures, writeGallery } from './gallery';
export { chromiumPath } from './render';
export type { FigureMeta, StandalonePageContent } from './page';
export type { Data, Layout } from 'plotly.js-dist';

/** What a notebook passes to `saveFigure`. */
export interface FigureSpec {
  /** File name without extension, kebab-case, conventionally prefixed by the notebook number (`04-size-vs-score`). */
  name: string;
  data: Data[];
  layout?: Partial<Layout>;
  /** What the figure shows, in one or two sentences. Scale, seeds, data, backend and date are appended. */
  caption: string;
  /** The notebook that makes it, e.g. `04-size-vs-score` (with or without `notebooks/` and `.ipynb`). */
  notebook: string;
  /** smoke | notebook | quick | paper */
  scale: string;
  /** How the runs behind the figure differ from the official protocol (the scale's deviation), if they trained. */
  protocol?: string;
  /** Training steps of each run behind the figure (one value when they agree). */
  steps?: readonly number[];
  seeds?: readonly number[];
  /** Dataset source, e.g. `kit-generated hopper-medium (sha256 1a2b3c4d)` or `D4RL hopper-medium-v2`. */
  dataSource?: string;
  /** The tfjs backend that computed the numbers; defaults to the backend active in this process, if any. */
  backend?: string;
  /** Title in the gallery; defaults to the layout title, else the name. */
  title?: string;
  /** Static image size in CSS pixels. Defaults 760 x 460. */
  width?: number;
  height?: number;
}

const SPEC_KEYS = [
  'name',
  'data',
  'layout',
  'caption',
  'notebook',
  'scale',
  'protocol',
  'steps',
  'seeds',
  'dataSource',
  'backend',
  'title',
  'width',
  'height',
] as const;

export interface SavedFigure {
  html: string;
  png: string;
  svg: string;
  /** The full caption as written on the figure. */
  caption: string;
}

/** The backend chosen by src/backend.ts in this process (published on globalThis so figures need not load tfjs). */
function activeBackend(): string | undefined {
  const value = (globalThis as Record<symbol, unknown>)[Symbol.for('dmm-kit.backend')];
  return typeof value === 'string' ? value : undefined;
}

function normaliseNotebook(fn: string, notebook: string): string {
  const base = notebook.replace(/^.*[\\/]/, '').replace(/\.ipynb$/, '');
  check(
    /^\d\d-[a-z0-9]+(-[a-z0-9]+)*$/.test(base),
    () => `Error in ${fn}: notebook must be a notebook name like '04-size-vs-score', got '${notebook}'.`,
  );
  return base;
}

interface CommonMeta {
  name: string;
  caption: string;
  notebook: string;
  scale: string;
  protocol?: string;
  steps?: readonly number[];
  seeds?: readonly number[];
  dataSource?: string;
  backend?: string;
  title?: string;
}

function buildMeta(fn: string, kind: FigureMeta['kind'], spec: CommonMeta, layoutTitle?: string): FigureMeta {
  check(
    typeof spec.name === 'string' && /^[a-z0-9]+(-[a-z0-9]+)*$/.test(spec.name) && spec.name !== 'index',
    () => `Error in ${fn}: name must be kebab-case letters and digits (like '04-size-vs-score'), got '${spec.name}'.`,
  );
  check(
    typeof spec.caption === 'string' && spec.caption.trim().length > 0,
    () => `Error in ${fn}: caption must say what the figure shows, got '${spec.caption}'.`,
  );
  const scale = parseScale(spec.scale);
  // Distinct seeds: n counts seeds, not the runs that share one.
  const seeds = [...new Set(spec.seeds ?? [])].sort((a, b) => a - b);
  check(
    seeds.every((s) => Number.isInteger(s)),
    () => `Error in ${fn}: seeds must be integers, got [${seeds.join(', ')}].`,
  );
  const steps = [...new Set(spec.steps ?? [])].sort((a, b) => a - b);
  check(
    steps.every((s) => Number.isInteger(s) && s >= 0),
    () => `Error in ${fn}: steps must be non-negative integers, got [${steps.join(', ')}].`,
  );
  const notebook = normaliseNotebook(fn, spec.notebook);
  const dataSource = spec.dataSource ?? 'none';
  const backend = spec.backend ?? activeBackend() ?? 'not recorded';
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const sentence = (t: string) => {
    const text = t.trim().replace(/\s+/g, ' ');
    return /[.!?]$/.test(text) ? text : text + '.';
  };
  const description = sentence(spec.caption);
  const protocol = spec.protocol?.trim() ? sentence(spec.protocol) : undefined;
  const facts = { scale, steps, seeds, dataSource, backend, date };
  const details =
    `${protocol ? protocol + ' ' : ''}Scale: ${scale}. ${steps.length ? `Training steps: ${stepsText(steps)} per run. ` : ''}` +
    `Seeds: ${seeds.length ? `${seeds.join(', ')} (n = ${seeds.length})` : 'n/a'}. ` +
    `Data: ${dataSource}. Backend: ${backend}. Date: ${date.slice(0, 10)}.`;
  return {
    name: spec.name,
    kind,
    title: spec.title ?? layoutTitle ?? spec.name,
    caption: `${description} ${details}`,
    description,
    details,
    footer: footerParts(facts),
    notebook,
    scale,
    steps,
    seeds,
    dataSource,
    backend,
    date,
  };
}

/** `500` or `250–1,000`. */
function stepsText(steps: readonly number[]): string {
  const f = (n: number) => n.toLocaleString('en-US');
  return steps.length === 1 ? f(steps[0]) : `${f(steps[0])}–${f(steps[steps.length - 1])}`;
}

/**
 * The line printed under every PNG and SVG, so an image pasted alone still says what it shows:
 * `notebook scale · 500 training steps per run · n = 1 seed (12) · data: … · backend: wasm · 2026-12-02`.
 */
export function footerParts(m: {
  scale: string;
  steps: readonly number[];
  seeds: readonly number[];
  dataSource: string;
  backend: string;
  date: string;
}): string[] {
  const n = m.seeds.length;
  return [
    `${m.scale} scale`,
    ...(m.steps.length ? [`${stepsText(m.steps)} training steps per run`] : []),
    n ? `n = ${n} seed${n === 1 ? '' : 's'} (${m.seeds.join(', ')})` : 'seeds: n/a',
    `data: ${footerData(m.dataSource)}`,
    `backend: ${m.backend}`,
    m.date.slice(0, 10),
  ];
}

/**
 * The data source as the footer prints it: as given for up to three datasets; beyond, their count and kinds,
 * since nine checksums would fill the image (each line of text adds ~20 KB to a PNG) while the caption and
 * the gallery's details line keep them all.
 */
function footerData(dataSource: string): string {
  const listed = (dataSource.match(/\(sha256 [0-9a-f]+\)/g) ?? []).length;
  const more = Number(/ and (\d+) more\b/.exec(dataSource)?.[1] ?? 0);
  const n = listed + more;
  if (n <= 3) return dataSource;
  const kinds = [...new Set(dataSource.match(/kit-generated|D4RL/g) ?? [])].join(' and ');
  return `${n} datasets${kinds ? ` (${kinds})` : ''}, sha256 checksums in the caption`;
}

function layoutTitle(layout: Partial<Layout> | undefined): string | undefined {
  const title = layout?.title as unknown;
  if (typeof title === 'string') return title;
  if (title && typeof title === 'object' && typeof (title as { text?: unknown }).text === 'string') {
    return (title as { text: string }).text.replace(/<[^>]*>/g, '');
  }
  return undefined;
}

/** A link from a notebook in notebooks/ to `file` (the kernel runs at the kit root, the notebook does not). */
function notebookLink(file: string): string {
  return path.relative(path.join(kitRoot(), 'notebooks'), file).split(path.sep).join('/');
}

function insideTslab(): boolean {
  return '__tslab__' in globalThis;
}

/** Shows the PNG and the caption in the notebook output (no Plotly copy in the notebook). */
function displayInline(meta: FigureMeta, png: Buffer, htmlFile: string): void {
  if (!insideTslab()) return;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const tslab = require('tslab') as typeof import('tslab');
  const link = notebookLink(htmlFile);
  tslab.display.png(png);
  tslab.display.markdown(`*${meta.caption}*  \nInteractive version: [${meta.name}.html](${link})`);
}

/**
 * Writes NAME.html, NAME.png and NAME.svg into the figure folder, rebuilds index.html, and displays
 * the figure when called from a tslab notebook.
 */
export async function saveFigure(spec: FigureSpec): Promise<SavedFigure> {
  const fn = 'saveFigure';
  check(spec && typeof spec === 'object', () => `Error in ${fn}: argument must be a figure object, got ${spec}.`);
  checkKnownKeys(fn, spec, SPEC_KEYS);
  check(
    Array.isArray(spec.data),
    () => `Error in ${fn}: data must be an array of Plotly traces, got ${typeof spec.data}.`,
  );
  const width = spec.width ?? 760;
  const height = spec.height ?? 460;
  check(
    Number.isInteger(width) &&
      Number.isInteger(height) &&
      width >= 100 &&
      height >= 100 &&
      width <= 4000 &&
      height <= 4000,
    () => `Error in ${fn}: width and height must be integers in [100, 4000], got ${width} x ${height}.`,
  );
  const meta = buildMeta(fn, 'figure', spec, layoutTitle(spec.layout));
  const dir = figuresDir();
  const plotly = ensurePlotlyAsset(dir, path.join(kitRoot(), '.cache'));
  const figure = { data: spec.data, layout: spec.layout ?? {} };

  // Everything is rendered in memory before the first write.
  const images = await renderImages(
    { figureJson: scriptJson(figure), width, height, scale: 2, footer: meta.footer },
    plotly.absolute,
  );
  const html = figurePage(meta, figure, plotly.relative);

  const out: SavedFigure = {
    html: path.join(dir, `${meta.name}.html`),
    png: path.join(dir, `${meta.name}.png`),
    svg: path.join(dir, `${meta.name}.svg`),
    caption: meta.caption,
  };
  writeFileAtomic(out.png, images.png);
  writeFileAtomic(out.svg, images.svg);
  writeFileAtomic(out.html, html); // last: the page (with its metadata) marks a complete figure for the gallery
  writeGallery(dir);
  displayInline(meta, images.png, out.html);
  return out;
}

/** What a notebook passes to `saveStandalonePage` (an explorer or any page built on the shared Plotly copy). */
export interface StandalonePageSpec extends StandalonePageContent {
  name: string;
  title: string;
  caption: string;
  notebook: string;
  scale: string;
  protocol?: string;
  steps?: readonly number[];
  seeds?: readonly number[];
  dataSource?: string;
  backend?: string;
}

/**
 * Writes `<figures>/NAME.html`: `body`, then `script` run with Plotly loaded from the shared local copy
 * and `data` available as the global DMM_DATA. Listed in the gallery. Returns the file path.
 */
export function saveStandalonePage(spec: StandalonePageSpec): string {
  const fn = 'saveStandalonePage';
  checkKnownKeys(fn, spec, [
    'name',
    'title',
    'caption',
    'notebook',
    'scale',
    'protocol',
    'steps',
    'seeds',
    'dataSource',
    'backend',
    'body',
    'script',
    'data',
    'style',
  ]);
  check(
    typeof spec.body === 'string' && typeof spec.script === 'string',
    () => `Error in ${fn}: body and script must be strings.`,
  );
  const meta = buildMeta(fn, 'page', spec);
  const dir = figuresDir();
  const plotly = ensurePlotlyAsset(dir, path.join(kitRoot(), '.cache'));
  const file = path.join(dir, `${meta.name}.html`);
  // A page replaces a figure of the same name entirely: stale images would mislead the gallery.
  for (const ext of ['png', 'svg']) fs.rmSync(path.join(dir, `${meta.name}.${ext}`), { force: true });
  writeFileAtomic(file, standalonePage(meta, spec, plotly.relative));
  writeGallery(dir);
  if (insideTslab()) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const tslab = require('tslab') as typeof import('tslab');
    const link = notebookLink(file);
    tslab.display.markdown(
      `**${meta.title}**: [${meta.name}.html](${link}) (interactive, offline)  \n*${meta.caption}*`,
    );
  }
  return file;
}

/** Closes the shared headless browser now, so a script can exit without waiting for the idle timeout. */
export async function closeFigures(): Promise<void> {
  await closeRenderer();
}
