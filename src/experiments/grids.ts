/**
 * The paper-scale grid files of the notebooks (grids/NN-*.json), generated from plan.ts so they cannot
 * drift from what the notebooks read: `node --import tsx src/experiments/grids.ts` rewrites them, and a
 * test checks the committed files equal this output. Cells shared with notebook 03 live only in its grid.
 */
import {
  antmazeGradientCells,
  contextCells,
  dmambaCells,
  dmmAblationCells,
  EXPERIMENTS,
  mainCells,
  sizeCells,
} from './plan';
import { paperGrid, writePaperGrid } from './report';

export function paperGrids(): { notebook: string; grid: Record<string, unknown> }[] {
  return [
    {
      notebook: '03-main-results',
      grid: paperGrid(
        '03-main-results',
        EXPERIMENTS.main,
        mainCells('paper'),
        'Notebook 03 (and the shared cells of 04-09, 11): DT, DC, Decision Mamba, DMM x (9 D4RL MuJoCo datasets + antmaze-umaze, antmaze-umaze-diverse) x 5 seeds, official configs (docs/spec.md §11 T-MuJoCo, T-AntMaze, T1).',
      ),
    },
    {
      notebook: '06-gradient-norms',
      grid: paperGrid(
        '06-gradient-norms',
        EXPERIMENTS.gradient,
        antmazeGradientCells('paper'),
        "Notebook 06's own AntMaze cells (DMM Figure 4, AntMaze panel): Decision Mamba at K=8 on antmaze-umaze, 5 seeds; DMM's are main-table cells, the hopper panel reads grids/07-context-length.json.",
      ),
    },
    {
      notebook: '04-size-vs-score',
      grid: paperGrid(
        '04-size-vs-score',
        EXPERIMENTS.size,
        sizeCells('paper'),
        'Notebook 04 (DMM Figure 1): widths D in {32, 64, 128, 256} other than the official one, on the three medium datasets, 5 seeds.',
      ),
    },
    {
      notebook: '07-context-length',
      grid: paperGrid(
        '07-context-length',
        EXPERIMENTS.context,
        contextCells('paper'),
        'Notebook 07 (DMM Figure 5): K in {2, 4, 8, 16, 20, 32} other than the official one, hopper-medium, 5 seeds; its K=8 cells also feed notebooks 05 and 06.',
      ),
    },
    {
      notebook: '08-dmm-ablations',
      grid: paperGrid(
        '08-dmm-ablations',
        EXPERIMENTS.dmmAblations,
        dmmAblationCells('paper').map((c) => c.cell),
        'Notebook 08: DMM ablations on hopper-medium, 5 seeds (docs/spec.md §11 A-mixer, A-window, A-position, A-mamba; LN sharing, DSM mode, evaluation padding).',
      ),
    },
    {
      notebook: '09-decision-mamba',
      grid: paperGrid(
        '09-decision-mamba',
        EXPERIMENTS.dmamba,
        dmambaCells('paper').map((c) => c.cell),
        "Notebook 09: Decision Mamba without channel MLP and K in {5, 10, 30, 50}, hopper-medium, 5 seeds (Ota's A1, A2).",
      ),
    },
  ];
}

if (require.main === module) {
  for (const { notebook, grid } of paperGrids())
    console.log(`${writePaperGrid(notebook, grid)}: ${(grid.cells as unknown[]).length} cells`);
}
