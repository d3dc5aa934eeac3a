/**
 * Weights and optimiser moments between a program's flat regions and PyTorch parameter names (docs/spec.md §13):
 * the one place the engine's layout meets checkpoints and the tfjs models. Parameters keep PyTorch's
 * shapes and row-major layouts inside the arena, so a copy is all it takes.
 */
import { check } from '../util/check';
import type { Executor } from './executor';
import type { Program, Region } from './program';

export type NamedArrays = Map<string, Float32Array>;

/** The region of parameter `name`'s AdamW moment (`m` or `v`), at the parameter's offset in that block. */
export function momentRegion(program: Program, name: string, which: 'm' | 'v'): Region {
  const p = program.params.get(name);
  check(p !== undefined, () => `Error in momentRegion: no parameter '${name}'.`);
  const base = program.arena.get('params').offset;
  const block = program.arena.get(which === 'm' ? 'adam.m' : 'adam.v');
  return {
    name: `${which}.${name}`,
    offset: block.offset + p!.offset - base,
    size: p!.size,
    role: 'adam',
    shape: p!.shape,
  };
}

/** Writes every parameter and frozen tensor of packed run `run`; `values` must hold each by name, right size. */
export function writeWeights(ex: Executor, values: NamedArrays, run = 0): void {
  for (const [name, region] of [...ex.program.params, ...ex.program.frozen]) {
    const v = values.get(name);
    check(v !== undefined, () => `Error in writeWeights: weights must include '${name}', got none.`);
    ex.write(region, v!, false, run);
  }
}

export async function readWeights(ex: Executor, which: 'params' | 'frozen' = 'params', run = 0): Promise<NamedArrays> {
  const out: NamedArrays = new Map();
  for (const [name, region] of which === 'params' ? ex.program.params : ex.program.frozen)
    out.set(name, await ex.read(region, run));
  return out;
}

export function writeMoments(ex: Executor, m: NamedArrays, v: NamedArrays, run = 0): void {
  for (const name of ex.program.params.keys()) {
    for (const [which, src] of [
      ['m', m],
      ['v', v],
    ] as const) {
      const values = src.get(name);
      check(values !== undefined, () => `Error in writeMoments: moments must include ${which}.${name}, got none.`);
      ex.write(momentRegion(ex.program, name, which), values!, false, run);
    }
  }
}

export async function readMoments(ex: Executor, run = 0): Promise<{ m: NamedArrays; v: NamedArrays }> {
  const m: NamedArrays = new Map();
  const v: NamedArrays = new Map();
  for (const name of ex.program.params.keys()) {
    m.set(name, await ex.read(momentRegion(ex.program, name, 'm'), run));
    v.set(name, await ex.read(momentRegion(ex.program, name, 'v'), run));
  }
  return { m, v };
}
