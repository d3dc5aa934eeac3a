/// <reference lib="dom" />
/**
 * The live explorer's browser entry (bundled by bundle.ts into figures/assets): two trained models play the
 * same evaluation episode (same reset seed, same RTG target), one LiveRun each, with the kit's own models,
 * MuJoCo env and evaluator windows. Beside each stick figure: the tokens × channels heatmap of the chosen tap
 * and layer at the shown step, the mean |activation| per token type over the steps played, and the share of
 * the token-gradient norm per input token of the shown window (inspect.ts says how it differs from Figure 4).
 *
 * The page script calls `DmmLive.startPage(DMM_DATA)`; `window.dmmLive` is then the handle the test and the
 * frame-rate bench drive (play n steps, change controls, read what was played).
 */
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm';
import { initBackend, type BackendName } from '../backend';
import { makeEnv } from '../envs/env';
import { stickFigureFrameSvg } from '../envs/stick-figure';
import type { SequenceModel } from '../models';
import { tokenLabels, TOKEN_TYPES, type StepInsight } from './inspect';
import type { LivePageData } from './page-data';
import { LiveRun, restoreLiveModel, type LiveModelEntry } from './run';

declare const Plotly: {
  react(el: HTMLElement, data: unknown[], layout: unknown, config?: unknown): Promise<unknown>;
};

// The wasm backend fetches its binaries; a page on file:// can fetch data: URLs only, so they travel inside the
// bundle. setWasmPaths wants the threaded binary's name too, but threads need cross-origin isolation, which a
// file:// page never has, so that name never loads and points at the SIMD binary instead of adding 0.6 MB.
setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmSimd,
});

const TYPE_COLOURS: Record<string, string> = { R: '#d1495b', s: '#00798c', a: '#edae49' };
const PLOT_CONFIG = { displaylogo: false, responsive: true };

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text = '') {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text) e.textContent = text;
  return e;
}

interface Panel {
  entry: LiveModelEntry;
  model: SequenceModel;
  run: LiveRun;
  body: HTMLElement;
  status: HTMLElement;
  heat: HTMLElement;
  activity: HTMLElement;
  grads: HTMLElement;
}

/** What the handle reports of one model's episode. */
export interface PlayedReport {
  model: string;
  actions: number[][];
  rewards: number[];
  /** means[t][tap][layer] = [R, s, a]. */
  means: Record<string, number[][]>[];
  done: boolean;
}

/** The shown step's tap values of the shown layer ([3K · C], null where the model has no such tap) and gradient norms. */
export interface ShownStep {
  model: string;
  step: number;
  tap: string;
  layer: number;
  values: number[] | null;
  gradientNorms: number[];
}

export interface LiveHandle {
  backend: BackendName;
  /** Plays n steps (or until both episodes end), drawing each; resolves with the frames drawn per second. */
  play(n: number): Promise<number>;
  pause(): void;
  setTarget(target: number): Promise<void>;
  setSeed(seed: number): Promise<void>;
  setLayer(layer: number): Promise<void>;
  setTap(tap: string): Promise<void>;
  setRange(range: 'auto' | 'fixed'): Promise<void>;
  scrub(step: number): Promise<void>;
  played(): PlayedReport[];
  /** The shown step's taps of the shown layer, per model: [3K · C] values. */
  shown(): Promise<ShownStep[]>;
}

async function start(data: LivePageData, root: HTMLElement): Promise<LiveHandle> {
  const query = new URLSearchParams(location.search);
  const backend = await initBackend({ backend: query.get('backend') ?? undefined, log: false });
  const taps = data.taps;
  let target = data.target;
  let seed = data.seed;
  let layer = 0;
  let tap = data.startTap;
  let range: 'auto' | 'fixed' = 'fixed';
  let view = 0;
  let playing = false;

  // Controls.
  const bar = el('div', { class: 'bar' });
  const playBtn = el('button', { id: 'play' }, 'play');
  const stepBtn = el('button', { id: 'step' }, 'step');
  const restartBtn = el('button', { id: 'restart' }, 'restart');
  const scrub = el('input', { id: 'scrub', type: 'range', min: '0', max: '0', value: '0' });
  const stepInfo = el('span', { id: 'stepinfo', class: 'info' });
  bar.append(playBtn, stepBtn, restartBtn, el('label', {}, 'step '), scrub, stepInfo);
  const bar2 = el('div', { class: 'bar' });
  const targetIn = el('input', { id: 'target', type: 'number', step: '100', value: String(target) });
  const seedIn = el('input', { id: 'seed', type: 'number', step: '1', value: String(seed) });
  const layerSel = el('select', { id: 'layer' });
  const tapSel = el('select', { id: 'tap' });
  const rangeSel = el('select', { id: 'range' });
  rangeSel.append(
    el('option', { value: 'fixed' }, `fixed [${data.range.join(', ')}]`),
    el('option', { value: 'auto' }, "auto (each heatmap's own min to max)"),
  );
  const labelled = (text: string, input: HTMLElement) => {
    const l = el('label', {}, text + ' ');
    l.append(input);
    return l;
  };
  bar2.append(
    labelled('RTG target', targetIn),
    labelled('reset seed', seedIn),
    labelled('layer', layerSel),
    labelled('tap', tapSel),
    labelled('colour range', rangeSel),
  );
  const tapInfo = el('p', { id: 'tapinfo', class: 'tapinfo' });
  const cols = el('div', { class: 'panels' });
  root.append(bar, bar2, tapInfo, cols);

  // One panel per model, each with its own environment.
  const panels: Panel[] = [];
  for (const [i, entry] of data.models.entries()) {
    const model = restoreLiveModel(entry);
    const env = await makeEnv(entry.env);
    const section = el('section', { class: 'panel', id: `panel-${i}` });
    section.append(el('h2', {}, entry.title), el('p', { class: 'source' }, entry.source));
    const body = el('div', { class: 'body', id: `body-${i}` });
    const status = el('p', { class: 'status', id: `status-${i}` });
    const heat = el('div', { class: 'heat', id: `heat-${i}` });
    const activity = el('div', { class: 'activity', id: `activity-${i}` });
    const grads = el('div', { class: 'grads', id: `grads-${i}` });
    section.append(body, status, heat, activity, grads);
    cols.append(section);
    panels.push({
      entry,
      model,
      run: new LiveRun(model, entry, env, { target, seed }),
      body,
      status,
      heat,
      activity,
      grads,
    });
  }
  const layers = Math.max(...panels.map((p) => Number((p.model.config as Record<string, unknown>).nLayer ?? 1)));
  layerSel.append(...Array.from({ length: layers }, (_, l) => el('option', { value: String(l) }, `layer ${l + 1}`)));
  const tapNames = Object.keys(taps);
  tapSel.append(...tapNames.map((t) => el('option', { value: t }, taps[t].label)));
  tapSel.value = tap;
  const links = el('p', { class: 'meta' }, `Backend: ${backend}. Illustrates: `);
  data.links.forEach((l, k) => {
    if (k) links.append(' · ');
    links.append(el('a', { href: l.href }, l.text));
  });
  root.append(links);

  const lastIndex = () => Math.max(0, ...panels.map((p) => p.run.steps.length - 1));

  async function drawPanel(p: Panel): Promise<void> {
    const steps = p.run.steps;
    if (!steps.length) return;
    const i = Math.min(view, steps.length - 1);
    const played = steps[i];
    const insight: StepInsight = await p.run.insightAt(i);
    const K = Number((p.model.config as Record<string, unknown>).contextLength);
    const labels = tokenLabels(K);
    p.body.innerHTML = stickFigureFrameSvg(played.segments, {
      panelWidth: 300,
      panelHeight: 170,
      spanX: 2.4,
      spanZ: 1.8,
      label: `t=${i} (${(i * p.run.episode.env.dt).toFixed(2)} s)`,
    });
    const end =
      p.run.done && i === steps.length - 1
        ? p.run.episode.terminated
          ? ', then fell (terminated)'
          : ', time limit'
        : '';
    p.status.textContent =
      `step ${i} of ${steps.length}${end} · return so far ${p.run.returnUpTo(i).toFixed(1)} · ` +
      `RTG ${(played.window.returnsToGo[K - 1] * p.entry.eval.returnScale).toFixed(0)} · action [${Array.from(played.action, (v) => v.toFixed(2)).join(', ')}]`;
    const values = insight.taps[tap]?.[layer];
    const info = taps[tap];
    if (values) {
      const C = insight.channels[tap];
      const z = Array.from({ length: C }, (_, c) => labels.map((_, j) => values[j * C + c])); // [C][3K]
      const fixed = range === 'fixed';
      await Plotly.react(
        p.heat,
        [
          {
            type: 'heatmap',
            z,
            x: labels,
            colorscale: info.colorscale,
            zmin: fixed ? data.range[0] : undefined,
            zmax: fixed ? data.range[1] : undefined,
            zauto: !fixed,
            colorbar: { title: { text: 'activation', side: 'right' }, thickness: 10 },
            hovertemplate: 'token %{x}<br>channel %{y}<br>activation %{z:.3f}<extra></extra>',
          },
        ],
        {
          title: { text: `${info.label}, layer ${layer + 1}, step ${i} (tokens × channels)`, font: { size: 12 } },
          margin: { t: 30, l: 45, r: 10, b: 40 },
          xaxis: { tickmode: 'array', tickvals: labels, tickfont: { size: 8 }, tickangle: -90 },
          yaxis: { title: { text: 'channel' } },
        },
        PLOT_CONFIG,
      );
    } else {
      p.heat.textContent = `${p.entry.title} has no ${info.label} tap.`;
    }
    const xs = steps.map((s) => s.t);
    await Plotly.react(
      p.activity,
      TOKEN_TYPES.map((k) => ({
        type: 'scatter',
        mode: 'lines',
        name: k,
        x: xs,
        y: steps.map((s) => s.means[tap]?.[layer]?.[k] ?? null),
        line: { color: TYPE_COLOURS[k], width: 1.5 },
      })),
      {
        title: { text: `mean |activation| per token type, ${info.label}, layer ${layer + 1}`, font: { size: 11 } },
        margin: { t: 28, l: 45, r: 10, b: 32 },
        xaxis: { title: { text: 'episode step' }, range: [0, Math.max(10, xs.length - 1)] },
        yaxis: { rangemode: 'tozero' },
        legend: { orientation: 'h', x: 1, xanchor: 'right', y: 1.15 },
        shapes: [{ type: 'line', x0: i, x1: i, yref: 'paper', y0: 0, y1: 1, line: { color: '#999', dash: 'dot' } }],
      },
      PLOT_CONFIG,
    );
    const g = Array.from(insight.gradientNorms);
    const total = g.reduce((a, v) => a + v, 0) || 1;
    await Plotly.react(
      p.grads,
      [
        {
          type: 'bar',
          x: labels,
          y: g.map((v) => v / total),
          marker: { color: labels.map((l) => TYPE_COLOURS[l[0]]) },
          hovertemplate: 'token %{x}<br>share %{y:.3f}<extra></extra>',
        },
      ],
      {
        title: { text: `share of ‖∂ℒ/∂x_j‖ per input token, step ${i}'s window`, font: { size: 11 } },
        margin: { t: 28, l: 45, r: 10, b: 40 },
        xaxis: { tickmode: 'array', tickvals: labels, tickfont: { size: 8 }, tickangle: -90 },
        yaxis: { rangemode: 'tozero' },
      },
      PLOT_CONFIG,
    );
  }

  async function draw(): Promise<void> {
    const last = lastIndex();
    view = Math.min(view, last);
    scrub.max = String(last);
    scrub.value = String(view);
    stepInfo.textContent = `${view} / ${last}`;
    tapInfo.textContent = `${taps[tap].label}: ${taps[tap].explanation}`;
    for (const p of panels) await drawPanel(p);
  }

  /** One step of every episode still running; the view follows the newest step. */
  async function stepAll(): Promise<boolean> {
    let any = false;
    for (const p of panels) any = (await p.run.advance()) !== undefined || any;
    view = lastIndex();
    return any;
  }

  // Steps, restarts and redraws take turns: a restart must not reset an env that a step in flight still uses.
  let turn: Promise<unknown> = Promise.resolve();
  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = turn.then(fn);
    turn = next.catch(() => undefined);
    return next;
  }
  const redraw = () => exclusive(draw);
  const restart = () => {
    playing = false;
    return exclusive(async () => {
      for (const p of panels) p.run = new LiveRun(p.model, p.entry, p.run.episode.env, { target, seed });
      view = 0;
      await stepAll();
      await draw();
    });
  };
  const stepOnce = () => {
    playing = false;
    return exclusive(async () => {
      await stepAll();
      await draw();
    });
  };

  async function play(n: number): Promise<number> {
    playing = true;
    playBtn.textContent = 'pause';
    const t0 = performance.now();
    let frames = 0;
    for (; frames < n && playing; frames++) {
      const more = await exclusive(async () => (await stepAll()) && (await draw(), true));
      if (!more) break;
      await new Promise((r) => requestAnimationFrame(() => r(undefined)));
    }
    playing = false;
    playBtn.textContent = 'play';
    return (frames * 1000) / Math.max(1, performance.now() - t0);
  }

  playBtn.onclick = () => (playing ? (playing = false) : void play(Infinity));
  stepBtn.onclick = () => void stepOnce();
  restartBtn.onclick = () => void restart();
  scrub.oninput = () => {
    playing = false;
    view = Number(scrub.value);
    void redraw();
  };
  targetIn.onchange = () => {
    target = Number(targetIn.value);
    void restart();
  };
  seedIn.onchange = () => {
    seed = Math.trunc(Number(seedIn.value));
    void restart();
  };
  layerSel.onchange = () => {
    layer = Number(layerSel.value);
    void redraw();
  };
  tapSel.onchange = () => {
    tap = tapSel.value;
    void redraw();
  };
  rangeSel.onchange = () => {
    range = rangeSel.value as 'auto' | 'fixed';
    void redraw();
  };

  await restart(); // the first step, so the page opens on a drawn frame
  return {
    backend,
    play,
    pause: () => void (playing = false),
    setTarget: async (v) => {
      target = v;
      targetIn.value = String(v);
      await restart();
    },
    setSeed: async (v) => {
      seed = v;
      seedIn.value = String(v);
      await restart();
    },
    setLayer: async (l) => {
      layer = l;
      layerSel.value = String(l);
      await redraw();
    },
    setTap: async (t) => {
      tap = t;
      tapSel.value = t;
      await redraw();
    },
    setRange: async (r) => {
      range = r;
      rangeSel.value = r;
      await redraw();
    },
    scrub: async (i) => {
      playing = false;
      view = i;
      await redraw();
    },
    played: () =>
      panels.map((p) => ({
        model: p.entry.model,
        actions: p.run.steps.map((s) => Array.from(s.action)),
        rewards: p.run.steps.map((s) => s.reward),
        means: p.run.steps.map((s) =>
          Object.fromEntries(Object.entries(s.means).map(([k, ls]) => [k, ls.map((m) => [m.R, m.s, m.a])])),
        ),
        done: p.run.done,
      })),
    shown: () =>
      exclusive(() =>
        Promise.all(
          panels.map(async (p) => {
            const i = Math.min(view, p.run.steps.length - 1);
            const insight = await p.run.insightAt(i);
            const values = insight.taps[tap]?.[layer];
            return {
              model: p.entry.model,
              step: i,
              tap,
              layer,
              values: values ? Array.from(values) : null,
              gradientNorms: Array.from(insight.gradientNorms),
            };
          }),
        ),
      ),
  };
}

/** Starts the page in `#live-root`; the handle goes to `window.dmmLive` once ready (or the error to the page). */
export function startPage(data: LivePageData): void {
  const root = document.getElementById('live-root') as HTMLElement;
  const w = window as unknown as { dmmLive?: LiveHandle; dmmLiveError?: string };
  start(data, root).then(
    (handle) => (w.dmmLive = handle),
    (err: Error) => {
      w.dmmLiveError = err.message;
      root.prepend(el('p', { class: 'error' }, `The explorer failed to start: ${err.message}`));
      throw err;
    },
  );
}
