/**
 * Notebook 05 (DMM Figure 3): output activations per layer of a Mamba stack (Decision Mamba) against DMM's
 * DSM + modified Mamba (docs/spec.md §11 F3): taps at the last step of an evaluation episode, 24 tokens (K=8) ×
 * channels, colour range [−5, 5]; the mean |activation| per token type (R, s, a) per layer and its
 * a / mean(R, s) ratio (tokenTypeActivity: the one source of the table, the bars and the finding); and an
 * offline explorer page (two models side by side; layer, tap and each kept step of the episode). Both models
 * are the K=8 hopper-medium cells of notebook 07.
 */
import { tf } from '../backend';
import type { Data, Layout } from '../figures';
import type { FigureSpec, StandalonePageSpec } from '../figures';
import { heatmapExplorer, type ExplorerTap } from '../figures/heatmap-explorer';
import { forwardWithTaps } from '../models';
import type { RunRecord } from '../results/record';
import { budgetFor } from '../config/budget';
import { runCells, type CellsReport } from './cells';
import { OFFICIAL_K, contextCells } from './plan';
import { cellsLine, fmt, markdownTable, paperNote, runsMeta, type NotebookResult } from './report';
import { episodeWindows, loadTrained, windowsToInputs, type Trained } from './trained';
import { TOKEN_TYPES, tokenLabels } from '../live/inspect';

export { TOKEN_TYPES, tokenLabels };

/** matplotlib's `summer` (green to yellow), which the authors used for the mixer; Plotly has no such name. */
export const SUMMER: [number, string][] = [
  [0, 'rgb(0,128,102)'],
  [1, 'rgb(255,255,102)'],
];

const MODEL_TITLE: Record<string, string> = { dmamba: 'Decision Mamba', dmm: 'Decision MetaMamba' };
/** The fixed colour range of the figure and the explorer (docs/spec.md §11 F3: the paper's [−5, 5]). */
export const COLOUR_RANGE: [number, number] = [-5, 5];

/** Every tap the models record (src/models/taps.ts): its name on the page, where it sits, its colormap. */
export const TAPS: Record<string, ExplorerTap> = {
  mixerInput: {
    label: 'mixer input',
    explanation:
      "the token mixer's input after the layer's first LayerNorm (DMM: the DSM's input; Decision Mamba: the Mamba block's input).",
    colorscale: SUMMER,
  },
  localMixerOutput: {
    label: 'DSM output',
    explanation: "the dense sequence mixer's output (DMM's local mixer), before the residual sum.",
    colorscale: SUMMER,
  },
  globalMixerInput: {
    label: 'Mamba input',
    explanation: "DMM's Mamba input, after the second LayerNorm.",
    colorscale: 'Viridis',
  },
  scanInput: {
    label: 'scan input x',
    explanation:
      "the selective scan's input x: in_proj, then the causal conv (Decision Mamba only; DMM's Mamba has none), then SiLU.",
    colorscale: 'Viridis',
  },
  scanOutput: {
    label: 'scan output y',
    explanation: "the scan's output y gated by SiLU(z), before out_proj: where the paper sees R and s tokens vanish.",
    colorscale: 'Viridis',
  },
  blockOutput: {
    label: 'layer output',
    explanation: "the layer's output, after its residual sums.",
    colorscale: 'Viridis',
  },
};
/** Taps shown in the static figure (docs/spec.md §11 F3), per model. */
const FIGURE_TAPS: Record<string, string[]> = {
  dmamba: ['scanInput', 'scanOutput'],
  dmm: ['mixerInput', 'localMixerOutput', 'scanInput', 'scanOutput'],
};

export interface TapSet {
  model: string;
  K: number;
  layers: number;
  steps: number[];
  episode: { length: number; ret: number };
  /** taps[tap][stepIndex][layer] = [3K][C] values (rounded). */
  taps: Record<string, number[][][][]>;
}

export function tapActivations(t: Trained, windows: Awaited<ReturnType<typeof episodeWindows>>): TapSet {
  const K = Number((t.model.config as Record<string, unknown>).contextLength);
  const { stateDim: s, actDim: a } = t.model.dims;
  const inputs = windowsToInputs(windows.windows, K, s, a);
  const { output, taps } = forwardWithTaps(t.model, inputs, { training: false });
  const out: Record<string, number[][][][]> = {};
  let layers = 0;
  for (const [name, tensor] of Object.entries(taps)) {
    const m = /^layers\.(\d+)\.(\w+)$/.exec(name);
    if (!m) continue;
    const layer = Number(m[1]);
    layers = Math.max(layers, layer + 1);
    const arr = tensor.arraySync() as number[][][]; // [B, 3K, C]
    const byStep = (out[m[2]] ??= arr.map(() => []));
    arr.forEach((win, b) => (byStep[b][layer] = win.map((tok) => tok.map((v) => Math.round(v * 100) / 100))));
  }
  tf.dispose([output, ...Object.values(taps), ...Object.values(inputs)]);
  return {
    model: t.record.spec.model,
    K,
    layers,
    steps: windows.windows.map((w) => w.step),
    episode: { length: windows.length, ret: windows.ret },
    taps: out,
  };
}

/** Mean |value| of each token type over channels, tokens of that type, and the given steps. */
export function typeMeans(perStep: number[][][][], layer: number): Record<string, number> {
  const acc: Record<string, { s: number; n: number }> = { R: { s: 0, n: 0 }, s: { s: 0, n: 0 }, a: { s: 0, n: 0 } };
  for (const step of perStep)
    step[layer]?.forEach((tok, j) => {
      const k = TOKEN_TYPES[j % 3];
      for (const v of tok) {
        acc[k].s += Math.abs(v);
        acc[k].n++;
      }
    });
  return Object.fromEntries(Object.entries(acc).map(([k, v]) => [k, v.n ? v.s / v.n : NaN]));
}

/** The taps whose token-type activity notebook 05 tabulates: the scan output, and DMM's DSM output. */
const ACTIVITY_TAPS = ['scanOutput', 'localMixerOutput'] as const;

/** One row of notebook 05's table: mean |activation| per token type, and the paper's a / mean(R, s) ratio. */
export interface TokenTypeActivity {
  model: string;
  tap: string;
  /** 0-based. */
  layer: number;
  R: number;
  s: number;
  a: number;
  /** mean |a| / ((mean |R| + mean |s|) / 2): above 1 when action tokens dominate. */
  actionRatio: number;
}

/** The numbers behind notebook 05's table, bars and finding, per model, activity tap and layer. */
export function tokenTypeActivity(sets: readonly TapSet[]): TokenTypeActivity[] {
  const rows: TokenTypeActivity[] = [];
  for (const set of sets)
    for (const tap of ACTIVITY_TAPS.filter((x) => set.taps[x]))
      for (let layer = 0; layer < set.layers; layer++) {
        const m = typeMeans(set.taps[tap], layer);
        const actionRatio = m.a / Math.max(1e-9, (m.R + m.s) / 2);
        rows.push({ model: set.model, tap, layer, R: m.R, s: m.s, a: m.a, actionRatio });
      }
  return rows;
}

/** The scan output's a / mean(R, s) per layer of one model (what the finding compares). */
export function scanOutputRatios(rows: readonly TokenTypeActivity[], model: string): number[] {
  return rows.filter((r) => r.model === model && r.tap === 'scanOutput').map((r) => r.actionRatio);
}

/** The figure's colorbars: one per colormap in use, each titled with the taps it colours. */
function colourBars(columns: readonly { tap: string }[]): Map<string, Record<string, unknown>> {
  const scales = [...new Set(columns.map((c) => JSON.stringify(TAPS[c.tap].colorscale)))];
  return new Map(
    scales.map((key, i) => {
      const taps = [
        ...new Set(columns.filter((c) => JSON.stringify(TAPS[c.tap].colorscale) === key).map((c) => c.tap)),
      ];
      const mixer = taps.every((t) => TAPS[t].colorscale === SUMMER);
      const text = `activation,<br>${mixer ? 'DSM taps' : 'scan taps'}<br>(${mixer ? 'summer' : 'viridis'})`;
      const len = 1 / scales.length - 0.04;
      return [
        key,
        {
          title: { text, side: 'top', font: { size: 10 } },
          len,
          y: 1 - i / scales.length,
          yanchor: 'top',
          thickness: 12,
          x: 1.01,
        },
      ];
    }),
  );
}

function heatmapFigure(sets: TapSet[]): { data: Data[]; layout: Partial<Layout>; cols: number; rows: number } {
  const columns = sets.flatMap((set) =>
    (FIGURE_TAPS[set.model] ?? []).filter((tap) => set.taps[tap]).map((tap) => ({ set, tap })),
  );
  const rows = Math.max(...sets.map((s) => s.layers));
  const bars = colourBars(columns);
  const shown = new Set<string>();
  const data: Data[] = [];
  const layout: Record<string, unknown> = {
    title: { text: 'Activations at the last step of an evaluation episode (tokens × channels)' },
    annotations: [] as unknown[],
    margin: { t: 110, l: 60, r: 110, b: 50 },
  };
  const gap = 0.02;
  const w = (1 - gap * (columns.length - 1)) / columns.length;
  const h = (1 - 0.07 * (rows - 1)) / rows;
  let axis = 0;
  columns.forEach((col, c) => {
    const last = col.set.taps[col.tap].length - 1;
    const info = TAPS[col.tap];
    const key = JSON.stringify(info.colorscale);
    const labels = tokenLabels(col.set.K);
    for (let layer = 0; layer < col.set.layers; layer++) {
      axis++;
      const xa = axis === 1 ? 'x' : `x${axis}`;
      const ya = axis === 1 ? 'y' : `y${axis}`;
      const tokens = col.set.taps[col.tap][last][layer]; // [3K][C]
      const z = tokens[0].map((_, ch) => tokens.map((tok) => tok[ch])); // [C][3K]
      // One colorbar per colormap, drawn once: every heatmap shares the fixed range, so one scale reads all.
      const first = !shown.has(key);
      shown.add(key);
      data.push({
        type: 'heatmap',
        z,
        x: labels,
        zmin: COLOUR_RANGE[0],
        zmax: COLOUR_RANGE[1],
        colorscale: info.colorscale,
        showscale: first,
        ...(first ? { colorbar: bars.get(key) } : {}),
        xaxis: xa,
        yaxis: ya,
      } as Data);
      const x0 = c * (w + gap);
      const y1 = 1 - layer * (h + 0.07);
      // A tick for every token (R1, s1, a1, …, a8).
      layout[`xaxis${axis === 1 ? '' : axis}`] = {
        domain: [x0, x0 + w],
        anchor: ya,
        tickmode: 'array',
        tickvals: labels,
        tickfont: { size: 7 },
        tickangle: -90,
      };
      layout[`yaxis${axis === 1 ? '' : axis}`] = {
        domain: [y1 - h, y1],
        anchor: xa,
        showticklabels: c === 0,
        title: c === 0 ? { text: `layer ${layer + 1}<br>channel`, font: { size: 11 } } : undefined,
      };
      if (layer === 0)
        (layout.annotations as unknown[]).push({
          text: `<b>${MODEL_TITLE[col.set.model] ?? col.set.model}</b><br>${info.label}, K=${col.set.K}`,
          x: x0 + w / 2,
          y: 1.01,
          yanchor: 'bottom',
          xref: 'paper',
          yref: 'paper',
          showarrow: false,
          xanchor: 'center',
          font: { size: 10 },
        });
    }
  });
  return { data, layout: layout as Partial<Layout>, cols: columns.length, rows };
}

export function explorerPage(sets: TapSet[], scale: string, records: RunRecord[]): StandalonePageSpec {
  const steps = sets.map((s) => `${MODEL_TITLE[s.model] ?? s.model} ${s.steps.length} of ${s.episode.length}`);
  return {
    name: '05-heatmap-explorer',
    title: 'Activation explorer: Decision Mamba and Decision MetaMamba',
    notebook: '05-activation-heatmaps',
    scale,
    ...runsMeta(records, scale),
    caption: `Two models side by side, each at a chosen layer, tap and step of one evaluation episode (primary target), with the mean |activation| of each token under its heatmap. Kept steps, evenly spaced to the last: ${steps.join(', ')}. Colours fixed to [${COLOUR_RANGE.join(', ')}] or auto. Models: the K=8 hopper-medium cells.`,
    ...heatmapExplorer(
      sets.map((s) => ({
        title: MODEL_TITLE[s.model] ?? s.model,
        labels: tokenLabels(s.K),
        layersList: Array.from({ length: s.layers }, (_, i) => i),
        steps: s.steps,
        episode: s.episode,
        taps: s.taps,
      })),
      TAPS,
      COLOUR_RANGE,
      'scanOutput', // where the paper's claim is
    ),
  };
}

/** Steps of the episode whose windows are kept, evenly spaced to the last (the explorer offers each). */
const KEPT_STEPS = 20;

function cellsFor(scale: string) {
  return contextCells(scale).filter(
    (c) =>
      (c.model === 'dmm' || c.model === 'dmamba') &&
      Number((c.overrides?.contextLength as number | undefined) ?? OFFICIAL_K[c.model]) === 8,
  );
}

/** Notebook 05's runs: the K=8 hopper-medium cells of DMM and Decision Mamba. */
export function heatmapRuns(scale: string): Promise<CellsReport> {
  return runCells(cellsFor(scale), { scale, workers: budgetFor(scale).workers });
}

/** What notebook 05 measures on the trained models: the taps of one evaluation episode per model. */
export interface HeatmapTaps {
  sets: TapSet[];
  records: RunRecord[];
  /** Models that could not be measured, and retrained cells. */
  notes: string[];
  /** The episode's step cap. */
  maxSteps: number;
}

/** Restores each run's final checkpoint and records its activations over one evaluation episode. */
export async function heatmapTaps(cells: CellsReport, scale: string): Promise<HeatmapTaps> {
  const maxSteps = budgetFor(scale).scale === 'smoke' ? 20 : 200;
  const sets: TapSet[] = [];
  const records: RunRecord[] = [];
  const notes: string[] = [];
  for (const o of cells.outcomes) {
    const t = await loadTrained(o, scale);
    if (!t) {
      notes.push(`${o.spec.model}: no trained model (${o.error ?? 'missing checkpoint'})`);
      continue;
    }
    if (t.retrained) notes.push(`${o.spec.model}: checkpoint was missing, the cell was retrained into .cache`);
    const ws = await episodeWindows(t, maxSteps, KEPT_STEPS, 7);
    sets.push(tapActivations(t, ws));
    records.push(t.record);
    t.model.dispose();
  }
  return { sets, records, notes, maxSteps };
}

/** Notebook 05's figures, table, explorer page and finding: a pure function of the taps and records. */
export function heatmapFigures(taps: HeatmapTaps, cells: CellsReport, scale: string): NotebookResult {
  const { sets, records, notes, maxSteps } = taps;
  const figures: FigureSpec[] = [];
  const tables: string[] = [];
  let finding = `No trained models: ${notes.join('; ')}. ${cellsLine(cells)}`;
  if (sets.length) {
    const hm = heatmapFigure(sets);
    const common = {
      notebook: '05-activation-heatmaps',
      scale,
      ...runsMeta(records, scale),
    };
    figures.push({
      ...common,
      name: '05-activation-heatmaps',
      data: hm.data,
      layout: hm.layout,
      width: Math.min(4000, 190 * hm.cols + 120),
      height: Math.min(4000, 240 * hm.rows + 140),
      caption: `Channels (y) × 24 tokens (x: R, s, a per step, K=8) at the last step of one evaluation episode (primary target, reset seed 7, capped at ${maxSteps} steps; lengths ${sets.map((s) => `${MODEL_TITLE[s.model]} ${s.episode.length}`).join(', ')}). Colour range [−5, 5]; viridis for the scan taps, matplotlib's summer for the mixer taps.`,
    });
    // Mean |activation| per token type per layer, scan output (and DSM output for DMM): the table, the bars and
    // the finding all read these rows, so they cannot disagree.
    const activity = tokenTypeActivity(sets);
    const rows = activity.map((r) => [
      MODEL_TITLE[r.model] ?? r.model,
      r.tap,
      r.layer + 1,
      fmt(r.R, 3),
      fmt(r.s, 3),
      fmt(r.a, 3),
      fmt(r.actionRatio, 2),
    ]);
    const bars: Data[] = [];
    for (const set of sets)
      for (const tap of ACTIVITY_TAPS.filter((x) => set.taps[x])) {
        const own = activity.filter((r) => r.model === set.model && r.tap === tap);
        for (const k of TOKEN_TYPES)
          bars.push({
            type: 'bar',
            name: `${MODEL_TITLE[set.model]} ${TAPS[tap].label} · ${k}`,
            x: own.map((r) => `layer ${r.layer + 1}`),
            y: own.map((r) => r[k]),
            legendgroup: `${set.model}${tap}`,
          } as Data);
      }
    tables.push(markdownTable(['model', 'tap', 'layer', 'mean |R|', 'mean |s|', 'mean |a|', 'a / mean(R, s)'], rows));
    figures.push({
      ...common,
      name: '05-token-type-activity',
      data: bars,
      layout: {
        title: { text: 'Mean |activation| per token type and layer' },
        barmode: 'group' as const,
        yaxis: { title: { text: 'mean |activation|' } },
        legend: { font: { size: 9 } },
      },
      width: 900,
      caption: `Mean absolute activation over channels and tokens of each type (R, s, a), over ${sets[0].steps.length} kept steps of the episode. The DMM paper's claim: in a Mamba stack the scan output of R and s tokens nearly vanishes against a tokens.`,
    });
    const rd = scanOutputRatios(activity, 'dmamba');
    const rm = scanOutputRatios(activity, 'dmm');
    const avg = (xs: number[]) => xs.reduce((a, v) => a + v, 0) / Math.max(1, xs.length);
    finding =
      `Scan output, a / mean(R, s) per layer (mean |a| over the mean of mean |R| and mean |s|, as in the table): ${MODEL_TITLE.dmamba} ${rd.map((x) => fmt(x, 2)).join(', ') || '–'}; ${MODEL_TITLE.dmm} ${rm.map((x) => fmt(x, 2)).join(', ') || '–'}. ` +
      (rd.length && rm.length
        ? avg(rd) > avg(rm) && avg(rd) > 2
          ? "Action tokens dominate the Mamba stack's scan output more than DMM's, the direction of the paper's Figure 3. "
          : "The kit does NOT see the paper's pattern clearly here: action tokens do not dominate the Mamba stack's scan output much more than DMM's. "
        : '') +
      `One episode of models trained at ${scale} scale; activations of barely trained models may not show what trained ones do. ${notes.length ? notes.join('; ') + '. ' : ''}${cellsLine(cells)}`;
    return {
      figures,
      pages: [explorerPage(sets, scale, records)],
      tables,
      finding,
      cells,
      numbers: { ratioDmamba: rd, ratioDmm: rm },
    };
  }
  return { figures, tables, finding, cells };
}

export async function activationHeatmaps(scale: string): Promise<NotebookResult> {
  const cells = await heatmapRuns(scale);
  return heatmapFigures(await heatmapTaps(cells, scale), cells, scale);
}

export function heatmapPaperNote(measured: readonly RunRecord[]): string {
  return paperNote('05-activation-heatmaps', cellsFor('paper'), measured, [
    'grids/03-main-results.json',
    'grids/07-context-length.json (the trained models it reads)',
  ]);
}
