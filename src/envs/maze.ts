/**
 * D4RL's AntMaze mazes as data (docs/envs.md, "AntMaze"): the wall layouts of umaze, medium and large, the goal
 * cells of the evaluation maps (one each) and of the data-collection maps, the cell ↔ world geometry, the walls as
 * MJCF box geoms, and the seeded goal and start samplers. Also the shortest paths over free cells that the
 * data-collection navigator follows (src/data/antmaze-generate.ts).
 *
 * Cells are (row i top→bottom, column j left→right). The robot starts in cell (1, 1), which is the world origin:
 * cell (i, j) is centred at x = 4j − 4, y = 4i − 4 (x follows columns, y follows rows).
 */
import type { AntMazeName } from '../config/names';
import type { Rng } from '../util/rng';

/** maze_size_scaling of every registered AntMaze id: a cell is 4 m square. */
export const MAZE_SCALING = 4;
/** maze_height: walls are 0.5 × scaling = 2 m tall. */
export const MAZE_HEIGHT = 0.5;
/** Sparse reward and the end of an evaluation episode: within this distance (m) of the goal. */
export const GOAL_RADIUS = 0.5;

export type Cell = readonly [row: number, col: number];

export interface MazeSpec {
  /** '#' wall, '.' free, 'R' the robot's start cell (always (1, 1)); rows top to bottom. */
  layout: readonly string[];
  /** The one goal cell of the evaluation map (D4RL's *_TEST maps, used by every -v0/-v1/-v2 id). */
  evalGoal: Cell;
  /** The goal cells of the data-collection map (U_MAZE, BIG_MAZE, HARDEST_MAZE): same walls, more goals. */
  trainGoals: readonly Cell[];
  /** TimeLimit of the evaluation env. */
  maxEpisodeSteps: number;
}

export const MAZES: Readonly<Record<AntMazeName, Readonly<MazeSpec>>> = Object.freeze<Record<AntMazeName, MazeSpec>>({
  'antmaze-umaze': Object.freeze<MazeSpec>({
    layout: ['#####', '#R..#', '###.#', '#...#', '#####'],
    evalGoal: [3, 1],
    trainGoals: [[3, 1]],
    maxEpisodeSteps: 700,
  }),
  'antmaze-medium': Object.freeze<MazeSpec>({
    layout: ['########', '#R.##..#', '#..#...#', '##...###', '#..#...#', '#.#..#.#', '#...#..#', '########'],
    evalGoal: [6, 6],
    trainGoals: [
      [2, 6],
      [5, 1],
      [6, 5],
    ],
    maxEpisodeSteps: 1000,
  }),
  'antmaze-large': Object.freeze<MazeSpec>({
    layout: [
      '############',
      '#R...#.....#',
      '#.##.#.#.#.#',
      '#......#...#',
      '#.####.###.#',
      '#..#.#.....#',
      '##.#.#.#.###',
      '#..#...#...#',
      '############',
    ],
    evalGoal: [7, 9],
    trainGoals: [
      [1, 6],
      [3, 5],
      [3, 10],
      [5, 2],
      [7, 4],
      [7, 6],
      [7, 9],
    ],
    maxEpisodeSteps: 1000,
  }),
});

export function isWall(maze: MazeSpec, [i, j]: Cell): boolean {
  const row = maze.layout[i];
  return row === undefined || j < 0 || j >= row.length || row[j] === '#';
}

/** Every free cell, row by row. */
export function freeCells(maze: MazeSpec): Cell[] {
  const out: Cell[] = [];
  maze.layout.forEach((row, i) => {
    for (let j = 0; j < row.length; j++) if (row[j] !== '#') out.push([i, j]);
  });
  return out;
}

/** World (x, y) of a cell's centre: the start cell (1, 1) is the origin. */
export function cellCentre([i, j]: Cell): [number, number] {
  return [MAZE_SCALING * (j - 1), MAZE_SCALING * (i - 1)];
}

/**
 * D4RL's `_xy_to_rowcol`: row = int(1 + y/4), col = int(1 + x/4) after clamping x, y to ≥ 1e-4. It measures from
 * the start cell's centre rather than its corner, so it names the cell half a cell up and left of the one a point
 * lies in; kept as D4RL wrote it (its free-cell test). The navigator uses `cellOf` instead.
 */
export function xyToRowCol(x: number, y: number): Cell {
  return [Math.trunc(1 + Math.max(y, 1e-4) / MAZE_SCALING), Math.trunc(1 + Math.max(x, 1e-4) / MAZE_SCALING)];
}

/** The cell a world point lies in (cells are centred on `cellCentre`). */
export function cellOf(x: number, y: number): Cell {
  return [Math.round(y / MAZE_SCALING) + 1, Math.round(x / MAZE_SCALING) + 1];
}

export interface WallBox {
  cell: Cell;
  /** Box centre (m): the cell centre at height maze_height·scaling / 2. */
  centre: [number, number, number];
  /** Half-sizes (m): 2 × 2 × 1, so a wall block is 4 × 4 × 2 m. */
  halfSize: [number, number, number];
}

export function wallBoxes(maze: MazeSpec): WallBox[] {
  const h = (MAZE_HEIGHT * MAZE_SCALING) / 2;
  const out: WallBox[] = [];
  maze.layout.forEach((row, i) => {
    for (let j = 0; j < row.length; j++) {
      if (row[j] !== '#') continue;
      const [x, y] = cellCentre([i, j]);
      out.push({ cell: [i, j], centre: [x, y, h], halfSize: [MAZE_SCALING / 2, MAZE_SCALING / 2, h] });
    }
  });
  return out;
}

/** The walls as MJCF box geoms (colliding with the ant: contype and conaffinity 1), one per wall cell. */
export function wallXml(maze: MazeSpec): string {
  return wallBoxes(maze)
    .map(
      ({ cell: [i, j], centre, halfSize }) =>
        `    <geom name="block_${i}_${j}" type="box" pos="${centre.join(' ')}" size="${halfSize.join(' ')}" ` +
        `contype="1" conaffinity="1" rgba="0.7 0.5 0.3 1"/>`,
    )
    .join('\n');
}

/**
 * D4RL's goal sampler: a goal cell's centre plus U(0, 1) on each axis (0.25 × scaling), plus another U(0, 0.5) on
 * each (D4RL draws it from numpy's global generator; here both come from `rng`), each coordinate clamped to ≥ 0.
 * So a goal lies within [c, c + 1.5] of its cell centre c on each axis.
 */
export function sampleGoal(goals: readonly Cell[], rng: Rng): [number, number] {
  const [x, y] = cellCentre(goals[goals.length === 1 ? 0 : rng.int(goals.length)]);
  const gx = x + rng.range(0, 0.25 * MAZE_SCALING);
  const gy = y + rng.range(0, 0.25 * MAZE_SCALING);
  return [Math.max(0, gx + rng.range(0, 0.5)), Math.max(0, gy + rng.range(0, 0.5))];
}

/** D4RL's multi-start reset location: a free cell that is not a goal cell, plus U(0, 1) per axis, clamped ≥ 0. */
export function sampleStart(maze: MazeSpec, goals: readonly Cell[], rng: Rng): [number, number] {
  const isGoal = (c: Cell): boolean => goals.some((g) => g[0] === c[0] && g[1] === c[1]);
  const cells = freeCells(maze).filter((c) => !isGoal(c));
  const [x, y] = cellCentre(cells[rng.int(cells.length)]);
  return [Math.max(0, x + rng.range(0, 1)), Math.max(0, y + rng.range(0, 1))];
}

/**
 * The shortest path over free cells (4-neighbour moves) from `from` to `to`, both included, by breadth-first
 * search; neighbours are tried in the order up, down, left, right, so ties break the same way every time.
 * Empty when `to` cannot be reached or either end is a wall.
 */
export function shortestPath(maze: MazeSpec, from: Cell, to: Cell): Cell[] {
  if (isWall(maze, from) || isWall(maze, to)) return [];
  const key = ([i, j]: Cell): string => `${i},${j}`;
  const previous = new Map<string, Cell | null>([[key(from), null]]);
  const queue: Cell[] = [from];
  for (let head = 0; head < queue.length; head++) {
    const c = queue[head];
    if (c[0] === to[0] && c[1] === to[1]) break;
    for (const [di, dj] of [
      [-1, 0],
      [1, 0],
      [0, -1],
      [0, 1],
    ]) {
      const n: Cell = [c[0] + di, c[1] + dj];
      if (isWall(maze, n) || previous.has(key(n))) continue;
      previous.set(key(n), c);
      queue.push(n);
    }
  }
  if (!previous.has(key(to))) return [];
  const path: Cell[] = [];
  for (let c: Cell | null = to; c; c = previous.get(key(c)) ?? null) path.push(c);
  return path.reverse();
}
