/** The AntMaze layouts as data: the maps of D4RL, cell geometry, D4RL's cell rule, goal and start samplers, paths. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAZES,
  cellCentre,
  freeCells,
  sampleGoal,
  sampleStart,
  shortestPath,
  wallBoxes,
  xyToRowCol,
  type Cell,
} from '../../src/envs/maze';
import { Rng } from '../../src/util/rng';

// D4RL's evaluation maps as printed in its maze_env (G = the one goal), written out here independently of src/.
const TEST_MAPS: Record<keyof typeof MAZES, string[]> = {
  'antmaze-umaze': ['#####', '#R..#', '###.#', '#G..#', '#####'],
  'antmaze-medium': ['########', '#R.##..#', '#..#...#', '##...###', '#..#...#', '#.#..#.#', '#...#.G#', '########'],
  'antmaze-large': [
    '############',
    '#R...#.....#',
    '#.##.#.#.#.#',
    '#......#...#',
    '#.####.###.#',
    '#..#.#.....#',
    '##.#.#.#.###',
    '#..#...#.G.#',
    '############',
  ],
};

for (const [name, map] of Object.entries(TEST_MAPS) as [keyof typeof MAZES, string[]][]) {
  test(`${name}: walls, start and evaluation goal are D4RL's map`, () => {
    const maze = MAZES[name];
    assert.deepEqual(
      maze.layout,
      map.map((row) => row.replace('G', '.')),
    );
    const gi = map.findIndex((row) => row.includes('G'));
    assert.deepEqual(maze.evalGoal, [gi, map[gi].indexOf('G')]);
    assert.equal(maze.layout[1][1], 'R');
    for (const g of maze.trainGoals) assert.notEqual(maze.layout[g[0]][g[1]], '#', `goal ${g} on a wall`);
  });

  test(`${name}: one 4 × 4 × 2 m box per wall cell, centred at (4j − 4, 4i − 4, 1)`, () => {
    const boxes = wallBoxes(MAZES[name]);
    const walls = map
      .join('')
      .split('')
      .filter((c) => c === '#').length;
    assert.equal(boxes.length, walls);
    for (const b of boxes) {
      const [i, j] = b.cell;
      assert.equal(map[i][j], '#');
      assert.deepEqual(b.centre, [4 * j - 4, 4 * i - 4, 1]);
      assert.deepEqual(b.halfSize, [2, 2, 1]);
    }
  });

  test(`${name}: every free cell reaches the goal by a path of free, adjacent cells`, () => {
    const maze = MAZES[name];
    for (const c of freeCells(maze)) {
      const path = shortestPath(maze, c, maze.evalGoal);
      assert.ok(path.length >= 1, `no path from ${c}`);
      assert.deepEqual(path[0], c);
      assert.deepEqual(path[path.length - 1], maze.evalGoal);
      for (let k = 1; k < path.length; k++) {
        const d = Math.abs(path[k][0] - path[k - 1][0]) + Math.abs(path[k][1] - path[k - 1][1]);
        assert.equal(d, 1);
        assert.notEqual(map[path[k][0]][path[k][1]], '#');
      }
    }
  });
}

test('goal cell centres: umaze (0, 8), medium (20, 20), large (32, 24)', () => {
  assert.deepEqual(cellCentre(MAZES['antmaze-umaze'].evalGoal), [0, 8]);
  assert.deepEqual(cellCentre(MAZES['antmaze-medium'].evalGoal), [20, 20]);
  assert.deepEqual(cellCentre(MAZES['antmaze-large'].evalGoal), [32, 24]);
});

test("umaze's shortest path goes round the U: 7 cells from the start to the goal", () => {
  const path = shortestPath(MAZES['antmaze-umaze'], [1, 1], [3, 1]);
  assert.deepEqual(path, [
    [1, 1],
    [1, 2],
    [1, 3],
    [2, 3],
    [3, 3],
    [3, 2],
    [3, 1],
  ]);
  assert.deepEqual(shortestPath(MAZES['antmaze-umaze'], [1, 1], [2, 1]), []);
});

test("D4RL's xy → (row, col) rule: int(1 + y/4), int(1 + x/4) after clamping to ≥ 1e-4", () => {
  assert.deepEqual(xyToRowCol(0, 0), [1, 1]);
  assert.deepEqual(xyToRowCol(-3, -3), [1, 1]);
  assert.deepEqual(xyToRowCol(3.9, 0), [1, 1]);
  assert.deepEqual(xyToRowCol(4.1, 8.5), [3, 2]);
});

test('goal sampler: cell centre + U(0, 1) + U(0, 0.5) per axis, so goals fill [c, c + 1.5] with mean c + 0.75', () => {
  const rng = new Rng(5);
  const n = 20000;
  const xs: number[] = [];
  const ys: number[] = [];
  for (let k = 0; k < n; k++) {
    const [x, y] = sampleGoal([[3, 1]], rng);
    xs.push(x);
    ys.push(y - 8);
  }
  for (const v of [xs, ys]) {
    assert.ok(Math.min(...v) >= 0 && Math.max(...v) <= 1.5);
    const mean = v.reduce((a, b) => a + b, 0) / n;
    // Var = 1/12 + 0.25/12; the standard error of the mean is ~0.0023.
    const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
    assert.ok(Math.abs(mean - 0.75) < 0.01, `mean ${mean}`);
    assert.ok(Math.abs(variance / (1.25 / 12) - 1) < 0.05, `variance ${variance}`);
    assert.ok(Math.min(...v) < 0.02 && Math.max(...v) > 1.48);
  }
  // Several goal cells: each is drawn about equally often.
  const goals = MAZES['antmaze-large'].trainGoals;
  const counts = new Map<string, number>();
  for (let k = 0; k < 7000; k++) {
    const [x, y] = sampleGoal(goals, rng);
    const cell = goals.find((g) => {
      const [cx, cy] = cellCentre(g);
      return x >= cx && x <= cx + 1.5 && y >= cy && y <= cy + 1.5;
    }) as Cell;
    counts.set(String(cell), (counts.get(String(cell)) ?? 0) + 1);
  }
  assert.equal(counts.size, goals.length);
  for (const c of counts.values()) assert.ok(Math.abs(c - 1000) < 120, `${[...counts]}`);
});

test('multi-start sampler: free, non-goal cells only, each drawn, + U(0, 1) clamped at 0', () => {
  const maze = MAZES['antmaze-umaze'];
  const rng = new Rng(9);
  const seen = new Set<string>();
  for (let k = 0; k < 2000; k++) {
    const [x, y] = sampleStart(maze, maze.trainGoals, rng);
    const cell = freeCells(maze).find(([i, j]) => {
      const [cx, cy] = cellCentre([i, j]);
      return x >= cx && x <= cx + 1 && y >= cy && y <= cy + 1;
    });
    assert.ok(cell, `start (${x}, ${y}) in no free cell`);
    assert.notDeepEqual(cell, [3, 1]);
    seen.add(String(cell));
  }
  assert.equal(seen.size, freeCells(maze).length - 1);
});
