/**
 * Builds the live explorer's scripts into the figure folder's assets/ with esbuild (Node only):
 *
 * - `mujoco-js-<version>.js`: mujoco-js (its wasm is inside it, base64) as a classic script that leaves its
 *   factory under MUJOCO_FACTORY, one shared copy like Plotly's. A page opened from file:// may load classic
 *   scripts only: Chromium refuses ES modules and fetch() there.
 * - `live-explorer-<hash>.js`: page.ts with tfjs, its WebGPU and wasm backends (the wasm binaries as data: URLs)
 *   and the kit's src/ it imports, as the global `DmmLive`. Node's fs, path and url become the small shims in
 *   shims/, `process` an empty environment; the hash of the content names the file, so a page never loads a
 *   stale bundle.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { buildSync } from 'esbuild';
import { MUJOCO_FACTORY } from '../envs/mujoco';
import { writeFileAtomic } from '../util/atomic';

const SHIMS = path.join(__dirname, 'shims');

function mujocoVersion(): string {
  const dir = path.dirname(path.dirname(require.resolve('mujoco-js')));
  return (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

function build(options: Parameters<typeof buildSync>[0]): string {
  const out = buildSync({ ...options, bundle: true, write: false, platform: 'browser', logLevel: 'error' });
  return out.outputFiles![0].text;
}

/**
 * Writes `assets/mujoco-js-<version>.js` under figuresDir when it is missing and returns its path relative to
 * figuresDir. It is built from node_modules, so it is not committed: environment/setup.sh writes the copy of
 * figures/ on set-up, and writeLiveBundle here.
 */
export function writeMujocoScript(figuresDir: string): string {
  const mujoco = `assets/mujoco-js-${mujocoVersion()}.js`;
  if (!fs.existsSync(path.join(figuresDir, mujoco))) {
    const code = build({
      stdin: {
        contents: `import create from 'mujoco-js';\nglobalThis[Symbol.for(${JSON.stringify(MUJOCO_FACTORY.description)})] = create;`,
        resolveDir: __dirname,
      },
      format: 'iife',
      minify: true,
      external: ['module'], // reached only in Node
    });
    writeFileAtomic(
      path.join(figuresDir, mujoco),
      `/* mujoco-js ${mujocoVersion()} (Apache-2.0), bundled by dmm-kit */\n${code}`,
    );
  }
  return mujoco;
}

/** Writes both scripts (the mujoco-js copy only when missing) and returns their paths relative to figuresDir. */
export function writeLiveBundle(figuresDir: string): { mujoco: string; bundle: string } {
  const assets = path.join(figuresDir, 'assets');
  const mujoco = writeMujocoScript(figuresDir);
  const code = build({
    entryPoints: [path.join(__dirname, 'page.ts')],
    format: 'iife',
    globalName: 'DmmLive',
    minify: true,
    legalComments: 'inline',
    alias: { fs: path.join(SHIMS, 'fs.ts'), path: path.join(SHIMS, 'path.ts'), url: path.join(SHIMS, 'url.ts') },
    inject: [path.join(SHIMS, 'process.ts')],
    define: { __dirname: '"/dmm-kit/src/live"' },
    loader: { '.xml': 'text', '.wasm': 'dataurl' },
    external: ['webgpu'], // Dawn for Node; a browser has navigator.gpu
  });
  const hash = createHash('sha256').update(code).digest('hex').slice(0, 12);
  const bundle = `assets/live-explorer-${hash}.js`;
  for (const old of fs.readdirSync(assets).filter((f) => /^live-explorer-[0-9a-f]+\.js$/.test(f)))
    if (`assets/${old}` !== bundle) fs.rmSync(path.join(assets, old));
  writeFileAtomic(path.join(figuresDir, bundle), code);
  return { mujoco, bundle };
}
