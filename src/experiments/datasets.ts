/**
 * Notebook 01: a card for every dataset the notebooks train on (kit-generated at smoke and quick scale;
 * the D4RL files too when they are on disk): returns and normalised scores, episode lengths, state
 * statistics (danfojs `describe`), and stick-figure snapshots of each behaviour policy; then the AntMaze
 * datasets: their success rates, and where the ant went in the maze.
 */
import * as fs from 'fs';
import type { Data } from '../figures';
import {
  d4rlDir,
  loadDataset,
  loadPolicySet,
  normalizedScore,
  PolicyRunner,
  trajectoryLength,
  trajectoryReturn,
  type Dataset,
} from '../data';
import { d4rlFileName, parseAntMazeName, parseDatasetName } from '../data/d4rl-ids';
import { ANTMAZE_KINDS, type EnvName } from '../config/names';
import { MAZES, GOAL_RADIUS, makeEnv, recordRollout, wallBoxes } from '../envs';
import { loadController } from '../data/ant-controller';
import type { Rollout } from '../envs/stick-figure';
import { budgetFor } from '../config/budget';
import { targetVerdict } from '../data/train-policies';
import { fmt, markdownTable, type NotebookResult } from './report';
import * as path from 'path';

function describeStates(d: Dataset): string {
  // danfojs describe: count, mean, std, min, median, max per observation dimension.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dfd = require('danfojs-node') as typeof import('danfojs-node');
  const s = d.stateMean.length;
  const rows: number[][] = [];
  const step = Math.max(1, Math.floor(d.card.transitions / 5000)); // a subsample keeps describe fast
  let i = 0;
  for (const t of d.trajectories) {
    const T = t.rewards.length;
    for (let k = 0; k < T; k++, i++)
      if (i % step === 0) rows.push(Array.from(t.observations.subarray(k * s, (k + 1) * s)));
  }
  const df = new dfd.DataFrame(rows, { columns: Array.from({ length: s }, (_, j) => `s${j}`) });
  const desc = df.describe() as unknown as { index: (string | number)[]; columns: string[]; values: number[][] };
  return markdownTable(
    ['', ...desc.columns],
    desc.values.map((r, j) => [String(desc.index[j]), ...r.map((v) => fmt(Number(v), 2))]),
  );
}

/**
 * Snapshots of one rollout as a strip: snapshot j is shifted so its first capsule (the torso) sits at
 * x = 1.6·j, and labelled with its step and the distance travelled; rows are offset vertically.
 */
function rolloutTraces(
  r: Rollout,
  row: number,
  name: string,
  colour: string,
  panels = 8,
): { traces: Data[]; labels: { x: number; y: number; text: string }[] } {
  const n = r.frames.length;
  const k = Math.min(panels, n);
  const picks = Array.from({ length: k }, (_, j) => Math.round((j * (n - 1)) / Math.max(1, k - 1)));
  const x: (number | null)[] = [];
  const y: (number | null)[] = [];
  const labels: { x: number; y: number; text: string }[] = [];
  const x0 = (r.frames[0][0] + r.frames[0][2]) / 2;
  picks.forEach((t, j) => {
    const s = r.frames[t];
    const cx = (s[0] + s[2]) / 2;
    for (let g = 0; g < s.length; g += 4) {
      x.push(s[g] - cx + 1.6 * j, s[g + 2] - cx + 1.6 * j, null);
      y.push(s[g + 1] - row * 2.5, s[g + 3] - row * 2.5, null);
    }
    labels.push({ x: 1.6 * j, y: -row * 2.5 - 0.3, text: `t=${t}, x=${(cx - x0).toFixed(1)} m` });
  });
  return {
    traces: [{ type: 'scatter', mode: 'lines', name, x, y, line: { width: 3, color: colour } } as Data],
    labels,
  };
}

/**
 * An AntMaze dataset's success, counted over its collection episodes (they end at the 1000-step timeouts; the
 * relabelled terminals split them further into trajectories): the share of episodes with a reward, i.e. with a
 * step within 0.5 m of the evaluation goal, and the rewarded rows.
 */
export function antMazeSuccess(d: Dataset): { episodes: number; successes: number; rewardRows: number } {
  let episodes = 0;
  let successes = 0;
  let rewardRows = 0;
  let hit = false;
  for (const t of d.trajectories) {
    for (let i = 0; i < t.rewards.length; i++) if (t.rewards[i] > 0) rewardRows++;
    hit = hit || t.rewards.some((r) => r > 0);
    if (t.timeouts[t.timeouts.length - 1]) {
      episodes++;
      if (hit) successes++;
      hit = false;
    }
  }
  return { episodes, successes, rewardRows };
}

/** The x-y positions of an AntMaze dataset's observations over the maze's walls, every `stride`-th row. */
function antMazeCoverage(loaded: Dataset[], maze: keyof typeof MAZES): { data: Data[]; shapes: object[] } {
  const data = loaded.map((d) => {
    const x: number[] = [];
    const y: number[] = [];
    const stride = Math.max(1, Math.floor(d.card.transitions / 1500));
    let i = 0;
    for (const t of d.trajectories)
      for (let k = 0; k < t.rewards.length; k++, i++)
        if (i % stride === 0) {
          x.push(t.observations[29 * k]);
          y.push(t.observations[29 * k + 1]);
        }
    return { type: 'scattergl', mode: 'markers', name: d.id, x, y, marker: { size: 3, opacity: 0.4 } } as Data;
  });
  const shapes: object[] = wallBoxes(MAZES[maze]).map((b) => ({
    type: 'rect',
    x0: b.centre[0] - b.halfSize[0],
    x1: b.centre[0] + b.halfSize[0],
    y0: b.centre[1] - b.halfSize[1],
    y1: b.centre[1] + b.halfSize[1],
    fillcolor: '#b3804d',
    line: { width: 0 },
    layer: 'below',
  }));
  return { data, shapes };
}

export async function datasetsNotebook(scale: string): Promise<NotebookResult> {
  const b = budgetFor(scale);
  const ids = b.envs.flatMap((e) => b.datasets.map((k) => `${e}-${k}`));
  const loaded: Dataset[] = [];
  const failures: string[] = [];
  for (const id of ids) {
    try {
      loaded.push(await loadDataset(id, { source: 'kit', scale: b.scale }));
    } catch (err) {
      failures.push(`${id}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  // D4RL files, when someone downloaded them (never downloaded here).
  for (const id of ids) {
    const file = path.join(d4rlDir(), d4rlFileName(parseDatasetName(id)));
    if (fs.existsSync(file)) {
      try {
        loaded.push(await loadDataset(id, { source: 'd4rl', download: false }));
      } catch (err) {
        failures.push(`${id} (D4RL): ${(err as Error).message.split('\n')[0]}`);
      }
    }
  }
  const label = (d: Dataset) => `${d.id} (${d.provenance.source === 'kit' ? 'kit' : 'D4RL'})`;
  const cardTable = markdownTable(
    ['dataset', 'sha256', 'episodes', 'transitions', 'length mean', 'return mean ± std', 'normalised mean (min–max)'],
    loaded.map((d) => [
      label(d),
      d.provenance.checksum.slice(0, 8),
      d.card.episodes,
      d.card.transitions,
      fmt(d.card.episodeLength.mean, 0),
      `${fmt(d.card.episodeReturn.mean, 0)} ± ${fmt(d.card.episodeReturn.std, 0)}`,
      `${fmt(d.card.normalizedScore.mean)} (${fmt(d.card.normalizedScore.min)}–${fmt(d.card.normalizedScore.max)})`,
    ]),
  );
  const dataSource =
    loaded
      .map(
        (d) =>
          `${d.provenance.source === 'kit' ? 'kit-generated' : 'D4RL'} ${d.id} (sha256 ${d.provenance.checksum.slice(0, 8)})`,
      )
      .join(', ') || 'none loaded';
  const common = { notebook: '01-datasets', scale, dataSource };
  const hist = (values: (d: Dataset) => number[], name: string, title: string, xlabel: string) => ({
    ...common,
    name,
    data: loaded.map((d) => ({ type: 'histogram', name: label(d), x: values(d), opacity: 0.6, nbinsx: 40 }) as Data),
    layout: {
      title: { text: title },
      barmode: 'overlay' as const,
      xaxis: { title: { text: xlabel } },
      yaxis: { title: { text: 'episodes' } },
    },
    caption: `${title}, one histogram per dataset (episodes as split in docs/spec.md §8.1). Kit-generated data come from the kit's own ARS behaviour policies, not D4RL's SAC policies.`,
  });
  const figures = [
    hist(
      (d) => d.trajectories.map((t) => normalizedScore(d.env, trajectoryReturn(t))),
      '01-datasets-scores',
      'Normalised episode score (D4RL reference min/max)',
      'normalised score',
    ),
    hist((d) => d.trajectories.map((t) => trajectoryLength(t)), '01-datasets-lengths', 'Episode length', 'steps'),
  ];
  // Stick figures of each behaviour policy (medium, expert; medium-replay mixes snapshots of the same training run).
  const colours = ['#1f3b73', '#d1495b', '#00798c'];
  const policyLines: string[] = [];
  const steps = b.scale === 'smoke' ? 60 : 300;
  for (const env of b.envs) {
    let set;
    try {
      set = loadPolicySet(env as never);
    } catch (err) {
      policyLines.push(`${env}: no behaviour policies (${(err as Error).message.split('\n')[0]})`);
      continue;
    }
    const traces: Data[] = [];
    const annotations: Record<string, unknown>[] = [];
    const rows: { name: string; policy: PolicyRunner | null }[] = [
      { name: `medium (iteration ${set.medium.iteration})`, policy: PolicyRunner.of(set.medium) },
      { name: `expert (iteration ${set.expert.iteration})`, policy: PolicyRunner.of(set.expert) },
      { name: 'random (uniform actions)', policy: null },
    ];
    for (const [row, { name, policy }] of rows.entries()) {
      const e = await makeEnv(env as EnvName, { seed: 7 });
      const act = new Float64Array(e.actionDim);
      let rng = 12345;
      const r = recordRollout(
        e,
        (obs) => {
          if (policy) policy.meanAction(obs, act);
          else
            for (let i = 0; i < act.length; i++) act[i] = ((rng = (rng * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
          return Array.from(act, (v) => Math.max(-1, Math.min(1, v)));
        },
        { maxSteps: steps, label: name },
      );
      e.close();
      const ret = r.rewards.reduce((a, v) => a + v, 0);
      policyLines.push(
        `${env} ${name}: ${r.rewards.length} steps, return ${fmt(ret, 0)} (normalised ${fmt(normalizedScore(env as never, ret))})${r.terminated ? ', fell (terminated)' : ''}`,
      );
      const strip = rolloutTraces(r, row, `${name}: ${r.rewards.length} steps, return ${fmt(ret, 0)}`, colours[row]);
      traces.push(...strip.traces);
      annotations.push(...strip.labels.map((l) => ({ ...l, showarrow: false, font: { size: 9 } })));
    }
    figures.push({
      ...common,
      name: `01-behaviour-${env}`,
      data: traces,
      layout: {
        title: { text: `${env}: behaviour policies, snapshots of one rollout` },
        annotations,
        xaxis: {
          title: { text: 'snapshots, each centred on the torso (labels: step, distance travelled)' },
          showticklabels: false,
        },
        yaxis: { title: { text: 'z (m), rows offset' }, scaleanchor: 'x' },
        legend: { orientation: 'h' as const, y: -0.2 },
      } as never,
      caption: `Eight snapshots of one ${steps}-step rollout (mean action, no noise, reset seed 7) of each behaviour policy, each snapshot centred on the torso and labelled with its step and the distance travelled; rows: medium, expert, random. Policies: the kit's ARS linear policies (data/policies).`,
    });
  }
  // AntMaze: the kit's umaze datasets (D4RL's too when on disk), their success and coverage.
  const antmaze: Dataset[] = [];
  for (const kind of ANTMAZE_KINDS) {
    const name = parseAntMazeName(`antmaze-${kind}`);
    try {
      antmaze.push(await loadDataset(name.name, { source: 'kit', scale: b.scale }));
    } catch (err) {
      failures.push(`${name.name}: ${(err as Error).message.split('\n')[0]}`);
    }
    if (fs.existsSync(path.join(d4rlDir(), name.d4rlFile))) {
      try {
        antmaze.push(await loadDataset(name.name, { source: 'd4rl' }));
      } catch (err) {
        failures.push(`${name.name} (D4RL): ${(err as Error).message.split('\n')[0]}`);
      }
    }
  }
  let controllerLine = '';
  try {
    const c = loadController();
    controllerLine = `The kit's AntMaze controller (ARS iteration ${c.policy.iteration}, ${(c.policy.envSteps / 1e6).toFixed(2)} M steps) reaches the antmaze-umaze goal in ${fmt(100 * c.success.clean, 0)}% of ${c.success.episodes} evaluation episodes without action noise and ${fmt(100 * c.success.noisy, 0)}% with D4RL's σ 0.2. `;
  } catch (err) {
    controllerLine = `No AntMaze controller: ${(err as Error).message.split('\n')[0]} `;
  }
  const antmazeRows = antmaze.map((d) => {
    const s = antMazeSuccess(d);
    return { d, s, rate: s.episodes ? s.successes / s.episodes : NaN };
  });
  const antmazeTable = markdownTable(
    [
      'dataset',
      'sha256',
      'rows',
      'collection episodes',
      'reach the eval goal',
      'reward-1 rows',
      'trajectories (split at terminals)',
    ],
    antmazeRows.map(({ d, s, rate }) => [
      label(d),
      d.provenance.checksum.slice(0, 8),
      d.card.transitions,
      s.episodes,
      `${s.successes} (${fmt(100 * rate, 0)}%)`,
      s.rewardRows,
      d.card.episodes,
    ]),
  );
  if (antmaze.length) {
    const cover = antMazeCoverage(antmaze, 'antmaze-umaze');
    const goal = MAZES['antmaze-umaze'].evalGoal;
    figures.push({
      ...common,
      dataSource: antmaze
        .map(
          (d) =>
            `${d.provenance.source === 'kit' ? 'kit-generated' : 'D4RL'} ${d.id} (sha256 ${d.provenance.checksum.slice(0, 8)})`,
        )
        .join(', '),
      name: '01-antmaze-coverage',
      data: cover.data,
      layout: {
        title: { text: 'AntMaze umaze datasets: torso x-y of the observations over the walls' },
        shapes: [
          ...cover.shapes,
          {
            type: 'rect',
            x0: 4 * (goal[1] - 1),
            x1: 4 * (goal[1] - 1) + 1.5,
            y0: 4 * (goal[0] - 1),
            y1: 4 * (goal[0] - 1) + 1.5,
            line: { color: '#1d6b42', dash: 'dot' },
          },
        ],
        xaxis: { title: { text: 'x (m)' }, range: [-6, 14] },
        yaxis: { title: { text: 'y (m)' }, range: [-6, 14], scaleanchor: 'x' },
        legend: { orientation: 'h' as const, y: -0.2 },
      } as never,
      caption: `Torso positions of the observations (subsampled to about 1,500 points per dataset) of ${antmaze.map((d) => `${label(d)}: ${d.card.transitions} rows${d.provenance.generator ? `, generation seed ${d.provenance.generator.seed}` : ''}`).join('; ')}; over the maze's wall blocks (4 m cells); the dotted square is where the evaluation goal is sampled (success within ${GOAL_RADIUS} m of it). Kit data: the kit's ARS controller steered along shortest-path waypoints with N(0, 0.2²) action noise, not D4RL's SAC ant.`,
    });
  }
  const antmazeFinding = antmazeRows.length
    ? `AntMaze: ${controllerLine}${antmazeRows
        .map(
          ({ d, s, rate }) =>
            `${label(d)}: ${s.successes} of ${s.episodes} collection episodes reach the evaluation goal (${fmt(100 * rate, 0)}%), ${s.rewardRows} reward-1 rows in ${d.card.transitions}`,
        )
        .join('; ')}. `
    : `AntMaze: ${controllerLine}`;
  const describeTables = loaded
    .filter((d) => d.kind === 'medium')
    .map((d) => `**${label(d)}: state statistics (danfojs describe, subsampled)**\n\n${describeStates(d)}`);
  const findings = loaded.map((d) => {
    const verdict =
      d.provenance.source === 'kit' && !d.env.startsWith('antmaze')
        ? targetVerdict(d.env as EnvName, d.kind, d.card.normalizedScore.mean)
        : undefined;
    return `${label(d)}: ${d.card.episodes} episodes, mean normalised score ${fmt(d.card.normalizedScore.mean)}${verdict ? ` (${verdict})` : ''}`;
  });
  const finding =
    (loaded.length ? `Loaded ${loaded.length} dataset(s). ${findings.join('; ')}. ` : 'No dataset could be loaded. ') +
    (failures.length ? `Not available: ${failures.join('; ')}. ` : '') +
    (policyLines.length ? `Behaviour rollouts: ${policyLines.join('; ')}. ` : '') +
    antmazeFinding +
    'D4RL datasets: ' +
    (loaded.some((d) => d.provenance.source === 'd4rl')
      ? 'present and shown.'
      : 'not on this machine (`npx dmm data download` fetches them); the kit-generated ones stand in, so scores below are not D4RL scores.');
  return {
    figures,
    tables: [cardTable, ...describeTables, ...(antmaze.length ? [antmazeTable] : [])],
    finding,
    numbers: {
      loaded: [...loaded, ...antmaze].map((d) => d.id),
      failures,
      antmaze: antmazeRows.map(({ d, s }) => ({ id: d.id, source: d.provenance.source, ...s })),
    },
  };
}
