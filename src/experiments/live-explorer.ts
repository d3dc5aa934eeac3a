/**
 * The live explorer (figures/live-explorer.html): notebook 05's two trained models (DMM and Decision Mamba, the
 * K=8 hopper-medium cells) carried into a page that plays an evaluation episode in the browser with the kit's
 * own code (src/live). The runs come from the results cache; a run whose checkpoint is gone (a fresh clone
 * has records only) is retrained into .cache by loadTrained, from its spec and seed, so the page is rebuilt
 * reproducibly. CLI: `node --import tsx tools/live/build-page.ts [--scale notebook]`.
 */
import * as fs from 'fs';
import * as path from 'path';
import { saveStandalonePage, type StandalonePageSpec } from '../figures';
import { figuresDir } from '../figures/paths';
import { primaryTarget } from '../config/presets';
import type { EnvName, ModelName } from '../config/names';
import type { EvalConfig } from '../config/eval';
import { saveModelWeights } from '../models';
import { writeLiveBundle } from '../live/bundle';
import type { LiveModelEntry } from '../live/run';
import type { LivePageData } from '../live/page-data';
import type { RunRecord } from '../results/record';
import { COLOUR_RANGE, TAPS, heatmapRuns } from './activation-heatmaps';
import { MODEL_LABELS, type Model } from './plan';
import { fmt, runsMeta } from './report';
import { loadTrained, type Trained } from './trained';

/** The reset seed the page opens on: notebook 05's episode (activation-heatmaps' episodeWindows). */
export const LIVE_SEED = 7;

/** One trained model as the page carries it. */
export function liveEntry(t: Trained): LiveModelEntry {
  const r = t.record;
  const ev = r.config.eval as unknown as EvalConfig;
  const steps = Number(r.config.train.iterations) * Number(r.config.train.stepsPerIteration);
  return {
    model: r.spec.model as ModelName,
    title: MODEL_LABELS[r.spec.model as Model] ?? r.spec.model,
    env: r.spec.env as EnvName,
    weights: Buffer.from(saveModelWeights(t.model)).toString('base64'),
    stateMean: Array.from(t.stateMean),
    stateStd: Array.from(t.stateStd),
    eval: {
      returnScale: ev.returnScale,
      maxEpLen: ev.maxEpLen,
      evalPadding: ev.evalPadding,
      maxEpisodeSteps: ev.maxEpisodeSteps,
    },
    source:
      `${r.spec.dataset}, K=${(t.model.config as Record<string, unknown>).contextLength}, ${r.spec.scale} scale: ` +
      `${steps} training steps, seed ${r.seed}, ${r.parameterCount} parameters; ` +
      (t.retrainedRecord
        ? `checkpoint retrained from the spec, normalised score ${fmt(t.retrainedRecord.scores?.final ?? NaN, 1)} (the committed record's run: ${fmt(r.scores?.final ?? NaN, 1)})`
        : `normalised score ${fmt(r.scores?.final ?? NaN, 1)}`),
  };
}

const BODY = (
  mujoco: string,
  bundle: string,
) => `<h1 class="title">Live explorer: Decision MetaMamba and Decision Mamba act, with their insides visible</h1>
<div id="live-root"></div>
<script src="${mujoco}"></script>
<script src="${bundle}"></script>`;

const STYLE = `body{max-width:1400px}
.title{font-size:1.3rem;margin:.2rem 0 .6rem}
.bar{margin:.3rem 0;font-size:.9rem}
.bar label,.bar button{margin-right:.8em}
.bar input[type=number]{width:6em}
.bar input[type=range]{width:320px;vertical-align:middle}
.panels{display:grid;grid-template-columns:1fr 1fr;gap:1rem}
.panel{min-width:0}
.panel h2{font-size:1.05rem;margin:.4rem 0 .1rem}
.source,.status,.info{font-size:.8rem;color:#555;margin:.2rem 0}
.tapinfo{font-size:.85rem;color:#333;min-height:2.4em;margin:.4rem 0}
.heat{width:100%;height:360px}
.activity{width:100%;height:200px}
.grads{width:100%;height:200px}
.error{color:#b00020;font-weight:bold}`;

/** The page's spec: the trained models (their records label it), the controls' starting values and the links to what it illustrates. */
export function livePage(
  models: readonly LiveModelEntry[],
  records: readonly RunRecord[],
  scale: string,
  assets: { mujoco: string; bundle: string },
): StandalonePageSpec {
  const env = models[0]?.env ?? 'hopper';
  const data: LivePageData = {
    models: [...models],
    taps: TAPS,
    startTap: 'scanOutput', // where the paper's claim is
    range: COLOUR_RANGE,
    target: primaryTarget(env),
    seed: LIVE_SEED,
    links: [
      { href: '../notebooks/05-activation-heatmaps.ipynb', text: 'notebook 05' },
      { href: '05-activation-heatmaps.html', text: 'Figure 3 (activation heatmaps)' },
      { href: '05-heatmap-explorer.html', text: 'the recorded explorer' },
      { href: '06-gradient-norms.html', text: 'Figure 4 (gradient norms)' },
    ],
  };
  return {
    name: 'live-explorer',
    title: 'Live explorer: DMM and Decision Mamba playing hopper, activations and gradients per step',
    notebook: '05-activation-heatmaps',
    scale,
    ...runsMeta(records, scale),
    caption:
      `Both models play the same evaluation episode in the page (hopper, the same reset seed and RTG target; docs/spec.md §10 windows, official padding), ` +
      `with the kit's own models and MuJoCo env bundled for the browser (TensorFlow.js on WebGPU where the browser has it, wasm otherwise). ` +
      `Per model: the body, the tokens × channels heatmap of the chosen tap and layer at the shown step (colours fixed to [${COLOUR_RANGE.join(', ')}] or auto), ` +
      `the mean |activation| per token type (R, s, a) over the steps played, and the share of ‖∂ℒ/∂x_j‖ per input token of the shown window, ` +
      `ℒ the masked MSE of the window's predicted actions against 0 (an evaluation window has no dataset actions; Figure 4 uses them). ` +
      `Models: notebook 05's K=8 hopper-medium cells at ${scale} scale (${models.map((m) => m.title).join(', ')}).`,
    body: BODY(assets.mujoco, assets.bundle),
    script: 'DmmLive.startPage(DMM_DATA);',
    style: STYLE,
    data,
  };
}

/** Trains or restores notebook 05's models, builds the scripts and writes figures/live-explorer.html; returns its path. */
export async function liveExplorer(scale: string): Promise<string> {
  const cells = await heatmapRuns(scale);
  const trained: Trained[] = [];
  for (const o of cells.outcomes) {
    const t = await loadTrained(o, scale);
    if (!t)
      throw new Error(
        `Error in liveExplorer: ${o.spec.model} must have a trained model, got none (${o.error ?? 'missing checkpoint'}).`,
      );
    trained.push(t);
  }
  try {
    const assets = writeLiveBundle(figuresDir());
    const records = trained.map((t) => t.record);
    return saveStandalonePage(livePage(trained.map(liveEntry), records, scale, assets));
  } finally {
    for (const t of trained) t.model.dispose();
  }
}

/** DMM_DATA of a written live explorer page: the checkpoints it carries, to rebuild a page without training. */
export function readLivePageData(file: string): LivePageData {
  const m = /var DMM_DATA = (.*);\n/.exec(fs.readFileSync(file, 'utf8'));
  if (!m)
    throw new Error(
      `Error in readLivePageData: ${file} must be a live explorer page, got no DMM_DATA. Build one with tools/live/build-page.ts.`,
    );
  return JSON.parse(m[1]) as LivePageData;
}

/** A page in the figure folder around given checkpoints, from the current src/ (the test and the bench). */
export function rebuildLivePage(models: readonly LiveModelEntry[], scale: string): string {
  const dir = figuresDir();
  fs.mkdirSync(path.join(dir, 'assets'), { recursive: true });
  return saveStandalonePage(livePage(models, [], scale, writeLiveBundle(dir)));
}
