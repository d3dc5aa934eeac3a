/**
 * Which training runs each paper notebook needs, per scale (docs/spec.md §11). One place, so runs are
 * shared: the main table's cells are also the official-width points of the size figure, the official-K
 * points of the context figures, the baselines of the ablations and the runs of the protocol study; the
 * cache (cells.ts) trains each spec once. The paper-scale grid files (grids/NN-*.json) are these lists.
 */
import { budgetFor } from '../config/budget';
import { ENV_NAMES, MODEL_NAMES, type ModelName } from '../config/names';
import { officialModelConfig } from '../config/presets';
import type { RunSpec } from '../config/run-spec';
import { RUN_SCALES, type Scale } from '../config/scales';

/** The models in the order tables and figures show them. */
export const MODELS = MODEL_NAMES;
export type Model = ModelName;
export const MODEL_LABELS: Readonly<Record<Model, string>> = Object.freeze({
  dt: 'DT',
  dc: 'DC',
  dmamba: 'Decision Mamba',
  dmm: 'DMM',
});

/** Experiment names (results/<experiment>/). */
export const EXPERIMENTS = {
  main: 'main-results',
  size: 'size-vs-score',
  context: 'context-length',
  dmmAblations: 'dmm-ablations',
  dmamba: 'decision-mamba',
  gradient: 'gradient-norms',
} as const;

function spec(
  scale: string,
  model: Model,
  env: string,
  kind: string,
  seed: number,
  experiment: string,
  overrides: Record<string, unknown> = {},
  extra: Partial<RunSpec> = {},
): RunSpec {
  return {
    model,
    env,
    dataset: `${env}-${kind}`,
    seed,
    scale: budgetFor(scale).scale,
    experiment,
    ...(Object.keys(overrides).length ? { overrides } : {}),
    ...extra,
  };
}

/** Notebook 03: every model × env × dataset × seed, MuJoCo then AntMaze (docs/spec.md §11 T-MuJoCo, T-AntMaze). */
export function mainCells(scale: string): RunSpec[] {
  const b = budgetFor(scale);
  const out: RunSpec[] = [];
  for (const model of MODELS) {
    for (const env of b.envs)
      for (const kind of b.datasets)
        for (const seed of b.seeds) out.push(spec(scale, model, env, kind, seed, EXPERIMENTS.main));
    for (const kind of b.antmaze)
      for (const seed of b.seeds) out.push(spec(scale, model, 'antmaze', kind, seed, EXPERIMENTS.main));
  }
  return out;
}

/** Notebook 11: the main cells plus extra seeds of DMM and Decision Mamba on hopper-medium. */
export function protocolCells(scale: string): RunSpec[] {
  const b = budgetFor(scale);
  const extra: RunSpec[] = [];
  for (const model of ['dmamba', 'dmm'] as const)
    for (const seed of b.protocolSeeds) extra.push(spec(scale, model, 'hopper', 'medium', seed, EXPERIMENTS.main));
  return [...mainCells(scale), ...extra];
}

/** The width a model trains at on a dataset by default (official, or the scale's). */
export function defaultWidth(scale: string, model: Model, env: string, kind: string): number {
  return (
    RUN_SCALES[budgetFor(scale).scale].modelOverrides.hiddenSize ?? officialModelConfig(model, env, kind).hiddenSize
  );
}

/** The sweeps' coverage: one point at smoke, a few at the notebook and quick scales, the paper's at paper. */
function coverage(scale: string): 'smoke' | 'reduced' | 'paper' {
  const s: Scale = budgetFor(scale).scale;
  return s === 'smoke' || s === 'paper' ? s : 'reduced';
}

/** Widths swept for Figure 1 (docs/spec.md §11 F1: D ∈ {32, 64, 128, 256} on the three `medium` datasets). */
export function sizeWidths(scale: string): number[] {
  return { smoke: [8], reduced: [16], paper: [32, 64, 128, 256] }[coverage(scale)];
}

export function sizeEnvs(scale: string): string[] {
  return coverage(scale) === 'paper' ? [...ENV_NAMES] : ['hopper'];
}

/** Notebook 04: models × widths on `medium`; the official width is the main table's cell itself. */
export function sizeCells(scale: string): RunSpec[] {
  const b = budgetFor(scale);
  const out: RunSpec[] = [];
  for (const model of MODELS)
    for (const env of sizeEnvs(scale))
      for (const d of [...new Set([...sizeWidths(scale), defaultWidth(scale, model, env, 'medium')])].sort(
        (x, y) => x - y,
      ))
        for (const seed of b.seeds) {
          if (d === defaultWidth(scale, model, env, 'medium'))
            out.push(spec(scale, model, env, 'medium', seed, EXPERIMENTS.main));
          else out.push(spec(scale, model, env, 'medium', seed, EXPERIMENTS.size, { hiddenSize: d }));
        }
  return out;
}

export const OFFICIAL_K: Readonly<Record<Model, number>> = Object.freeze({ dt: 20, dc: 8, dmamba: 20, dmm: 8 });

/** docs/spec.md §11 F5: K ∈ {2, 4, 8, 16, 20, 32}. */
export function contextLengths(scale: string): number[] {
  return { smoke: [8], reduced: [4, 8, 20], paper: [2, 4, 8, 16, 20, 32] }[coverage(scale)];
}

/** Notebook 07 (and 09's K sweep reuses the pattern): models × K on hopper-medium. */
export function contextCells(scale: string): RunSpec[] {
  const b = budgetFor(scale);
  const out: RunSpec[] = [];
  for (const model of MODELS)
    for (const k of contextLengths(scale))
      for (const seed of b.seeds) {
        if (k === OFFICIAL_K[model]) out.push(spec(scale, model, 'hopper', 'medium', seed, EXPERIMENTS.main));
        else out.push(spec(scale, model, 'hopper', 'medium', seed, EXPERIMENTS.context, { contextLength: k }));
      }
  return out;
}

/**
 * Notebook 06's AntMaze panel (DMM Figure 4): DMM and Decision Mamba at K = 8 on antmaze-umaze. DMM's is the
 * main-table cell; Decision Mamba's official K is 20, so its K = 8 run is the notebook's own.
 */
export function antmazeGradientCells(scale: string): RunSpec[] {
  const b = budgetFor(scale);
  if (!b.antmaze.includes('umaze')) return [];
  return b.seeds.flatMap((seed) => [
    spec(scale, 'dmm', 'antmaze', 'umaze', seed, EXPERIMENTS.main),
    spec(scale, 'dmamba', 'antmaze', 'umaze', seed, EXPERIMENTS.gradient, { contextLength: 8 }),
  ]);
}

export interface Variant {
  /** Ablation group (docs/spec.md §11 A-mixer, A-window, ...). */
  group: string;
  label: string;
  overrides: Record<string, unknown>;
  evalPadding?: 'official' | 'train-consistent';
}

/** Notebook 08 variants of DMM (the first of each group is the default DMM, i.e. the main cell). */
export function dmmVariants(scale: string): Variant[] {
  const all: Variant[] = [
    { group: 'local mixer', label: 'DSM (default)', overrides: {} },
    { group: 'local mixer', label: 'DC conv (k=6)', overrides: { tokenMixer: 'dc-conv' } },
    { group: 'local mixer', label: 'shared depthwise conv', overrides: { tokenMixer: 'causal-conv' } },
    { group: 'local mixer', label: 'none', overrides: { tokenMixer: 'none' } },
    { group: 'window', label: 'k=1', overrides: { windowSize: 1 } },
    { group: 'window', label: 'k=2', overrides: { windowSize: 2 } },
    { group: 'window', label: 'k=3', overrides: { windowSize: 3 } },
    { group: 'window', label: 'k=9', overrides: { windowSize: 9 } },
    { group: 'window', label: 'k=12', overrides: { windowSize: 12 } },
    { group: 'position', label: '+ timestep embedding', overrides: { timestepEmbedding: true } },
    { group: 'position', label: '+ conv k=4 in Mamba', overrides: { mambaConv: 4 } },
    { group: 'global mixer', label: 'Mamba-2', overrides: { globalMixer: 'mamba2' } },
    { group: 'LayerNorm', label: 'per-layer LN', overrides: { shareLayerNorm: false } },
    { group: 'DSM mode', label: 'shared-frozen DSM', overrides: { dsmMode: 'shared-frozen' } },
    { group: 'eval padding', label: 'train-consistent padding', overrides: {}, evalPadding: 'train-consistent' },
  ];
  if (coverage(scale) === 'smoke') return all.filter((v) => ['DSM (default)', 'none', 'Mamba-2'].includes(v.label));
  if (coverage(scale) === 'reduced')
    return all.filter((v) =>
      [
        'DSM (default)',
        'DC conv (k=6)',
        'none',
        'k=1',
        'Mamba-2',
        'shared-frozen DSM',
        'train-consistent padding',
      ].includes(v.label),
    );
  return all;
}

function variantCell(scale: string, model: Model, v: Variant, seed: number, experiment: string): RunSpec {
  const isDefault = Object.keys(v.overrides).length === 0 && (v.evalPadding ?? 'official') === 'official';
  if (isDefault) return spec(scale, model, 'hopper', 'medium', seed, EXPERIMENTS.main);
  return spec(
    scale,
    model,
    'hopper',
    'medium',
    seed,
    experiment,
    v.overrides,
    v.evalPadding ? { evalPadding: v.evalPadding } : {},
  );
}

export function dmmAblationCells(scale: string): { variant: Variant; cell: RunSpec }[] {
  const b = budgetFor(scale);
  return dmmVariants(scale).flatMap((v) =>
    b.seeds.map((seed) => ({ variant: v, cell: variantCell(scale, 'dmm', v, seed, EXPERIMENTS.dmmAblations) })),
  );
}

/** Notebook 09: Ota's A1 (no channel MLP) and A2 (K ∈ {5, 10, 20, 30, 50}), DT alongside. */
export function dmambaVariants(scale: string): Variant[] {
  const ks = coverage(scale) === 'paper' ? [5, 10, 30, 50] : [5];
  return [
    { group: 'channel mixing', label: 'with MLP (default, K=20)', overrides: {} },
    { group: 'channel mixing', label: 'without MLP', overrides: { channelMlp: false } },
    ...ks.map((k) => ({ group: 'context length', label: `K=${k}`, overrides: { contextLength: k } })),
  ];
}

export function dmambaCells(scale: string): { variant: Variant; model: Model; cell: RunSpec }[] {
  const b = budgetFor(scale);
  const out: { variant: Variant; model: Model; cell: RunSpec }[] = [];
  for (const v of dmambaVariants(scale))
    for (const seed of b.seeds)
      out.push({ variant: v, model: 'dmamba', cell: variantCell(scale, 'dmamba', v, seed, EXPERIMENTS.dmamba) });
  for (const seed of b.seeds)
    out.push({
      variant: { group: 'baseline', label: 'DT (K=20)', overrides: {} },
      model: 'dt',
      cell: spec(scale, 'dt', 'hopper', 'medium', seed, EXPERIMENTS.main),
    });
  return out;
}
