/**
 * Notebook 08: DMM ablations on hopper-medium (spec §11 A-mixer, A-window, A-position, A-mamba, and the
 * kit's LN-sharing, DSM-mode and evaluation-padding variants). The default DMM is the main table's run.
 */
import type { RunRecord } from '../results/record';
import { budgetFor } from './budget';
import { runCells } from './cells';
import { EXPERIMENTS, dmmAblationCells } from './plan';
import {
  backendOf,
  cellsLine,
  dataSourceOf,
  finished,
  fmt,
  paperNote,
  protocolNote,
  seedsOf,
  type NotebookResult,
} from './report';
import { variantBars, variantDeltas, variantScores, variantTable } from './variants';

export async function dmmAblations(scale: string): Promise<NotebookResult> {
  const plan = dmmAblationCells(scale);
  const cells = await runCells(
    plan.map((p) => p.cell),
    { scale, workers: budgetFor(scale).workers },
  );
  const records = finished(cells);
  const scores = variantScores(plan.map((p, i) => ({ variant: p.variant, outcome: cells.outcomes[i] })));
  const figure = {
    name: '08-dmm-ablations',
    notebook: '08-dmm-ablations',
    scale,
    seeds: seedsOf(records),
    dataSource: dataSourceOf(records),
    backend: backendOf(records),
    data: variantBars(scores),
    layout: {
      title: { text: 'DMM ablations on hopper-medium' },
      barmode: 'group' as const,
      xaxis: { title: { text: 'normalised score' } },
      yaxis: { automargin: true, autorange: 'reversed' as const },
      margin: { l: 260 },
    },
    width: 900,
    height: 120 + 40 * scores.length,
    caption: `One change of DMM per bar (default: DSM k=6, per-layer DSM, shared LN, Mamba-1 without conv or timestep embedding, official padding). ${protocolNote(scale)}`,
  };
  const ref = scores.find((s) => s.label === 'DSM (default)');
  const deltas = variantDeltas(scores, ref);
  const noMixer = scores.find((s) => s.label === 'none');
  const finding = ref?.best.n
    ? `Default DMM scores ${fmt(ref.best.mean)} (best_official). Differences of each variant from it: ${deltas.join(', ')}. ` +
      (noMixer?.best.n
        ? noMixer.best.mean < ref.best.mean
          ? 'Removing the local mixer lowers the score here, the direction the DMM paper reports. '
          : 'Removing the local mixer does NOT lower the score here, unlike the DMM paper. '
        : '') +
      `With ${seedsOf(records).length} seed(s) at ${scale} scale these differences are indicative only. ${cellsLine(cells)}`
    : `The default DMM run did not finish, so no differences can be computed. ${cellsLine(cells)}`;
  return { figures: [figure], tables: [variantTable(scores)], finding, cells };
}

export function dmmAblationPaperNote(measured: readonly RunRecord[]): string {
  return paperNote(
    '08-dmm-ablations',
    dmmAblationCells('paper')
      .map((p) => p.cell)
      .filter((c) => c.experiment === EXPERIMENTS.dmmAblations),
    measured,
    ['grids/03-main-results.json (the default DMM)'],
  );
}
