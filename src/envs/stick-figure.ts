/**
 * Stick-figure views of a rollout: the body's capsules as line segments over time, seen from the side (x-z plane)
 * as an SVG strip or a Plotly animation figure spec ({ data, layout, frames }) for the kit's figure pipeline, or,
 * for an AntMaze env, from above (x-y plane) over the maze's walls. Pure functions returning strings or data, no
 * browser needed.
 */
import type { MujocoEnv } from './env';
import { ANTMAZE_NAMES, type AntMazeName, type EnvId } from '../config/names';
import { check } from '../util/check';
import { GOAL_RADIUS, MAZES, MAZE_SCALING, wallBoxes } from './maze';

export interface Rollout {
  envId: EnvId;
  /** Environment time step in seconds. */
  dt: number;
  /** 'side': frames hold [x0, z0, x1, z1] per capsule; 'top' (AntMaze): [x0, y0, x1, y1]. */
  view: 'side' | 'top';
  /** Capsule segments per frame; frame 0 is the reset state. */
  frames: Float64Array[];
  /** Torso (x, y) per frame, [x0, y0, x1, y1, …]. */
  path: Float64Array;
  /** An AntMaze episode's goal (x, y). */
  goal?: [number, number];
  /** Reward of the step that led to frame t (frames[t + 1]). */
  rewards: number[];
  terminated: boolean;
  truncated: boolean;
  /** Free text for captions: policy, seed. */
  label: string;
}

/**
 * Runs one episode (or maxSteps steps) of `policy` and records the stick figure after every step, seen from the
 * side, or from above for an AntMaze env.
 */
export function recordRollout(
  env: MujocoEnv,
  policy: (observation: Float64Array, t: number) => ArrayLike<number>,
  options: { maxSteps?: number; label?: string } = {},
): Rollout {
  const maxSteps = options.maxSteps ?? env.maxEpisodeSteps;
  const view = env.task.maze ? 'top' : 'side';
  let observation = env.reset();
  const goal = env.task.maze ? env.goal : undefined;
  const frames = [env.segments(undefined, view)];
  const path = [env.getState().qpos.subarray(0, 2)];
  const rewards: number[] = [];
  let terminated = false;
  let truncated = false;
  for (let t = 0; t < maxSteps && !terminated && !truncated; t++) {
    const r = env.step(policy(observation, t));
    observation = r.observation;
    terminated = r.terminated;
    truncated = r.truncated;
    rewards.push(r.reward);
    frames.push(env.segments(undefined, view));
    path.push(r.info.qpos.subarray(0, 2));
  }
  const xy = new Float64Array(2 * path.length);
  path.forEach((p, t) => xy.set(p, 2 * t));
  return {
    envId: env.id,
    dt: env.dt,
    view,
    frames,
    path: xy,
    ...(goal ? { goal } : {}),
    rewards,
    terminated,
    truncated,
    label: options.label ?? '',
  };
}

/** One colour per capsule, cycling (torso first, then limbs in model order). */
const COLOURS = ['#1f3b73', '#d1495b', '#edae49', '#00798c', '#66a182', '#8d5a97', '#e07a5f', '#3d405b'];

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export interface StripOptions {
  /** Number of snapshots in the strip (evenly spaced over the rollout, first and last included). */
  panels: number;
  /** Panel size in pixels. */
  panelWidth: number;
  panelHeight: number;
  /** World metres shown across a panel (centred on the body) and above the ground. */
  spanX: number;
  spanZ: number;
  title: string;
}

const STRIP_DEFAULTS: Readonly<StripOptions> = Object.freeze({
  panels: 8,
  panelWidth: 150,
  panelHeight: 190,
  spanX: 2.0,
  spanZ: 2.2,
  title: '',
});

/**
 * One panel: the body centred on its mean x, the ground line with ticks every 0.5 m of world x (so forward
 * motion shows), and `label` with the x position under it.
 */
function panelSvg(
  seg: ArrayLike<number>,
  left: number,
  top: number,
  o: Pick<StripOptions, 'panelWidth' | 'panelHeight' | 'spanX' | 'spanZ'>,
  label: string,
): string[] {
  const scale = Math.min(o.panelWidth / o.spanX, (o.panelHeight - 30) / o.spanZ);
  let cx = 0;
  for (let j = 0; j < seg.length; j += 4) cx += seg[j] + seg[j + 2];
  cx /= seg.length / 2;
  const groundY = top + o.panelHeight - 22;
  const px = (x: number) => left + o.panelWidth / 2 + (x - cx) * scale;
  const pz = (z: number) => groundY - z * scale;
  const parts = [
    `<g>`,
    `<rect x="${left + 1}" y="${top}" width="${o.panelWidth - 2}" height="${o.panelHeight}" fill="#f7f7f7" stroke="#ddd"/>`,
    `<line x1="${left + 1}" y1="${groundY}" x2="${left + o.panelWidth - 1}" y2="${groundY}" stroke="#777" stroke-width="1.5"/>`,
  ];
  const x0 = Math.ceil((cx - o.spanX / 2) * 2) / 2;
  for (let x = x0; x <= cx + o.spanX / 2; x += 0.5) {
    parts.push(
      `<line x1="${px(x).toFixed(1)}" y1="${groundY}" x2="${px(x).toFixed(1)}" y2="${groundY + 4}" stroke="#777"/>`,
    );
  }
  for (let j = 0; j < seg.length; j += 4) {
    const colour = COLOURS[(j / 4) % COLOURS.length];
    parts.push(
      `<line x1="${px(seg[j]).toFixed(1)}" y1="${pz(seg[j + 1]).toFixed(1)}" x2="${px(seg[j + 2]).toFixed(1)}" y2="${pz(seg[j + 3]).toFixed(1)}" stroke="${colour}" stroke-width="5" stroke-linecap="round" opacity="0.9"/>`,
    );
  }
  parts.push(
    `<text x="${left + 6}" y="${groundY + 16}" font-size="10" fill="#333">${escapeXml(label)} x=${cx.toFixed(2)} m</text>`,
  );
  parts.push(`</g>`);
  return parts;
}

/** One frame of the body (capsule segments, as MujocoEnv.segments gives them) as an SVG panel: the live explorer's view. */
export function stickFigureFrameSvg(
  segments: ArrayLike<number>,
  options: Partial<Pick<StripOptions, 'panelWidth' | 'panelHeight' | 'spanX' | 'spanZ'>> & { label?: string } = {},
): string {
  const o = { ...STRIP_DEFAULTS, ...options };
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${o.panelWidth}" height="${o.panelHeight}" viewBox="0 0 ${o.panelWidth} ${o.panelHeight}" font-family="Helvetica, Arial, sans-serif">`,
    ...panelSvg(segments, 0, 0, o, options.label ?? ''),
    `</svg>`,
  ].join('\n');
}

/**
 * An SVG strip of snapshots: each panel shows the body at one time, centred on its mean x, with the ground line,
 * ticks every 0.5 m of world x (so forward motion is visible), the time and x position.
 */
export function stickFigureSvg(rollout: Rollout, options: Partial<StripOptions> = {}): string {
  const o = { ...STRIP_DEFAULTS, ...options };
  const nFrames = rollout.frames.length;
  const panels = Math.max(1, Math.min(o.panels, nFrames));
  const picks = Array.from({ length: panels }, (_, k) =>
    panels === 1 ? 0 : Math.round((k * (nFrames - 1)) / (panels - 1)),
  );
  const titleH = 46;
  const W = panels * o.panelWidth;
  const H = o.panelHeight + titleH + 8;
  const total = rollout.rewards.reduce((s, r) => s + r, 0);
  const end = rollout.terminated ? 'terminated' : rollout.truncated ? 'truncated (time limit)' : 'stopped';
  const title = o.title || `${rollout.envId}: ${rollout.label || 'rollout'}`;
  const sub = `${nFrames - 1} steps (dt ${rollout.dt} s), return ${total.toFixed(2)}, ${end}; panels every ~${((nFrames - 1) / Math.max(1, panels - 1)).toFixed(1)} steps`;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="8" y="18" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="8" y="36" font-size="11" fill="#444">${escapeXml(sub)}</text>`,
  ];
  picks.forEach((t, k) => {
    const label = `t=${t} (${(t * rollout.dt).toFixed(2)} s)`;
    parts.push(...panelSvg(rollout.frames[t], k * o.panelWidth, titleH, o, label));
  });
  parts.push(`</svg>`);
  return parts.join('\n') + '\n';
}

export interface PlotlyFigure {
  data: object[];
  layout: object;
  frames: object[];
}

/** A Plotly animation: one line trace per capsule, one frame per recorded step (every `every`-th), play button and slider. */
export function stickFigureAnimation(rollout: Rollout, options: { every?: number; title?: string } = {}): PlotlyFigure {
  const every = Math.max(1, options.every ?? 1);
  const picks: number[] = [];
  for (let t = 0; t < rollout.frames.length; t += every) picks.push(t);
  if (picks[picks.length - 1] !== rollout.frames.length - 1) picks.push(rollout.frames.length - 1);
  const nSeg = rollout.frames[0].length / 4;
  let xMin = Infinity;
  let xMax = -Infinity;
  let zMax = 0;
  for (const t of picks) {
    const s = rollout.frames[t];
    for (let j = 0; j < s.length; j += 2) {
      xMin = Math.min(xMin, s[j]);
      xMax = Math.max(xMax, s[j]);
      zMax = Math.max(zMax, s[j + 1]);
    }
  }
  const traces = (t: number) =>
    Array.from({ length: nSeg }, (_, g) => {
      const s = rollout.frames[t];
      return { x: [s[4 * g], s[4 * g + 2]], y: [s[4 * g + 1], s[4 * g + 3]] };
    });
  const data = traces(picks[0]).map((xy, g) => ({
    type: 'scatter',
    mode: 'lines',
    ...xy,
    line: { width: 8, color: COLOURS[g % COLOURS.length] },
    showlegend: false,
  }));
  const frames = picks.map((t) => ({ name: String(t), data: traces(t) }));
  const pad = 0.5;
  const layout = {
    title: { text: options.title ?? `${rollout.envId}: ${rollout.label || 'rollout'} (dt ${rollout.dt} s)` },
    xaxis: { title: { text: 'x (m)' }, range: [xMin - pad, xMax + pad] },
    yaxis: { title: { text: 'z (m)' }, range: [-0.1, zMax + pad], scaleanchor: 'x' },
    shapes: [{ type: 'line', x0: xMin - 10, x1: xMax + 10, y0: 0, y1: 0, line: { color: '#777' } }],
    updatemenus: [
      {
        type: 'buttons',
        showactive: false,
        buttons: [
          {
            label: 'Play',
            method: 'animate',
            args: [
              null,
              { frame: { duration: Math.round(rollout.dt * every * 1000), redraw: false }, fromcurrent: true },
            ],
          },
        ],
      },
    ],
    sliders: [
      {
        steps: picks.map((t) => ({
          label: (t * rollout.dt).toFixed(2),
          method: 'animate',
          args: [[String(t)], { mode: 'immediate', frame: { duration: 0, redraw: false } }],
        })),
        currentvalue: { prefix: 't (s) = ' },
      },
    ],
  };
  return { data, layout, frames };
}

export interface TopViewOptions {
  /** Body snapshots drawn along the path (evenly spaced, first and last included). */
  snapshots: number;
  /** Width of the maze in pixels (the scale follows from it). */
  width: number;
  title: string;
}

const TOP_VIEW_DEFAULTS: Readonly<TopViewOptions> = Object.freeze({ snapshots: 6, width: 640, title: '' });

/**
 * An AntMaze rollout seen from above, as SVG: the maze's wall blocks to scale, the goal disc (0.5 m, the success
 * radius), the torso's path coloured from start (blue) to end (red), and the ant's limbs at a few times.
 */
export function topViewSvg(rollout: Rollout, options: Partial<TopViewOptions> = {}): string {
  const o = { ...TOP_VIEW_DEFAULTS, ...options };
  const mazeName = (ANTMAZE_NAMES as readonly string[]).includes(rollout.envId)
    ? (rollout.envId as AntMazeName)
    : undefined;
  check(
    rollout.view === 'top' && mazeName !== undefined,
    () =>
      `Error in topViewSvg: the rollout must be an AntMaze rollout seen from above, got ${rollout.envId} (${rollout.view}). Record it with an antmaze env.`,
  );
  const maze = MAZES[mazeName as AntMazeName];
  const rows = maze.layout.length;
  const cols = maze.layout[0].length;
  const k = o.width / (cols * MAZE_SCALING); // pixels per metre
  const titleH = 50;
  const W = cols * MAZE_SCALING * k;
  const H = rows * MAZE_SCALING * k + titleH + 24;
  // Column 0 spans x ∈ [−6, −2] and row 0 y ∈ [−6, −2]. World x grows to the right and y downwards here, so the
  // picture reads like the layout's rows.
  const X = (x: number): number => (x + 1.5 * MAZE_SCALING) * k;
  const py = (y: number): number => titleH + (y + 1.5 * MAZE_SCALING) * k;
  const nFrames = rollout.frames.length;
  const steps = nFrames - 1;
  const total = rollout.rewards.reduce((a, r) => a + r, 0);
  const end = rollout.terminated ? 'reached the goal' : rollout.truncated ? 'time limit' : 'stopped';
  const title = o.title || `${rollout.envId}: ${rollout.label || 'rollout'}`;
  const sub = `${steps} steps (dt ${rollout.dt} s), return ${total.toFixed(0)}, ${end}; top view, cells ${MAZE_SCALING} m, goal disc r ${GOAL_RADIUS} m`;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="8" y="18" font-size="13" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="8" y="38" font-size="11" fill="#444">${escapeXml(sub)}</text>`,
    `<rect x="0" y="${titleH}" width="${W}" height="${rows * MAZE_SCALING * k}" fill="#f4f1ea"/>`,
  ];
  for (const box of wallBoxes(maze)) {
    const [x, y] = box.centre;
    const [hx, hy] = box.halfSize;
    parts.push(
      `<rect x="${X(x - hx).toFixed(1)}" y="${py(y - hy).toFixed(1)}" width="${(2 * hx * k).toFixed(1)}" height="${(2 * hy * k).toFixed(1)}" fill="#b3804d" stroke="#8a5f36"/>`,
    );
  }
  if (rollout.goal) {
    const [gx, gy] = rollout.goal;
    parts.push(
      `<circle cx="${X(gx).toFixed(1)}" cy="${py(gy).toFixed(1)}" r="${(GOAL_RADIUS * k).toFixed(1)}" fill="#3bb273" opacity="0.8"/>`,
      `<text x="${(X(gx) + GOAL_RADIUS * k + 3).toFixed(1)}" y="${(py(gy) + 4).toFixed(1)}" font-size="11" fill="#1d6b42">goal</text>`,
    );
  }
  const p = rollout.path;
  for (let t = 1; t < nFrames; t++) {
    const f = t / Math.max(1, steps);
    const colour = `rgb(${Math.round(40 + 200 * f)},${Math.round(80 * (1 - f))},${Math.round(220 * (1 - f) + 30)})`;
    parts.push(
      `<line x1="${X(p[2 * t - 2]).toFixed(1)}" y1="${py(p[2 * t - 1]).toFixed(1)}" x2="${X(p[2 * t]).toFixed(1)}" y2="${py(p[2 * t + 1]).toFixed(1)}" stroke="${colour}" stroke-width="2"/>`,
    );
  }
  const shots = Math.max(1, Math.min(o.snapshots, nFrames));
  for (let s = 0; s < shots; s++) {
    const t = shots === 1 ? 0 : Math.round((s * steps) / (shots - 1));
    const seg = rollout.frames[t];
    for (let j = 0; j < seg.length; j += 4)
      parts.push(
        `<line x1="${X(seg[j]).toFixed(1)}" y1="${py(seg[j + 1]).toFixed(1)}" x2="${X(seg[j + 2]).toFixed(1)}" y2="${py(seg[j + 3]).toFixed(1)}" stroke="#1f3b73" stroke-width="${(0.16 * k).toFixed(1)}" stroke-linecap="round" opacity="0.75"/>`,
      );
    parts.push(
      `<text x="${(X(p[2 * t]) + 6).toFixed(1)}" y="${(py(p[2 * t + 1]) - 6).toFixed(1)}" font-size="10" fill="#222">t=${t}</text>`,
    );
  }
  parts.push(
    `<line x1="8" y1="${H - 10}" x2="${8 + MAZE_SCALING * k}" y2="${H - 10}" stroke="#222" stroke-width="2"/>`,
    `<text x="${12 + MAZE_SCALING * k}" y="${H - 6}" font-size="10" fill="#222">${MAZE_SCALING} m; x to the right, y down (maze rows)</text>`,
    `</svg>`,
  );
  return parts.join('\n') + '\n';
}
