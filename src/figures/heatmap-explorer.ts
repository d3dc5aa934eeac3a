/**
 * The offline activation explorer page (notebook 05): pick a model, layer, tap and step of one evaluation
 * episode and see its tokens × channels heatmap. The page is static HTML and JavaScript on the shared Plotly
 * copy (saveStandalonePage); the activations come in as data.
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

const EXPLORER_BODY = `<div class="controls">
<label>model <select id="model"></select></label>
<label>layer <select id="layer"></select></label>
<label>tap <select id="tap"></select></label>
<label>step <select id="step"></select></label>
</div>
<div id="heat" style="width:100%;height:620px"></div>
<p id="info"></p>`;

const EXPLORER_SCRIPT = `(function () {
  var D = DMM_DATA, sets = D.sets;
  function $(id) { return document.getElementById(id); }
  function fill(sel, values, labels) {
    var cur = sel.value; sel.innerHTML = '';
    values.forEach(function (v, i) { var o = document.createElement('option'); o.value = String(v); o.textContent = labels ? labels[i] : String(v); sel.appendChild(o); });
    if (values.map(String).indexOf(cur) >= 0) sel.value = cur;
  }
  function set() { return sets[Number($('model').value)]; }
  function refill() {
    var s = set();
    fill($('layer'), s.layersList, s.layersList.map(function (l) { return 'layer ' + (l + 1); }));
    fill($('tap'), Object.keys(s.taps));
    fill($('step'), s.steps.map(function (_, i) { return i; }), s.steps.map(function (t) { return 'step ' + t; }));
    draw();
  }
  function draw() {
    var s = set(), layer = Number($('layer').value), tap = $('tap').value, step = Number($('step').value);
    var tokens = s.taps[tap][step][layer];
    var z = tokens[0].map(function (_, ch) { return tokens.map(function (tok) { return tok[ch]; }); });
    Plotly.react('heat', [{ type: 'heatmap', z: z, x: s.labels, zmin: -5, zmax: 5, colorscale: /scan/.test(tap) ? 'Viridis' : [[0, 'rgb(0,128,102)'], [1, 'rgb(255,255,102)']] }],
      { title: { text: s.title + ' · layer ' + (layer + 1) + ' · ' + tap + ' · step ' + s.steps[step] }, xaxis: { title: { text: 'token (R, s, a per step)' } }, yaxis: { title: { text: 'channel' } } },
      { responsive: true, displaylogo: false });
    $('info').textContent = s.title + ': episode of ' + s.episode.length + ' steps, return ' + s.episode.ret.toFixed(0) + '. Channels: ' + z.length + '.';
  }
  fill($('model'), sets.map(function (_, i) { return i; }), sets.map(function (s) { return s.title; }));
  $('model').onchange = refill; $('layer').onchange = draw; $('tap').onchange = draw; $('step').onchange = draw;
  refill();
})();`;

/** The page's body, script, style and data for saveStandalonePage. */
export function heatmapExplorer(sets: ExplorerSet[]): StandalonePageContent {
  return { body: EXPLORER_BODY, script: EXPLORER_SCRIPT, style: '.controls label{margin-right:1.2em}', data: { sets } };
}
