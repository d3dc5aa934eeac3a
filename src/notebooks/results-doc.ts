/**
 * docs/results.md, the README's "Results" section. It opens with the claims table (src/results/claims.ts),
 * computed from the records of the paper scale (results/paper/) and of the notebook scale (the folder
 * `npm run reproduce` trained into, or the committed one, src/notebooks/records.ts); then, for each paper
 * notebook, the claim, what the kit measured (the notebook's computed "what we see" text, copied from the
 * executed notebook) at which scale, and links to its figures. The runner rewrites it after every run;
 * by hand: `node --import tsx src/notebooks/results-doc.ts`.
 */
import * as fs from 'fs';
import * as path from 'path';
import { kitRoot } from '../figures/paths';
import { writeFileAtomic } from '../util/atomic';
import { cellCounts, deviation } from '../config/budget';
import { claimRows } from '../results/claims';
import { listRecordFiles, readRecord, type RunRecord } from '../results/record';
import { committedRecordsDir } from './records';

interface Cell {
  cell_type: string;
  source: string[] | string;
  outputs?: { output_type: string; name?: string; text?: string[] | string }[];
}

const text = (x: string[] | string | undefined) => (Array.isArray(x) ? x.join('') : (x ?? ''));

export function notebookSummary(file: string): {
  title: string;
  claim: string;
  scale: string;
  finding: string;
  figures: string[];
} {
  const cells = (JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: Cell[] }).cells;
  const head = text(cells[0].source);
  const title = head.split('\n')[0].replace(/^#\s*/, '');
  const claim = (/\*\*Claim under test:\*\*\s*([\s\S]*)/.exec(head)?.[1] ?? '').trim();
  const streams = (c: Cell) =>
    (c.outputs ?? [])
      .filter((o) => o.output_type === 'stream' && o.name === 'stdout')
      .map((o) => text(o.text))
      .join('');
  const scale = /scale: (\w+)/.exec(streams(cells[1]))?.[1] ?? 'not executed';
  const idx = cells.findIndex((c) => c.cell_type === 'markdown' && text(c.source).startsWith('## What we see'));
  const finding = idx >= 0 && cells[idx + 1] ? streams(cells[idx + 1]).trim() : '';
  const all = cells.flatMap((c) => (c.outputs ?? []).map((o) => JSON.stringify(o)));
  const figures = [
    ...new Set(all.flatMap((s) => [...s.matchAll(/\[([0-9]{2}-[a-z0-9-]+\.html)\]/g)].map((m) => m[1]))),
  ];
  return { title, claim, scale, finding, figures };
}

function notebookScaleRecords(dir: string): RunRecord[] {
  return listRecordFiles(dir)
    .map(readRecord)
    .filter((r) => r.spec.scale === 'notebook');
}

/** Training steps per run of the records, distinct, ascending. */
function stepsOf(records: readonly RunRecord[]): number[] {
  const all = records.map((r) => Number(r.config.train.iterations) * Number(r.config.train.stepsPerIteration));
  return [...new Set(all)].sort((a, b) => a - b);
}

const cell = (s: string) => s.replace(/\|/g, '\\|');

/** The claims table in Markdown, from the records under `paperDir` and `notebookDir`. */
export function claimsMarkdown(paperDir: string, notebookDir: string): string {
  const notebook = notebookScaleRecords(notebookDir);
  const rows = claimRows(listRecordFiles(paperDir).map(readRecord), notebook);
  const steps = stepsOf(notebook);
  const head = [
    'paper claim',
    'figure or table',
    'paper value (source, protocol)',
    'kit at paper scale (mean ± std over seeds, n)',
    `kit at notebook scale (${steps.length ? `${steps.join(', ')} training steps` : 'no records'})`,
    'verdict',
  ];
  const line = (r: string[]) => `| ${r.map(cell).join(' | ')} |`;
  return [
    line(head),
    line(head.map(() => '---')),
    ...rows.map((r) => line([r.claim, r.where, r.paper, r.atPaper, r.atNotebook, r.verdict])),
  ].join('\n');
}

export function resultsMarkdown(root = kitRoot(), notebookRecords = committedRecordsDir(root, 'notebook')): string {
  const dir = path.join(root, 'notebooks');
  const files = fs
    .readdirSync(dir)
    .filter((f) => /^(0[1-9]|1[01])-.*\.ipynb$/.test(f))
    .sort();
  const q = cellCounts('notebook');
  const trained = stepsOf(notebookScaleRecords(notebookRecords));
  const steps = trained.length ? trained.join(', ') : String(q.steps);
  const parts = [
    '# Results',
    '',
    '## Claims',
    '',
    `Each claim of the two papers (docs/spec.md §11), computed from the run records by \`src/results/claims.ts\` whenever \`npm run reproduce\` runs: paper scale from \`results/paper/\`, notebook scale from \`${path.relative(root, notebookRecords) || '.'}/\`. Verdicts use paper-scale records only; a claim about a D4RL score needs records on the D4RL files (the kit's default data are kit-generated). A cell of one seed shows "n = 1".`,
    '',
    claimsMarkdown(path.join(root, 'results', 'paper'), notebookRecords),
    '',
    'What the kit measured for each claim of the two papers, copied from the executed notebooks (`npm run reproduce`), with links to the figures.',
    `The committed notebooks run at the **notebook** scale on kit-generated datasets; their records trained ${steps} steps per run${steps === String(q.steps) ? '' : ` (the scale now trains ${q.steps}; a plain \`npm run reproduce\` retrains them)`}. The scale today: ${deviation('notebook')}.`,
    `So every number below comes from models trained for ${steps} steps, not 100,000: they show that the pipeline runs end to end and how the kit reports, not whether the papers' claims hold. Where a notebook says the kit does not reproduce a claim at this scale, that is a statement about this scale only.`,
    'For the official protocol, each notebook prints its grid file and estimated cost (`npx dmm sweep --grid grids/NN-*.json`).',
    '',
  ];
  for (const f of files) {
    const s = notebookSummary(path.join(dir, f));
    parts.push(
      `## ${s.title}`,
      '',
      `**Claim.** ${s.claim}`,
      '',
      `**Measured (${s.scale} scale).** ${s.finding || 'not executed yet.'}`,
      '',
    );
    if (s.figures.length)
      parts.push(
        `**Figures:** ${s.figures.map((g) => `[${g.replace(/\.html$/, '')}](../figures/${g})`).join(', ')}. Notebook: [notebooks/${f}](../notebooks/${f}).`,
        '',
      );
    else parts.push(`Notebook: [notebooks/${f}](../notebooks/${f}).`, '');
  }
  return parts.join('\n');
}

if (require.main === module) {
  const out = path.join(kitRoot(), 'docs', 'results.md');
  writeFileAtomic(out, resultsMarkdown());
  console.log(`wrote ${out}`);
}
