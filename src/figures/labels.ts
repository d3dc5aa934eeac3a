/**
 * Text labels beside scatter points that do not overlap one another or the other points' markers.
 *
 * Plotly places every point's text at one fixed position (`textposition`), so two close points print their
 * labels over each other. Here each label tries the eight positions around its marker in a fixed order and
 * takes the first whose box overlaps no marker, no label placed before it and no plot edge; when none is
 * free, the one with the least overlap. Boxes are estimated in pixels from the axis ranges the caller fixes
 * (so Plotly's autorange cannot move the points afterwards) and the font size.
 */

/** Plotly's names for the positions tried, in order of preference. */
const POSITIONS = [
  'top center',
  'bottom center',
  'middle right',
  'middle left',
  'top right',
  'top left',
  'bottom right',
  'bottom left',
] as const;
export type TextPosition = (typeof POSITIONS)[number];

export interface LabelPoint {
  x: number;
  y: number;
  text: string;
}

export interface LabelArea {
  /** Plot area (inside the axes) in pixels. */
  width: number;
  height: number;
  /** Axis ranges as Plotly takes them: for a log axis, log10 of the data. */
  xRange: [number, number];
  yRange: [number, number];
  xLog?: boolean;
  /** Label font size in pixels (Plotly's default is 12). */
  fontSize?: number;
  /** Marker radius in pixels. */
  markerRadius?: number;
}

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

const overlap = (a: Box, b: Box) =>
  Math.max(0, Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0)) * Math.max(0, Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0));

/** The pixel centre of a point, y growing downwards as on screen. */
function toPixel(p: LabelPoint, area: LabelArea): { px: number; py: number } {
  const x = area.xLog ? Math.log10(p.x) : p.x;
  const [x0, x1] = area.xRange;
  const [y0, y1] = area.yRange;
  return { px: ((x - x0) / (x1 - x0)) * area.width, py: (1 - (p.y - y0) / (y1 - y0)) * area.height };
}

/** The box a label of `text` takes at `position` beside a marker at (px, py). */
function labelBox(px: number, py: number, text: string, position: TextPosition, font: number, r: number): Box {
  const w = text.length * font * 0.6; // average glyph width of Plotly's sans-serif font
  const h = font * 1.2;
  const [v, hz] = position.split(' ');
  const cx = hz === 'center' ? px : hz === 'right' ? px + r + w / 2 : px - r - w / 2;
  const cy = v === 'middle' ? py : v === 'top' ? py - r - h / 2 : py + r + h / 2;
  return { x0: cx - w / 2, y0: cy - h / 2, x1: cx + w / 2, y1: cy + h / 2 };
}

/** One `textposition` per point, in the order given; points with empty text get 'top center'. */
export function placeLabels(points: readonly LabelPoint[], area: LabelArea): TextPosition[] {
  const font = area.fontSize ?? 12;
  const r = area.markerRadius ?? 4;
  const pixels = points.map((p) => toPixel(p, area));
  const markers: Box[] = pixels.map(({ px, py }) => ({ x0: px - r, y0: py - r, x1: px + r, y1: py + r }));
  const placed: Box[] = [];
  return points.map((p, i) => {
    if (!p.text) return 'top center';
    const { px, py } = pixels[i];
    let best: { position: TextPosition; cost: number; box: Box } | undefined;
    for (const position of POSITIONS) {
      const box = labelBox(px, py, p.text, position, font, r);
      const outside =
        Math.max(0, -box.x0) +
        Math.max(0, box.x1 - area.width) +
        Math.max(0, -box.y0) +
        Math.max(0, box.y1 - area.height);
      const cost =
        outside * font +
        placed.reduce((s, b) => s + overlap(box, b), 0) +
        markers.reduce((s, m, j) => s + (j === i ? 0 : overlap(box, m)), 0);
      if (!best || cost < best.cost) best = { position, cost, box };
      if (cost === 0) break;
    }
    placed.push(best!.box);
    return best!.position;
  });
}

/** A padded axis range around `values` (log10 of them on a log axis), for `placeLabels` and the layout. */
export function paddedRange(values: readonly number[], log = false, pad = 0.08): [number, number] {
  const v = values.filter((x) => Number.isFinite(x) && (!log || x > 0)).map((x) => (log ? Math.log10(x) : x));
  if (!v.length) return log ? [0, 1] : [0, 1];
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  const span = hi - lo || Math.abs(hi) || 1;
  return [lo - pad * span, hi + pad * span];
}
