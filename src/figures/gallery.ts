/**
 * figures/index.html: a gallery rebuilt from the metadata block of every page in the figure folder,
 * so it always lists exactly the figures on disk (thumbnail, what it shows, a details line with how it was
 * computed, scale, date, notebook link).
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../util/atomic';
import { escapeHtml, readMeta, type FigureMeta } from './page';

/** Metadata of every figure page in `figuresDir`, sorted by name (notebook numbers sort first). */
export function listFigures(figuresDir: string): FigureMeta[] {
  if (!fs.existsSync(figuresDir)) return [];
  const metas: FigureMeta[] = [];
  for (const file of fs.readdirSync(figuresDir).sort()) {
    if (!file.endsWith('.html') || file === 'index.html') continue;
    const meta = readMeta(fs.readFileSync(path.join(figuresDir, file), 'utf8'));
    if (meta && `${meta.name}.html` === file) metas.push(meta);
  }
  return metas;
}

function card(meta: FigureMeta, figuresDir: string): string {
  const hasPng = fs.existsSync(path.join(figuresDir, `${meta.name}.png`));
  const thumb = hasPng
    ? `<img src="${meta.name}.png" alt="${escapeHtml(meta.title)}" loading="lazy">`
    : `<div class="nothumb">interactive page</div>`;
  const files =
    meta.kind === 'figure'
      ? `<a href="${meta.name}.html">HTML</a> &middot; <a href="${meta.name}.png">PNG</a> &middot; <a href="${meta.name}.svg">SVG</a>`
      : `<a href="${meta.name}.html">open</a>`;
  // The caption says what the figure shows; how it was computed (protocol, seeds, every dataset checksum)
  // folds into a details line. Pages written before the two were stored apart show their whole caption.
  const shows = meta.description ?? meta.caption;
  const details = meta.details ? `\n<details><summary>details</summary>${escapeHtml(meta.details)}</details>` : '';
  return `<figure>
<a href="${meta.name}.html">${thumb}</a>
<figcaption><strong>${escapeHtml(meta.title)}</strong><br>${escapeHtml(shows)}${details}
<div class="meta">scale <b>${escapeHtml(meta.scale)}</b> &middot; ${escapeHtml(meta.date.slice(0, 10))} &middot;
<a href="../notebooks/${escapeHtml(meta.notebook)}.ipynb">${escapeHtml(meta.notebook)}</a> &middot; ${files}</div></figcaption>
</figure>`;
}

/** Rewrites `<figuresDir>/index.html` from the pages present; returns the number of entries. */
export function writeGallery(figuresDir: string): number {
  const metas = listFigures(figuresDir);
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>dmm-kit figures</title>
<style>body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5rem auto;max-width:1200px;padding:0 1rem;color:#222}
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:1.2rem}
figure{margin:0;border:1px solid #ddd;border-radius:6px;padding:.6rem;background:#fff}
figure img{width:100%;height:auto;display:block}
.nothumb{height:180px;display:flex;align-items:center;justify-content:center;background:#f3f3f3;color:#666}
figcaption{font-size:.85rem;line-height:1.35;margin-top:.4rem}
.meta{color:#666;margin-top:.3rem}
details{color:#555;margin-top:.3rem}
summary{cursor:pointer;color:#666}
a{color:#1f5fa8}</style>
</head>
<body>
<h1>dmm-kit figures</h1>
<p>${metas.length} figure${metas.length === 1 ? '' : 's'}, each written by the notebook it links to. Every page works offline.</p>
<main>
${metas.map((m) => card(m, figuresDir)).join('\n')}
</main>
</body>
</html>
`;
  writeFileAtomic(path.join(figuresDir, 'index.html'), html);
  return metas.length;
}
