/**
 * `npm run doctor`: what the kit runs on here. Versions of node, tslab, Jupyter, Chromium and tfjs; the
 * tfjs backend chosen by src/backend.ts; whether a WebGPU adapter exists; where data and figures go.
 * Notebook 00 shows the same report and one small measured figure (matmul throughput of the backend).
 * Exits non-zero when something the notebooks need (Jupyter, the tslab kernel, Chromium) is missing.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend, tf, tfjsNodeInstalled, webgpuAdapterInfo } from './backend';
import type { Scale } from './config/scales';
import type { FigureSpec } from './figures';
import { chromiumPath } from './figures/render';
import { figuresDir, kitRoot } from './figures/paths';
import { jupyterCommand } from './notebooks/run-notebooks';

export interface ReportRow {
  item: string;
  value: string;
  /** False when the kit cannot run notebooks or draw figures without it. */
  ok: boolean;
}

export interface EnvironmentReport {
  rows: ReportRow[];
  backend: string;
  webgpu: boolean;
}

function run(cmd: string, args: string[]): string | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 ? (r.stdout || r.stderr).trim() : undefined;
}

function packageVersion(name: string): string | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require(require.resolve(`${name}/package.json`)) as { version: string }).version;
  } catch {
    return undefined;
  }
}

/** Collects the report; initialises the tfjs backend (the same choice every notebook gets). */
export async function environmentReport(): Promise<EnvironmentReport> {
  const root = kitRoot();
  const rows: ReportRow[] = [];
  const add = (item: string, value: string | undefined, required = false, missing = 'missing'): void => {
    rows.push({ item, value: value ?? missing, ok: value !== undefined || !required });
  };
  add('node', process.version, true);
  add(
    'machine',
    `${os.cpus().length} CPU cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB memory, ${os.platform()} ${os.arch()}`,
  );
  add('tslab', packageVersion('tslab'), true);
  add(
    'tslab kernel',
    fs.existsSync(path.join(root, '.jupyter/share/jupyter/kernels/tslab/kernel.json'))
      ? 'registered in .jupyter/'
      : undefined,
    true,
    'not registered: run bash environment/setup.sh',
  );
  const py = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const jupyter = run(py, [
    '-c',
    'import nbconvert, nbclient, jupyter_client; print(f"nbconvert {nbconvert.__version__}, nbclient {nbclient.__version__}, jupyter_client {jupyter_client.__version__}")',
  ]);
  add(
    'jupyter',
    jupyter && run(jupyterCommand(), ['nbconvert', '--version']) ? jupyter : undefined,
    true,
    'missing: apt-get install jupyter-nbconvert python3-nbclient jupyter-client python3-ipykernel',
  );
  add(
    'jupyter notebook (optional)',
    run(jupyterCommand(), ['notebook', '--version']),
    false,
    'not installed (optional: apt-get install jupyter-notebook)',
  );
  let chromium: string | undefined;
  try {
    chromium = run(chromiumPath('doctor'), ['--version']);
  } catch {
    chromium = undefined;
  }
  add('chromium', chromium, true, 'missing: apt-get install chromium (or set CHROMIUM_PATH)');
  add('playwright-core', packageVersion('playwright-core'), true);
  add('plotly.js', packageVersion('plotly.js-dist'), true);
  add('tfjs', tf.version.tfjs, true);
  add(
    'tfjs-backend-wasm / webgpu',
    `${packageVersion('@tensorflow/tfjs-backend-wasm') ?? 'missing'} / ${packageVersion('@tensorflow/tfjs-backend-webgpu') ?? 'missing'}`,
  );
  add('tfjs-node(-gpu) (optional)', tfjsNodeInstalled(), false, 'not installed (optional, see README: GPU)');
  const adapter = await webgpuAdapterInfo();
  add('WebGPU adapter', adapter.available ? adapter.description : `none (${adapter.description})`);
  const backend = await initBackend({ log: false });
  add(
    'tfjs backend',
    `${backend}${process.env.DMM_BACKEND ? ' (from DMM_BACKEND)' : ' (automatic: webgpu, tensorflow, wasm, cpu)'}`,
    true,
  );
  add('scale', `${process.env.DMM_SCALE || 'quick'} (DMM_SCALE)`);
  const dataDir = process.env.DMM_DATA_DIR ? path.resolve(root, process.env.DMM_DATA_DIR) : path.join(root, 'data');
  add('data', `${path.relative(root, dataDir) || '.'}/ (DMM_DATA_DIR to move it)`);
  add('figures', `${path.relative(root, figuresDir()) || '.'}/ (DMM_FIGURES_DIR to move it)`);
  return { rows, backend, webgpu: adapter.available };
}

/** The report as an aligned plain-text table. */
export function formatReport(report: EnvironmentReport): string {
  const width = Math.max(...report.rows.map((r) => r.item.length));
  return report.rows.map((r) => `${r.ok ? ' ' : '!'} ${r.item.padEnd(width)}  ${r.value}`).join('\n');
}

/** The report as a Markdown table (for notebooks). */
export function reportMarkdown(report: EnvironmentReport): string {
  const cell = (s: string): string => s.replace(/\|/g, '\\|');
  return [
    '| component | here |',
    '|---|---|',
    ...report.rows.map((r) => `| ${cell(r.item)} | ${r.ok ? '' : '**missing:** '}${cell(r.value)} |`),
  ].join('\n');
}

/** Shows the report: a Markdown table inside tslab, plain text elsewhere. */
export function displayReport(report: EnvironmentReport): void {
  if ('__tslab__' in globalThis) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require('tslab') as typeof import('tslab')).display.markdown(reportMarkdown(report));
  } else {
    console.log(formatReport(report));
  }
}

/** Matrix sizes timed by the environment figure at each scale (seconds at smoke, still seconds at quick). */
export const MATMUL_SIZES: Readonly<Record<Scale, readonly number[]>> = Object.freeze({
  smoke: [16, 32, 64],
  notebook: [16, 32, 64, 128, 256, 512],
  quick: [16, 32, 64, 128, 256, 512],
  paper: [16, 32, 64, 128, 256, 512, 1024],
});

export interface MatmulPoint {
  size: number;
  /** Fastest of the timed runs, in milliseconds, of one n x n x n matmul, data download included. */
  ms: number;
  gflops: number;
  /** Timed runs behind `ms`. */
  runs: number;
}

/**
 * Times square float32 matmuls on the active backend: the fastest of `repeats` runs after one warm-up,
 * because on a shared machine other jobs only ever add time.
 */
export async function matmulThroughput(scale: Scale, seed = 0, repeats = 5): Promise<MatmulPoint[]> {
  await initBackend();
  const points: MatmulPoint[] = [];
  for (const n of MATMUL_SIZES[scale]) {
    const a = tf.randomNormal([n, n], 0, 1, 'float32', seed);
    const b = tf.randomNormal([n, n], 0, 1, 'float32', seed + 1);
    const times: number[] = [];
    for (let r = 0; r <= repeats; r++) {
      const t0 = performance.now();
      const c = tf.matMul(a, b);
      await c.data(); // waits for the device, so the time is the real cost
      c.dispose();
      if (r > 0) times.push(performance.now() - t0);
    }
    a.dispose();
    b.dispose();
    const ms = Math.min(...times);
    points.push({ size: n, ms, gflops: (2 * n ** 3) / (ms * 1e6), runs: repeats });
  }
  return points;
}

/** The environment figure: matmul throughput against size, on the backend that computed it. */
export function matmulFigure(points: readonly MatmulPoint[], backend: string, scale: Scale): FigureSpec {
  return {
    name: '00-matmul-throughput',
    notebook: '00-environment',
    scale,
    seeds: [0],
    dataSource: 'none (random float32 matrices)',
    backend,
    title: 'Matrix-multiply throughput of the chosen tfjs backend',
    caption: `Float32 n x n matmul throughput (fastest of ${points[0]?.runs ?? 0} timed runs after a warm-up, download included) on the ${backend} backend of this machine: the end-to-end check of backend, notebook runner and figure pipeline.`,
    data: [
      {
        type: 'scatter',
        mode: 'lines+markers',
        x: points.map((p) => p.size),
        y: points.map((p) => p.gflops),
        name: backend,
        hovertemplate: 'n = %{x}<br>%{y:.2f} GFLOP/s<extra></extra>',
      },
    ],
    layout: {
      title: { text: `Matmul throughput, ${backend} backend` },
      xaxis: { title: { text: 'matrix size n' }, type: 'log', tickvals: points.map((p) => p.size) },
      yaxis: { title: { text: 'GFLOP/s' }, rangemode: 'tozero' },
      margin: { t: 60, r: 30, b: 60, l: 70 },
    },
  };
}

/** One sentence computed from the measured numbers. */
export function matmulFinding(points: readonly MatmulPoint[], backend: string): string {
  const first = points[0];
  const last = points[points.length - 1];
  const best = points.reduce((a, b) => (b.gflops > a.gflops ? b : a));
  const rising = last.gflops > 2 * first.gflops;
  return (
    `On the ${backend} backend, throughput goes from ${first.gflops.toFixed(2)} GFLOP/s at n = ${first.size} to ` +
    `${last.gflops.toFixed(2)} GFLOP/s at n = ${last.size} (best ${best.gflops.toFixed(2)} at n = ${best.size})` +
    (rising
      ? ': small matmuls are dominated by per-op overhead, so the kit prefers few large ops to many small ones.'
      : '.')
  );
}

if (require.main === module) {
  environmentReport().then(
    (report) => {
      console.log(formatReport(report));
      const missing = report.rows.filter((r) => !r.ok);
      if (missing.length) {
        console.error(`\n${missing.length} required component(s) missing (marked !). Fix: bash environment/setup.sh`);
        process.exit(1);
      }
    },
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exit(1);
    },
  );
}
