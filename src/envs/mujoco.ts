/**
 * Loads mujoco-js (MuJoCo 3.3.8 compiled to WebAssembly) once per thread and compiles the kit's MJCF files.
 *
 * mujoco-js is an ES module; the kit compiles to CommonJS (tsc and tslab both turn `import()` into `require()`),
 * so the module is loaded through a real dynamic import built with `new Function`. A browser page on file://
 * cannot import an ES module at all, so the live explorer (src/live) loads mujoco-js as a classic script that
 * leaves its factory under `MUJOCO_FACTORY`, and loadMujoco takes it from there. MuJoCo reports XML errors by
 * throwing a C++ exception whose message the JS side drops; `loadModel` reads the message back from the
 * exception object and names the file.
 */
import * as fs from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';
import type { MainModule, MjData, MjModel } from 'mujoco-js';
import { KitError } from '../util/check';

export type { MainModule, MjData, MjModel };

/** Where the kit's MJCF files live (src/envs/assets). */
export const ASSET_DIR = path.join(__dirname, 'assets');

// A real dynamic import: a plain `import()` would be compiled to `require()`, which cannot load an ES module.
const dynamicImport = new Function('s', 'return import(s)') as (specifier: string) => Promise<{
  default: (options?: object) => Promise<MainModule>;
}>;

/** The global under which a page that preloaded mujoco-js leaves its factory (src/live/bundle.ts). */
export const MUJOCO_FACTORY = Symbol.for('dmm-kit.mujoco-js');
type MujocoFactory = (options?: object) => Promise<MainModule>;

let cached: Promise<MainModule> | undefined;
/** Lines MuJoCo printed to stderr during the current load (it prints, rather than throws, for XML syntax errors). */
const printed: string[] = [];
let capturing = false;

/** The MuJoCo WebAssembly module, loaded on first use and shared by every environment of this thread. */
export function loadMujoco(): Promise<MainModule> {
  if (!cached) {
    const preloaded = (globalThis as Record<symbol, unknown>)[MUJOCO_FACTORY] as MujocoFactory | undefined;
    const factory = preloaded
      ? Promise.resolve(preloaded)
      : dynamicImport(pathToFileURL(require.resolve('mujoco-js')).href).then((mod) => mod.default);
    cached = factory.then((create) =>
      create({
        print: (line: string) => (capturing ? printed.push(line) : process.stdout.write(line + '\n')),
        printErr: (line: string) => (capturing ? printed.push(line) : process.stderr.write(line + '\n')),
      }),
    );
    cached.catch(() => (cached = undefined));
  }
  return cached;
}

/** The ArrayBuffer behind MuJoCo's heap, reached through any array view MuJoCo hands out. */
function heapBuffer(mj: MainModule): ArrayBufferLike | undefined {
  let probe: MjModel | undefined;
  try {
    // A tiny model whose body_mass view exposes the heap buffer (HEAPU8 is not exported by mujoco-js).
    mj.FS.writeFile('/__kit_probe.xml', '<mujoco><worldbody/></mujoco>');
    probe = mj.MjModel.loadFromXML('/__kit_probe.xml');
    return (probe.body_mass as Float64Array).buffer;
  } catch {
    return undefined;
  } finally {
    probe?.delete();
  }
}

/** The text of a MuJoCo C++ exception (mjXError keeps its message in a char array at offset 0). */
function exceptionText(mj: MainModule, err: unknown): string {
  const ptr = (err as { excPtr?: number })?.excPtr;
  if (typeof ptr === 'number') {
    const buffer = heapBuffer(mj);
    if (buffer && ptr > 0 && ptr < buffer.byteLength) {
      const bytes = new Uint8Array(buffer, ptr, Math.min(1000, buffer.byteLength - ptr));
      let end = 0;
      while (end < bytes.length && bytes[end] !== 0) end++;
      const text = new TextDecoder().decode(bytes.subarray(0, end)).trim();
      if (/^[\x20-\x7e\s]+$/.test(text) && text.length > 0) return text;
    }
  }
  if (err instanceof Error && err.message) return err.message;
  return String(err);
}

/** One line: MuJoCo messages span lines ("XML Error: ...\nElement 'body', line 3"). */
function oneLine(text: string): string {
  return text
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean)
    .join('; ');
}

/**
 * Compiles an MJCF file (path on disk) into an MjModel. Any failure becomes one KitError line naming the file and
 * MuJoCo's own message, e.g. `Error in loadModel: hopper.xml must compile in MuJoCo 3.3.8, got "XML Error: global
 * coordinates no longer supported ...; Element 'compiler', line 1".`
 */
export function loadModel(mj: MainModule, file: string): MjModel {
  return loadModelXml(mj, file, (xml) => xml);
}

/**
 * Compiles an MJCF file after `edit` rewrote its text (the AntMaze envs add their walls this way); failures are
 * reported as `loadModel` reports them, naming the file.
 */
export function loadModelXml(mj: MainModule, file: string, edit: (xml: string) => string): MjModel {
  const name = path.basename(file);
  const fail = (why: string): never => {
    throw new KitError(
      `Error in loadModel: ${name} must compile in MuJoCo ${mj.mj_versionString()}, got "${oneLine(why)}". ` +
        `Fix the XML (${file}); use local coordinates and plain numbers.`,
    );
  };
  let xml: string;
  try {
    xml = edit(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    return fail(`cannot read file: ${(err as Error).message}`);
  }
  const vfsPath = `/kit_${name}`;
  mj.FS.writeFile(vfsPath, xml);
  printed.length = 0;
  capturing = true;
  let model: MjModel | null | undefined;
  try {
    model = mj.MjModel.loadFromXML(vfsPath);
  } catch (err) {
    capturing = false;
    return fail(exceptionText(mj, err));
  } finally {
    capturing = false;
    mj.FS.unlink(vfsPath);
  }
  // XML syntax errors are printed, not thrown, and leave an empty handle behind.
  let usable = false;
  try {
    usable = !!model && model.nq >= 0 && model.nbody >= 1;
  } catch {
    usable = false;
  }
  if (!usable || printed.length > 0) {
    const why = printed.length > 0 ? printed.join(' ') : 'no model returned';
    try {
      model?.delete();
    } catch {
      // the empty handle may not be deletable; nothing else to release
    }
    return fail(why);
  }
  return model as MjModel;
}
