/**
 * A tiny WebAssembly binary assembler: just the sections and opcodes the kit's SIMD kernels need (the
 * selective scan, src/ops/scan/simd.ts; the batched matmul and causal conv, src/nn), so they build from
 * TypeScript alone (no wabt, no generated binary in the tree).
 * Encoding follows the WebAssembly core spec §5 (binary format) and the fixed-width SIMD proposal;
 * `WebAssembly.validate` checks every module built here before it is instantiated.
 */

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof F32 | typeof V128;

/** Plain (one-byte) opcodes used by the kernel. */
export const OP = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Load: 0x28,
  f32Load: 0x2a,
  f32Store: 0x38,
  i32Const: 0x41,
  f32Const: 0x43,
  i32LtS: 0x48,
  i32GeS: 0x4e,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32RemS: 0x6f,
  i32And: 0x71,
  i32Shl: 0x74,
  f32Add: 0x92,
  f32Sub: 0x93,
  f32Mul: 0x94,
  f32Div: 0x95,
} as const;

/** SIMD opcodes (prefix 0xfd, then the LEB128 index). */
export const SIMD = {
  load: 0x00,
  load32Splat: 0x09,
  store: 0x0b,
  i32x4Splat: 0x11,
  v128And: 0x4e,
  v128Xor: 0x51,
  i32x4GeU: 0x40,
  i32x4GtS: 0x3b,
  f32x4Splat: 0x13,
  f32x4ExtractLane: 0x1f,
  bitselect: 0x52,
  f32x4Gt: 0x44,
  f32x4Ge: 0x46,
  f32x4Nearest: 0x6a,
  i32x4Shl: 0xab,
  i32x4Add: 0xae,
  i32x4ShrU: 0xad,
  i32x4Mul: 0xb5,
  f32x4Abs: 0xe0,
  f32x4Neg: 0xe1,
  f32x4Sqrt: 0xe3,
  f32x4Add: 0xe4,
  f32x4Sub: 0xe5,
  f32x4Mul: 0xe6,
  f32x4Div: 0xe7,
  f32x4Min: 0xe8,
  f32x4Max: 0xe9,
  i32x4TruncSatF32x4S: 0xf8,
} as const;

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function f32Bytes(v: number): number[] {
  return Array.from(new Uint8Array(Float32Array.of(v).buffer));
}

function utf8(s: string): number[] {
  const bytes = new TextEncoder().encode(s); // not Buffer: the live explorer assembles kernels in a browser
  return [...uleb(bytes.length), ...Array.from(bytes)];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

/** One function body under construction: named locals and an instruction stream. */
export class FuncBuilder {
  readonly code: number[] = [];
  private readonly names = new Map<string, number>();
  private readonly localTypes: ValType[] = [];

  constructor(
    readonly name: string,
    readonly params: [string, ValType][],
  ) {
    params.forEach(([n], k) => this.names.set(n, k));
  }

  /** Declares a local (once) and returns its index. */
  local(name: string, type: ValType): number {
    const have = this.names.get(name);
    if (have !== undefined) return have;
    const idx = this.params.length + this.localTypes.length;
    this.names.set(name, idx);
    this.localTypes.push(type);
    return idx;
  }

  private idx(name: string): number {
    const k = this.names.get(name);
    if (k === undefined) throw new Error(`wasm-assembler: unknown local '${name}' in ${this.name}`);
    return k;
  }

  op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }
  get(name: string): this {
    return this.op(OP.localGet, ...uleb(this.idx(name)));
  }
  set(name: string): this {
    return this.op(OP.localSet, ...uleb(this.idx(name)));
  }
  tee(name: string): this {
    return this.op(OP.localTee, ...uleb(this.idx(name)));
  }
  i32(v: number): this {
    return this.op(OP.i32Const, ...sleb(v));
  }
  f32(v: number): this {
    return this.op(OP.f32Const, ...f32Bytes(v));
  }
  simd(opcode: number, ...imm: number[]): this {
    return this.op(0xfd, ...uleb(opcode), ...imm);
  }
  /** f32.load / f32.store at the address on the stack (align 2^2, offset 0). */
  loadF32(): this {
    return this.op(OP.f32Load, 2, 0);
  }
  storeF32(): this {
    return this.op(OP.f32Store, 2, 0);
  }
  /** v128.load / v128.store at address + `offset` bytes; the alignment hint is 2^2 (f32), all that is guaranteed. */
  loadV(offset = 0): this {
    return this.simd(SIMD.load, 2, ...uleb(offset));
  }
  storeV(offset = 0): this {
    return this.simd(SIMD.store, 2, ...uleb(offset));
  }
  /** v128.load32_splat: the f32 at address + `offset` in all four lanes. */
  loadSplat(offset = 0): this {
    return this.simd(SIMD.load32Splat, 2, ...uleb(offset));
  }

  /** Encoded body: locals grouped in runs of one type, then the code and `end`. */
  body(): number[] {
    const runs: number[][] = [];
    for (const t of this.localTypes) {
      const last = runs[runs.length - 1];
      if (last && last[1] === t) last[0]++;
      else runs.push([1, t]);
    }
    const bytes = [...vec(runs.map(([count, t]) => [...uleb(count), t])), ...this.code, OP.end];
    return [...uleb(bytes.length), ...bytes];
  }
}

function section(id: number, payload: number[]): number[] {
  return [id, ...uleb(payload.length), ...payload];
}

/**
 * A module of void functions over one memory of (initially) `pages` of 64 KiB: its own, exported as `mem`,
 * or with `importMemory` one given at instantiation as `env.mem` (so kernels work in a caller's memory,
 * as the fused engine's CPU executor does with its arena).
 */
export function assembleModule(funcs: FuncBuilder[], pages = 1, opts: { importMemory?: boolean } = {}): Uint8Array {
  const types = funcs.map((f) => [0x60, ...vec(f.params.map(([, t]) => [t])), 0]);
  const exports = funcs.map((f, k) => [...utf8(f.name), 0x00, ...uleb(k)]);
  const memory = opts.importMemory
    ? section(2, vec([[...utf8('env'), ...utf8('mem'), 0x02, 0x00, ...uleb(pages)]]))
    : section(5, vec([[0x00, ...uleb(pages)]]));
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec(types)),
    ...(opts.importMemory ? memory : []),
    ...section(3, vec(funcs.map((_, k) => uleb(k)))),
    ...(opts.importMemory ? [] : memory),
    ...section(7, vec(opts.importMemory ? exports : [[...utf8('mem'), 0x02, 0], ...exports])),
    ...section(10, vec(funcs.map((f) => f.body()))),
  ];
  return Uint8Array.from(bytes);
}

/** `while (counter < limit) { body; counter += step }` in a block/loop pair (limit pushes one i32). */
export function whileLt(f: FuncBuilder, counter: string, limit: () => void, body: () => void, step = 1): void {
  f.op(OP.block, 0x40).op(OP.loop, 0x40);
  f.get(counter);
  limit();
  f.op(OP.i32GeS).op(OP.brIf, 1);
  body();
  f.get(counter).i32(step).op(OP.i32Add).set(counter);
  f.op(OP.br, 0).op(OP.end).op(OP.end);
}

/** The slice of the WebAssembly JS API the kernels use (the kit compiles without the DOM lib, which declares it). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports?: object) => { exports: unknown };
}
const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** Whether this runtime accepts the module (WebAssembly with fixed-width SIMD). */
export function validateModule(bytes: Uint8Array): boolean {
  return wasmApi !== undefined && wasmApi.validate(bytes);
}

/** The module's exports, or null where this runtime rejects it (no SIMD): callers fall back. */
export function instantiateModule<E>(bytes: Uint8Array, imports?: object): E | null {
  try {
    if (validateModule(bytes)) return new wasmApi!.Instance(new wasmApi!.Module(bytes), imports).exports as E;
  } catch {
    // not instantiable here: the caller's fallback runs
  }
  return null;
}

/** Grows `mem` to at least `bytes` and returns a fresh f32 view of it. */
export function f32View(mem: WasmMemory, bytes: number): Float32Array {
  const need = bytes - mem.buffer.byteLength;
  if (need > 0) mem.grow(Math.ceil(need / 65536));
  return new Float32Array(mem.buffer);
}
