/**
 * The offline activation explorer page (notebook 05): two models side by side, each with its own model,
 * layer, tap and step of one evaluation episode; under each tokens × channels heatmap, the per-token mean
 * |activation| profile. One line explains the chosen tap, a colorbar names what the colours are, and the
 * colour range is fixed (comparable across heatmaps) or auto (this heatmap's own min to max).
 *
 * The page is static HTML and JavaScript on the shared Plotly copy (saveStandalonePage). Every kept step of
 * the episode is in it, so the activations travel packed: each [3K][C] heatmap as signed bytes scaled by its
 * own max |value| (1/127 of it is the resolution, far below what a colour shows), base64-encoded.
 */
import type { StandalonePageContent } from './page';

/** One model's recorded activations, as the page reads them. */
export interface ExplorerSet {
  title: string;
  /** Token labels of the 3K sequence (R1, s1, a1, …). */
  labels: string[];
  layersList: number[];
  /** Episode steps at which the windows were kept. */
  steps: number[];
  episode: { length: number; ret: number };
  /** taps[tap][stepIndex][layer] = [3K][C] values. */
  taps: Record<string, number[][][][]>;
}

/** How the page names, explains and colours one tap. */
export interface ExplorerTap {
  label: string;
  /** One line: where in the block the tap sits. */
  explanation: string;
  colorscale: string | [number, string][];
}

/** A [3K][C] heatmap as signed bytes: value ≈ byte × scale. */
export interface PackedHeatmap {
  tokens: number;
  channels: number;
  scale: number;
  bytes: string;
}

export function packHeatmap(tokens: readonly (readonly number[])[]): PackedHeatmap {
  const channels = tokens[0]?.length ?? 0;
  let max = 0;
  for (const tok of tokens) for (const v of tok) max = Math.max(max, Math.abs(v));
  const scale = max > 0 ? max / 127 : 1;
  const out = new Int8Array(tokens.length * channels);
  tokens.forEach((tok, j) => tok.forEach((v, c) => (out[j * channels + c] = Math.round(v / scale))));
  return { tokens: tokens.length, channels, scale, bytes: Buffer.from(out.buffer).toString('base64') };
}

/** The inverse of packHeatmap (the page does the same in JavaScript). */
export function unpackHeatmap(p: PackedHeatmap): number[][] {
  const bytes = new Int8Array(Buffer.from(p.bytes, 'base64'));
  return Array.from({ length: p.tokens }, (_, j) =>
    Array.from({ length: p.channels }, (_, c) => bytes[j * p.channels + c] * p.scale),
  );
}

const PANEL = (i: number) => `<section class="panel">
<div class="controls">
<label>model <select id="model-${i}"></select></label>
<label>layer <select id="layer-${i}"></select></label>
<label>tap <select id="tap-${i}"></select></label>
<label>step <select id="step-${i}"></select></label>
</div>
<p class="tapinfo" id="tapinfo-${i}"></p>
<div id="heat-${i}" class="heat"></div>
<div id="profile-${i}" class="profile"></div>
<p class="info" id="info-${i}"></p>
</section>`;

const EXPLORER_BODY = `<h1 class="title">Activation explorer</h1>
<div class="controls"><label>colour range <select id="range">
<option value="fixed">fixed</option><option value="auto">auto (each heatmap's own min to max)</option>
</select></label></div>
<div class="panels">
${PANEL(0)}
${PANEL(1)}
</div>`;

const EXPLORER_SCRIPT = `(function () {
  var D = DMM_DATA, sets = D.sets, TAPS = D.taps, RANGE = D.range;
  function $(id) { return document.getElementById(id); }
  function fill(sel, values, labels) {
    var cur = sel.value; sel.innerHTML = '';
    values.forEach(function (v, i) { var o = document.createElement('option'); o.value = String(v); o.textContent = labels ? labels[i] : String(v); sel.appendChild(o); });
    if (values.map(String).indexOf(cur) >= 0) sel.value = cur;
  }
  function unpack(p) {
    var raw = atob(p.bytes), out = [];
    for (var j = 0; j < p.tokens; j++) {
      var tok = [];
      for (var c = 0; c < p.channels; c++) { var b = raw.charCodeAt(j * p.channels + c); tok.push((b > 127 ? b - 256 : b) * p.scale); }
      out.push(tok);
    }
    return out; // [3K][C]
  }
  function tapName(t) { return TAPS[t] ? TAPS[t].label : t; }
  function panel(i) {
    function set() { return sets[Number($('model-' + i).value)]; }
    function refill() {
      var s = set();
      fill($('layer-' + i), s.layersList, s.layersList.map(function (l) { return 'layer ' + (l + 1); }));
      var taps = Object.keys(s.taps), tapSel = $('tap-' + i), first = !tapSel.options.length;
      fill(tapSel, taps, taps.map(tapName));
      if (first && taps.indexOf(D.startTap) >= 0) tapSel.value = D.startTap;
      var stepSel = $('step-' + i), had = stepSel.options.length;
      fill(stepSel, s.steps.map(function (_, k) { return k; }), s.steps.map(function (t) { return 'step ' + t; }));
      if (!had) stepSel.value = String(s.steps.length - 1); // start at the episode's last kept step, as the figure
      draw();
    }
    function draw() {
      var s = set(), layer = Number($('layer-' + i).value), tap = $('tap-' + i).value, step = Number($('step-' + i).value);
      var tokens = unpack(s.taps[tap][step][layer]);
      var z = tokens[0].map(function (_, ch) { return tokens.map(function (tok) { return tok[ch]; }); }); // [C][3K]
      var fixed = $('range').value === 'fixed';
      var info = TAPS[tap] || { label: tap, explanation: '', colorscale: 'Viridis' };
      var title = s.title + ' · layer ' + (layer + 1) + ' · ' + tapName(tap) + ' · step ' + s.steps[step];
      Plotly.react('heat-' + i, [{
        type: 'heatmap', z: z, x: s.labels, colorscale: info.colorscale,
        zmin: fixed ? RANGE[0] : undefined, zmax: fixed ? RANGE[1] : undefined, zauto: !fixed,
        colorbar: { title: { text: 'activation', side: 'right' }, thickness: 12 },
        hovertemplate: 'token %{x}<br>channel %{y}<br>activation %{z:.3f}<extra></extra>'
      }], {
        title: { text: title, font: { size: 13 } },
        margin: { t: 40, l: 50, r: 10, b: 40 },
        xaxis: { tickmode: 'array', tickvals: s.labels, tickfont: { size: 8 }, tickangle: -90 },
        yaxis: { title: { text: 'channel' } }
      }, { responsive: true, displaylogo: false });
      var profile = tokens.map(function (tok) { return tok.reduce(function (a, v) { return a + Math.abs(v); }, 0) / tok.length; });
      var colours = s.labels.map(function (l) { return { R: '#d1495b', s: '#00798c', a: '#edae49' }[l[0]] || '#666'; });
      Plotly.react('profile-' + i, [{ type: 'bar', x: s.labels, y: profile, marker: { color: colours },
        hovertemplate: 'token %{x}<br>mean |activation| %{y:.3f}<extra></extra>' }], {
        title: { text: 'mean |activation| per token (R red, s teal, a yellow)', font: { size: 11 } },
        margin: { t: 30, l: 50, r: 10, b: 40 },
        xaxis: { tickmode: 'array', tickvals: s.labels, tickfont: { size: 8 }, tickangle: -90 },
        yaxis: { title: { text: 'mean |act.|' }, rangemode: 'tozero' }
      }, { responsive: true, displaylogo: false });
      $('tapinfo-' + i).textContent = info.label + ': ' + info.explanation;
      $('info-' + i).textContent = s.title + ': episode of ' + s.episode.length + ' steps, return ' + s.episode.ret.toFixed(0) +
        '; ' + z.length + ' channels; colours ' + (fixed ? 'fixed to [' + RANGE[0] + ', ' + RANGE[1] + ']' : 'from this heatmap\\'s min to max') + '.';
    }
    fill($('model-' + i), sets.map(function (_, k) { return k; }), sets.map(function (s) { return s.title; }));
    $('model-' + i).value = String(Math.min(i, sets.length - 1));
    $('model-' + i).onchange = refill;
    ['layer-', 'tap-', 'step-'].forEach(function (k) { $(k + i).onchange = draw; });
    return { refill: refill, draw: draw };
  }
  var panels = [panel(0), panel(1)];
  $('range').options[0].textContent = 'fixed [' + RANGE[0] + ', ' + RANGE[1] + ']';
  $('range').onchange = function () { panels.forEach(function (p) { p.draw(); }); };
  panels.forEach(function (p) { p.refill(); });
})();`;

const EXPLORER_STYLE = `body{max-width:1400px}
.title{font-size:1.3rem;margin:.2rem 0 .6rem}
.controls label{margin-right:1em;font-size:.9rem}
.panels{display:grid;grid-template-columns:1fr 1fr;gap:1rem}
.panel{min-width:0}
.tapinfo{font-size:.85rem;color:#333;min-height:2.4em;margin:.4rem 0}
.heat{width:100%;height:520px}
.profile{width:100%;height:200px}
.info{font-size:.8rem;color:#666}`;

/**
 * The page's body, script, style and data for saveStandalonePage: `sets` the models (two panels start on
 * the first two), `taps` how each tap is named, explained and coloured, `range` the fixed colour range,
 * `startTap` the tap both panels open on.
 */
export function heatmapExplorer(
  sets: readonly ExplorerSet[],
  taps: Record<string, ExplorerTap>,
  range: [number, number],
  startTap?: string,
): StandalonePageContent {
  const packed = sets.map((s) => ({
    ...s,
    taps: Object.fromEntries(
      Object.entries(s.taps).map(([tap, perStep]) => [tap, perStep.map((layers) => layers.map(packHeatmap))]),
    ),
  }));
  return {
    body: EXPLORER_BODY,
    script: EXPLORER_SCRIPT,
    style: EXPLORER_STYLE,
    data: { sets: packed, taps, range, startTap },
  };
}
