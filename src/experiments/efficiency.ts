/**
 * Notebook 10: efficiency, read from the benchmark JSON in bench/results/ (written by bench/*.ts; nothing is
 * timed here). Every table keeps the machine, date and load average the benchmark recorded; H100 numbers
 * appear when a benchmark was run there and its JSON committed.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Data, FigureSpec } from '../figures';
import { kitRoot } from '../figures/paths';
import { MODEL_LABELS, type Model } from './plan';
import { markdownTable, type NotebookResult } from './report';

type Json = Record<string, unknown>;

export interface BenchFile {
  name: string;
  json: Json;
  rows: Json[];
}

export function readBenchResults(dir = path.join(kitRoot(), 'bench', 'results')): BenchFile[] {
  if (!fs.existsSync(dir)) return [];
  const out: BenchFile[] = [];
  for (const f of fs
    .readdirSync(dir)
    .filter((x) => x.endsWith('.json'))
    .sort()) {
    try {
      const json = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Json;
      const rows = Array.isArray(json.rows) ? (json.rows as Json[]) : [];
      out.push({ name: f.replace(/\.json$/, ''), json, rows });
    } catch {
      out.push({ name: f.replace(/\.json$/, ''), json: { error: 'unreadable JSON' }, rows: [] });
    }
  }
  return out;
}

function cell(v: unknown): string {
  if (typeof v === 'number')
    return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3);
  if (typeof v === 'string') return v.length > 60 ? v.slice(0, 57) + '…' : v;
  if (v === undefined || v === null) return '';
  return JSON.stringify(v).slice(0, 60);
}

/** "Decision MetaMamba, D 64, K 8, batch 64" from a train-step row (model id, config, batch). */
function stepLabel(r: Json): string {
  // bench/train-step.ts writes the config as a JSON string.
  const c = (typeof r.config === 'string' ? JSON.parse(r.config) : (r.config ?? {})) as Json;
  const name = MODEL_LABELS[r.model as Model] ?? String(r.model);
  const dims = [
    c.hiddenSize !== undefined ? `D ${c.hiddenSize}` : '',
    c.contextLength !== undefined ? `K ${c.contextLength}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  return `${name}<br>${dims}${dims ? ', ' : ''}batch ${r.batch}`;
}

/** Where and when: date, machine, load average (whatever keys the benchmark wrote). */
export function provenanceLine(b: BenchFile): string {
  const j = b.json;
  const host = (j.host ?? j.machine ?? {}) as Json;
  const date = j.date ?? j.when ?? '?';
  const cpu = j.cpu ?? j.cpuModel ?? host.cpuModel ?? host.model ?? '?';
  const load = j.loadavgBefore ?? j.loadAverageBefore ?? j.loadavg ?? host.loadavg ?? host.loadAverage ?? j.loadAverage;
  const device = j.device ?? j.gpu ?? host.gpu;
  return `${b.name}: ${date}, ${cpu}${device ? `, ${cell(device)}` : ''}${load ? `, load average ${cell(load)}` : ''}`;
}

function rowsTable(rows: Json[]): string {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))].slice(0, 10);
  return markdownTable(
    keys,
    rows.map((r) => keys.map((k) => cell(r[k]))),
  );
}

/** Scalar numeric fields of an object, flattened one level (`wasm.trainStepMs.b64`). */
function numericFields(obj: Json, prefix = ''): [string, number][] {
  const out: [string, number][] = [];
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v === 'number') out.push([prefix + k, v]);
    else if (v && typeof v === 'object' && !Array.isArray(v) && prefix.split('.').length < 3)
      out.push(...numericFields(v as Json, `${prefix}${k}.`));
  }
  return out;
}

export async function efficiency(scale: string): Promise<NotebookResult> {
  const files = readBenchResults();
  const tables: string[] = [];
  const figures: FigureSpec[] = [];
  const common = { notebook: '10-efficiency', scale, dataSource: 'benchmark JSON in bench/results/' };
  for (const b of files) {
    const head = `**${provenanceLine(b)}**${b.json.note ? ` — ${cell(b.json.note)}` : ''}`;
    if (b.rows.length) tables.push(`${head}\n\n${rowsTable(b.rows)}`);
    else {
      const nums = numericFields(b.json).filter(([k]) => !/load|cpus|cores/i.test(k));
      tables.push(
        `${head}\n\n${markdownTable(
          ['measure', 'value'],
          nums.map(([k, v]) => [k, cell(v)]),
        )}`,
      );
    }
  }
  // Training-step time per model/config (bench/train-step.ts).
  const trainFile = files.find((f) => f.name === 'train-step');
  const train = trainFile
    ? { ...trainFile, rows: trainFile.rows.filter((r) => typeof r.msPerStep === 'number') }
    : undefined;
  if (train?.rows.length) {
    figures.push({
      ...common,
      name: '10-train-step',
      backend: String(train.json.backend ?? ''),
      data: [
        {
          type: 'bar',
          x: train.rows.map((r) => stepLabel(r)),
          y: train.rows.map((r) => Number(r.msPerStep)),
          text: train.rows.map((r) => `${cell(r.parameters)} params`),
        } as Data,
      ],
      layout: {
        title: { text: 'Training step time' },
        yaxis: { title: { text: 'ms per step' } },
        xaxis: { automargin: true },
      },
      caption: `From bench/results/train-step.json (${provenanceLine(train)}): the tfjs path's step (the fused engine's: bench/results/engine-*.json, docs/engine.md). A loaded machine inflates these times.`,
    });
  }
  // Scan kernels: every *Ms number per backend section (bench/scan.ts).
  const scan = files.find((f) => f.name === 'scan');
  if (scan) {
    const pts = numericFields(scan.json).filter(([k]) => /ms/i.test(k) && !/load/.test(k));
    if (pts.length)
      figures.push({
        ...common,
        name: '10-scan',
        data: [{ type: 'bar', orientation: 'h', y: pts.map(([k]) => k), x: pts.map(([, v]) => v) } as Data],
        layout: {
          title: { text: 'Scan kernels and steps per backend' },
          xaxis: { title: { text: 'ms' }, type: 'log' as const },
          yaxis: { automargin: true },
        },
        caption: `From bench/results/scan.json (${provenanceLine(scan)}). Log scale.`,
      });
  }
  // Inference latency against K, and parameters against memory, wherever a benchmark recorded them.
  const latency = files.flatMap((f) =>
    f.rows
      .filter((r) => ('K' in r || 'contextLength' in r) && Object.keys(r).some((k) => /latency/i.test(k)))
      .map((r) => ({ f, r })),
  );
  const memory = files.flatMap((f) =>
    f.rows
      .filter((r) => 'parameters' in r && Object.keys(r).some((k) => /bytes|memory/i.test(k)))
      .map((r) => ({ f, r })),
  );
  if (latency.length) {
    const key = (r: Json) => Object.keys(r).find((k) => /latency/i.test(k))!;
    figures.push({
      ...common,
      name: '10-latency-vs-k',
      data: [
        {
          type: 'scatter',
          mode: 'markers',
          x: latency.map(({ r }) => Number(r.K ?? r.contextLength)),
          y: latency.map(({ r }) => Number(r[key(r)])),
          text: latency.map(({ f, r }) => `${f.name} ${cell(r.model)}`),
        } as Data,
      ],
      layout: {
        title: { text: 'Inference latency against K' },
        xaxis: { title: { text: 'K' } },
        yaxis: { title: { text: 'latency' } },
      },
      caption: 'From the benchmark rows that record a latency and K.',
    });
  }
  if (memory.length) {
    const key = (r: Json) => Object.keys(r).find((k) => /bytes|memory/i.test(k))!;
    figures.push({
      ...common,
      name: '10-parameters-vs-memory',
      data: [
        {
          type: 'scatter',
          mode: 'markers',
          x: memory.map(({ r }) => Number(r.parameters)),
          y: memory.map(({ r }) => Number(r[key(r)])),
          text: memory.map(({ f, r }) => `${f.name} ${cell(r.model)}`),
        } as Data,
      ],
      layout: {
        title: { text: 'Parameters against memory' },
        xaxis: { title: { text: 'parameters' }, type: 'log' as const },
        yaxis: { title: { text: 'memory' } },
      },
      caption: 'From the benchmark rows that record parameters and memory.',
    });
  }
  const gpu = files.filter(
    (f) => /h100|gpu|webgpu/i.test(f.name) || /H100/i.test(JSON.stringify(f.json).slice(0, 4000)),
  );
  const loaded = files.filter((f) => {
    const l = (f.json.loadavgBefore ??
      f.json.loadAverageBefore ??
      (f.json.host as Json | undefined)?.loadavg ??
      (f.json.machine as Json | undefined)?.loadAverage) as number[] | undefined;
    return Array.isArray(l) && l[0] > 4;
  });
  const ts = train?.rows.map((r) => `${r.model} ${cell(r.msPerStep)} ms/step`).join(', ');
  const finding =
    (files.length
      ? `${files.length} benchmark file(s): ${files.map((f) => f.name).join(', ')}. `
      : 'No benchmark JSON in bench/results/ yet (run the bench/*.ts scripts). ') +
    (ts ? `Training step: ${ts}. ` : '') +
    (loaded.length
      ? `${loaded.map((f) => f.name).join(', ')} were measured with a load average above 4 on a 2-core machine, so their times are inflated and not fit for comparison with the papers. `
      : '') +
    (gpu.length
      ? `GPU numbers present in: ${gpu.map((f) => f.name).join(', ')}. `
      : 'No H100/GPU benchmark JSON is present. ') +
    (latency.length ? '' : 'No benchmark records inference latency against K yet. ') +
    (memory.length ? '' : 'No benchmark records memory against parameters yet.');
  return { figures, tables, finding, numbers: { files: files.map((f) => f.name) } };
}
