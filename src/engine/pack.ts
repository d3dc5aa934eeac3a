/**
 * Packed runs: R runs of one program shape (different seeds, datasets, learning rates: anything that is not a
 * size) in one arena, run by the same launches. Run r's copy of the single-run arena starts at r·stride; every
 * launch processes all R copies at once, so a step still has the same few dispatches and the GPU gets R
 * times the work per dispatch. A packed run computes exactly what it computes alone (the same kernels on the
 * same numbers), which test/engine/packed.test.ts checks.
 *
 * On the GPU a launch's grid gains R in its z dimension and its shader adds run r's base to every arena and
 * control-word index (`packShader`); on the CPU each launch runs once per run over that run's view.
 */
import type { Program } from './program';

export interface Packing {
  runs: number;
  /** Floats between runs' arenas (a multiple of 64, so each run's base is 256-byte aligned). */
  stride: number;
  /** u32 words between runs' control words. */
  ctlStride: number;
}

export function packing(program: Program, runs = 1): Packing {
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(`Error in packing: runs must be a positive integer, got ${runs}.`);
  return {
    runs,
    stride: Math.ceil(program.arena.size / 64) * 64,
    ctlStride: Math.max(1, Math.ceil(program.ctl.size / 4) * 4),
  };
}

/**
 * The most runs of `program` one WebGPU binding can hold: every run's arena lies in one storage buffer, so
 * R·stride·4 bytes must fit the adapter's maxStorageBufferBindingSize (2 GiB − 4 on the H200 host).
 */
export function maxPackedRuns(program: Program, maxBindingBytes: number): number {
  return Math.floor(maxBindingBytes / (packing(program).stride * 4));
}

/** Wraps every `M[expr]` / `C[expr]` as `M[u32(RB + i32(expr))]`, finding each bracket's match. */
function rebase(code: string, name: 'M' | 'C', base: string): string {
  const re = new RegExp(`(?<![A-Za-z0-9_])${name}\\[`, 'g');
  let out = '';
  let last = 0;
  for (let m = re.exec(code); m; m = re.exec(code)) {
    const open = m.index + name.length;
    let depth = 0;
    let close = open;
    for (; close < code.length; close++) {
      if (code[close] === '[') depth++;
      else if (code[close] === ']' && --depth === 0) break;
    }
    const inner = rebase(code.slice(open + 1, close), name, base);
    out += `${code.slice(last, m.index)}${name}[u32(${base} + i32(${inner}))]`;
    last = close + 1;
    re.lastIndex = close + 1;
  }
  return out + code.slice(last);
}

/**
 * The shader of one dispatch for R packed runs: `run` = wid.z / zDim (the dispatch's own z index becomes
 * wid.z mod zDim) and every arena / control index is shifted by the run's base.
 */
export function packShader(code: string, zDim: number, p: Packing): string {
  if (p.runs === 1) return code;
  const main = code.indexOf('fn main(');
  const body = code.indexOf('{', code.indexOf(')', main)) + 1;
  let out = code.slice(0, body).replace(/\bwid\.z\b/g, `(wid.z % ${zDim}u)`);
  out += `\n  let run = wid.z / ${zDim}u;\n  RB = i32(run * ${p.stride}u);\n  RC = i32(run * ${p.ctlStride}u);`;
  out += code.slice(body).replace(/\bwid\.z\b/g, `(wid.z % ${zDim}u)`);
  out = rebase(rebase(out, 'M', 'RB'), 'C', 'RC');
  // The run bases are module-scope private variables, visible to the helper functions too.
  return out.replace('fn sigm(', 'var<private> RB: i32;\nvar<private> RC: i32;\nfn sigm(');
}
