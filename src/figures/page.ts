/**
 * HTML pages of the figure folder: one shared local copy of Plotly (never a CDN, never one copy per
 * figure), the interactive page of each figure, and standalone pages (explorers) built on the same copy.
 * Each page carries its metadata as a JSON block, from which the gallery is rebuilt.
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../util/atomic';

/** Metadata stored in every page of the figure folder (and shown in the gallery). */
export interface FigureMeta {
  name: string;
  /** 'figure': Plotly figure with PNG and SVG; 'page': a standalone page (an explorer). */
  kind: 'figure' | 'page';
  title: string;
  /** The caption as written on the figure page: `description` then `details`. */
  caption: string;
  /** What the figure shows (the author's text). Absent in pages written before it was stored apart. */
  description?: string;
  /** The protocol's deviation, scale, training steps, seeds, data, backend and date. */
  details?: string;
  /** The parts of the footer line under the PNG and SVG. */
  footer?: string[];
  notebook: string;
  scale: string;
  /** Training steps per run behind the figure (empty when nothing trained). */
  steps?: number[];
  seeds: number[];
  dataSource: string;
  backend: string;
  /** ISO date-time (UTC) of writing. */
  date: string;
}

const META_OPEN = '<script type="application/json" id="dmm-figure-meta">';

/** JSON safe to put inside a <script> element: typed arrays become arrays, `<` is escaped. */
export function scriptJson(value: unknown): string {
  const text = JSON.stringify(value, (_key, v: unknown) =>
    ArrayBuffer.isView(v) && !(v instanceof DataView) ? Array.from(v as unknown as ArrayLike<number>) : v,
  );
  return text
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The Plotly bundle shipped by plotly.js-dist and its version. */
function plotlySource(): { file: string; version: string } {
  const pkgFile = require.resolve('plotly.js-dist/package.json');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const version = (require(pkgFile) as { version: string }).version;
  return { file: path.join(path.dirname(pkgFile), 'plotly.js'), version };
}

/**
 * Makes sure `<figuresDir>/assets/plotly-<version>.min.js` exists and returns its path relative to
 * figuresDir. The package ships only an unminified 10 MB bundle; esbuild (a dev dependency) minifies it
 * to about 4.8 MB once, and a plain copy is the fallback where esbuild is absent.
 */
export function ensurePlotlyAsset(figuresDir: string, cacheDir?: string): { relative: string; absolute: string } {
  const { file, version } = plotlySource();
  const relative = `assets/plotly-${version}.min.js`;
  const absolute = path.join(figuresDir, relative);
  if (!fs.existsSync(absolute)) {
    // One minified copy per kit (in .cache/) serves every figure folder (figures/, smoke runs, tests).
    const cached = cacheDir ? path.join(cacheDir, `plotly-${version}.min.js`) : undefined;
    if (cached && fs.existsSync(cached)) {
      writeFileAtomic(absolute, fs.readFileSync(cached));
    } else {
      const source = fs.readFileSync(file, 'utf8');
      let code: string;
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const esbuild = require('esbuild') as typeof import('esbuild');
        code = esbuild.transformSync(source, { minify: true, legalComments: 'inline' }).code;
      } catch {
        code = source;
      }
      const text = `/* plotly.js v${version} (MIT), minified from plotly.js-dist by dmm-kit */\n${code}`;
      writeFileAtomic(absolute, text);
      if (cached) writeFileAtomic(cached, text);
    }
  }
  return { relative, absolute };
}

const PAGE_STYLE = `body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5rem auto;max-width:1100px;padding:0 1rem;color:#222}
.caption{font-size:.92rem;line-height:1.4;color:#333;max-width:900px}
.meta{font-size:.8rem;color:#666}
a{color:#1f5fa8}`;

function metaBlock(meta: FigureMeta): string {
  return `${META_OPEN}${scriptJson(meta)}</script>`;
}

function notebookHref(notebook: string): string {
  return `../notebooks/${notebook}.ipynb`;
}

function footer(meta: FigureMeta): string {
  return (
    `<p class="caption">${escapeHtml(meta.caption)}</p>\n` +
    `<p class="meta">Made by <a href="${notebookHref(meta.notebook)}">notebooks/${escapeHtml(meta.notebook)}.ipynb</a>` +
    ` &middot; <a href="index.html">all figures</a></p>`
  );
}

/** The interactive page of one Plotly figure. */
export function figurePage(
  meta: FigureMeta,
  figure: { data: unknown; layout: unknown },
  plotlyRelative: string,
): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(meta.title)}</title>
<script src="${plotlyRelative}"></script>
${metaBlock(meta)}
<style>${PAGE_STYLE}
#plot{width:100%;height:560px}</style>
</head>
<body>
<div id="plot"></div>
${footer(meta)}
<script>
(function () {
  var fig = ${scriptJson(figure)};
  var layout = Object.assign({}, fig.layout);
  delete layout.width;
  delete layout.height;
  Plotly.newPlot('plot', fig.data, layout, { responsive: true, displaylogo: false });
})();
</script>
</body>
</html>
`;
}

export interface StandalonePageContent {
  /** HTML placed in <body> before the caption. */
  body: string;
  /** JavaScript run after Plotly and `body` are loaded; `data` is available to it as the global `DMM_DATA`. */
  script: string;
  /** JSON-able data the script reads (typed arrays allowed). */
  data?: unknown;
  /** Extra CSS. */
  style?: string;
}

/** A standalone page (for example an explorer) that loads the shared Plotly copy. */
export function standalonePage(meta: FigureMeta, content: StandalonePageContent, plotlyRelative: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(meta.title)}</title>
<script src="${plotlyRelative}"></script>
${metaBlock(meta)}
<style>${PAGE_STYLE}
${content.style ?? ''}</style>
</head>
<body>
${content.body}
${footer(meta)}
<script>
var DMM_DATA = ${scriptJson(content.data ?? null)};
${content.script}
</script>
</body>
</html>
`;
}

/** Reads the metadata block of a page written by this module, or undefined for other files. */
export function readMeta(html: string): FigureMeta | undefined {
  const start = html.indexOf(META_OPEN);
  if (start < 0) return undefined;
  const end = html.indexOf('</script>', start);
  if (end < 0) return undefined;
  try {
    return JSON.parse(html.slice(start + META_OPEN.length, end)) as FigureMeta;
  } catch {
    return undefined;
  }
}
