/**
 * HDF5 through h5wasm 0.10.3. Its Node entry `h5wasm/node` is an `exports`-map path and
 * the package is ESM-only, while the kit compiles as CommonJS with Node10 resolution (tslab), so it is
 * loaded here by its real file path through a native `import()` that TypeScript does not rewrite.
 *
 * Two facts shape this module:
 * - h5py writes numpy bools as an HDF5 enum {FALSE: 0, TRUE: 1} over int8; h5wasm reads them back as
 *   Int8Array and cannot create enum types, so the kit writes its bool columns as int8 0/1 (same bytes,
 *   and D4RL's `get_dataset` checks no dtypes, docs/spec.md §15.3).
 * - HDF5 stamps object headers with the wall-clock time, so two writes of equal arrays differ in bytes.
 *   The writer pins the clock that the WebAssembly build reads (`Date.now`) to 0 for the duration of a
 *   write, which makes equal inputs give equal files (checked by test/data/hdf5.test.ts).
 * - By default HDF5 prints its whole error stack (dozens of lines) to stderr and h5wasm then fails with
 *   "name not defined". The module switches h5wasm to its throwing error handler, so an error is one
 *   exception whose last stack line gives the cause; an empty, foreign or truncated file is caught before
 *   HDF5 sees it (`hdf5FileProblem`).
 */
import * as fs from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';
import type * as H5 from 'h5wasm';
import { KitError, check } from '../util/check';

type H5Module = typeof H5;

export type H5TypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/** One HDF5 dataset read into memory. `dtype` is 'bool' for h5py's bool enum, 'string' for text. */
export interface H5Array {
  dtype: string;
  shape: number[];
  data: H5TypedArray | string | number | bigint;
}

/** What the writer accepts: a typed array with its shape, or a scalar string / number. */
export interface H5Entry {
  data: H5TypedArray | string | number;
  shape?: number[];
  /** h5wasm dtype code; default from the typed array ('<f' for Float32Array, '<b' for Int8Array). */
  dtype?: string;
}

let loading: Promise<H5Module> | undefined;

function findH5wasmEntry(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', 'h5wasm', 'dist', 'node', 'hdf5_hl.js');
    if (fs.existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) break;
  }
  throw new KitError(
    'Error in h5wasm: package h5wasm must be installed, got no node_modules/h5wasm above src/data. Run `npm ci`.',
  );
}

/** The h5wasm module, loaded once and ready. */
export function h5wasm(): Promise<H5Module> {
  loading ??= (async () => {
    // A Function-built import() stays a native dynamic import after CommonJS compilation.
    const importEsm = new Function('s', 'return import(s)') as (s: string) => Promise<H5Module>;
    const mod = await importEsm(pathToFileURL(findH5wasmEntry()).href);
    await mod.ready;
    (mod.Module as unknown as { activate_throwing_error_handler(): void }).activate_throwing_error_handler();
    return mod;
  })();
  return loading;
}

function dtypeName(
  meta: { type: number; size: number; signed: boolean; enum_type?: { members: Record<string, number> } },
  mod: H5Module,
): string {
  const cls = mod.Module.H5T_class_t;
  if (meta.type === cls.H5T_FLOAT.value) return `f${meta.size}`;
  if (meta.type === cls.H5T_INTEGER.value) return `${meta.signed ? 'i' : 'u'}${meta.size}`;
  if (meta.type === cls.H5T_STRING.value) return 'string';
  if (meta.type === cls.H5T_ENUM.value) {
    const m = meta.enum_type?.members ?? {};
    return Object.keys(m).length === 2 && m.FALSE === 0 && m.TRUE === 1 ? 'bool' : 'enum';
  }
  return `class${meta.type}`;
}

const SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * What is wrong with a file HDF5 would refuse, in words ('an empty file (0 bytes)', 'a truncated
 * file (3000 of 29792 bytes)', …), or undefined when it looks whole.
 * The superblock sits at byte 0 or a power of two from 512 on, and records the end-of-file address.
 */
export function hdf5FileProblem(file: string): string | undefined {
  const size = fs.statSync(file).size;
  if (size === 0) return 'an empty file (0 bytes)';
  const fd = fs.openSync(file, 'r');
  try {
    const read = (at: number, n: number): Buffer => {
      const buf = Buffer.alloc(n);
      fs.readSync(fd, buf, 0, n, at);
      return buf;
    };
    let at = 0;
    while (at + SIGNATURE.length <= size && !read(at, SIGNATURE.length).equals(SIGNATURE)) at = at === 0 ? 512 : 2 * at;
    if (at + SIGNATURE.length > size) return 'a file without the HDF5 signature (not an HDF5 file)';
    const head = read(at, 64);
    const version = head[8];
    // Superblock v0/v1: offset size at byte 13, base and end-of-file addresses at 24 (v1: 28) and
    // 24 + 2 × offset size; v2/v3: offset size at byte 9, addresses from byte 12.
    const offsetSize = version <= 1 ? head[13] : head[9];
    const addresses = version <= 1 ? (version === 0 ? 24 : 28) : 12;
    if (offsetSize !== 4 && offsetSize !== 8) return undefined; // unusual layout: leave it to HDF5
    const address = (i: number): number => {
      const p = addresses + i * offsetSize;
      return offsetSize === 8 ? Number(head.readBigUInt64LE(p)) : head.readUInt32LE(p);
    };
    const end = address(0) + address(2);
    if (end > size) return `a truncated file (${size} of ${end} bytes)`;
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/** The cause of an h5wasm exception: the innermost line of HDF5's error stack, else the first line. */
function hdf5Cause(err: unknown): string {
  const text = String((err as Error)?.message ?? err);
  const frames = [...text.matchAll(/#\d+: .* in [\w.]+\(\): (.*)$/gm)].map((m) => m[1].trim());
  return frames[frames.length - 1] ?? text.split('\n')[0];
}

/**
 * Reads every dataset of an HDF5 file, recursively, keyed by its full path without the leading slash
 * ('observations', 'infos/qpos', 'metadata/policy/fc0/weight'), as D4RL's `get_dataset` does.
 * `want` restricts loading to some keys (the others are listed in `keys` but not read).
 */
export async function readHdf5(
  file: string,
  want?: (key: string) => boolean,
): Promise<{ keys: string[]; arrays: Map<string, H5Array> }> {
  check(fs.existsSync(file), () => `Error in readHdf5: file must exist, got '${file}'.`);
  const broken = (what: string): KitError =>
    new KitError(
      `Error in readHdf5: '${file}' must be a complete HDF5 file, got ${what}. Delete it and download or generate it again.`,
    );
  const problem = hdf5FileProblem(file);
  if (problem) throw broken(problem);
  const mod = await h5wasm();
  let f: InstanceType<H5Module['File']>;
  try {
    f = new mod.File(file, 'r');
    f.keys();
  } catch (err) {
    throw broken(`one HDF5 cannot read (${hdf5Cause(err)})`);
  }
  try {
    const keys: string[] = [];
    const arrays = new Map<string, H5Array>();
    const walk = (group: InstanceType<H5Module['Group']>, prefix: string): void => {
      for (const name of group.keys()) {
        const key = prefix + name;
        const entity = group.get(name);
        if (entity instanceof mod.Group) walk(entity, key + '/');
        else if (entity instanceof mod.Dataset) {
          keys.push(key);
          if (want && !want(key)) continue;
          const meta = entity.metadata;
          const value = entity.value;
          const shape = entity.shape ?? [];
          arrays.set(key, { dtype: dtypeName(meta, mod), shape, data: value as H5Array['data'] });
        }
      }
    };
    walk(f, '');
    return { keys, arrays };
  } finally {
    f.close();
  }
}

/**
 * Writes `entries` (keys are paths; groups are created as needed) to `file`, atomically, with
 * reproducible bytes. Arrays with more than `chunkRows` rows are chunked along the first axis and,
 * when `gzip` is set, compressed (D4RL's files are gzip-compressed).
 */
export async function writeHdf5(
  file: string,
  entries: Record<string, H5Entry>,
  options: { gzip?: number; chunkRows?: number } = {},
): Promise<void> {
  const mod = await h5wasm();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const chunkRows = options.chunkRows ?? 16384;
  const realNow = Date.now;
  Date.now = () => 0; // see the header: pins HDF5's object timestamps
  try {
    const f = new mod.File(tmp, 'w');
    try {
      const groups = new Map<string, InstanceType<H5Module['Group']>>([['', f]]);
      const groupOf = (p: string): InstanceType<H5Module['Group']> => {
        let g = groups.get(p);
        if (g) return g;
        const slash = p.lastIndexOf('/');
        const parent = groupOf(slash < 0 ? '' : p.slice(0, slash));
        g = parent.create_group(p.slice(slash + 1));
        groups.set(p, g);
        return g;
      };
      for (const key of Object.keys(entries).sort()) {
        const e = entries[key];
        const slash = key.lastIndexOf('/');
        const g = groupOf(slash < 0 ? '' : key.slice(0, slash));
        const name = key.slice(slash + 1);
        if (typeof e.data === 'string' || typeof e.data === 'number') {
          g.create_dataset({ name, data: e.data, dtype: e.dtype ?? null });
          continue;
        }
        const shape = e.shape ?? [e.data.length];
        const rows = shape[0] ?? 1;
        const big = shape.length > 0 && rows > 0 && options.gzip !== undefined;
        g.create_dataset({
          name,
          data: e.data,
          shape,
          dtype: e.dtype ?? null,
          ...(big
            ? {
                chunks: [Math.min(rows, chunkRows), ...shape.slice(1)],
                compression: 'gzip' as const,
                compression_opts: options.gzip,
              }
            : {}),
        });
      }
    } finally {
      f.close();
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  } finally {
    Date.now = realNow;
  }
}
