/** `dmm report`: the table of finished runs from the records, both protocols, mean ± std over seeds. */
import * as path from 'path';
import { filterRows, loadRows, summaryTable, toMarkdown, writeReport } from '../../results/aggregate';
import { resultsDir } from '../../config/run-spec';
import { helpText, parseCommand, type CommandSpec } from '../args';
import type { CliCommand } from '../command';

export const REPORT_SPEC = {
  name: 'report',
  summary:
    'Aggregates run records into a table: per model and dataset, best_official and final (docs/spec.md §10) as mean ± population std over seeds, with the values. Writes CSV and Markdown.',
  usage:
    'dmm report [--model dmm] [--env hopper] [--dataset medium] [--scale quick] [--source kit] [--experiment NAME]',
  flags: {
    model: { type: 'string', value: 'NAME', help: 'only this model' },
    env: { type: 'string', value: 'ENV', help: 'only this environment' },
    dataset: { type: 'string', value: 'ID', help: 'only this dataset (hopper-medium, or a kind: medium)' },
    scale: { type: 'string', value: 'SCALE', help: 'only this scale' },
    source: { type: 'string', value: 'SRC', help: 'only this data source (kit | d4rl)' },
    experiment: { type: 'string', value: 'NAME', help: 'only this experiment folder' },
    results: {
      type: 'string',
      value: 'DIR',
      help: 'results folder',
      default: '$DMM_RESULTS_DIR, else .cache/results-smoke with --scale smoke, else results',
    },
    out: { type: 'string', value: 'DIR', help: 'where report.csv and report.md go', default: '<results>/reports' },
    name: { type: 'string', value: 'NAME', help: 'file name of the report', default: 'report' },
    runs: { type: 'boolean', help: 'also list every run (failed ones with their error)' },
  },
} satisfies CommandSpec;

export async function reportMain(argv: string[]): Promise<number> {
  const { help, flags: v } = parseCommand(REPORT_SPEC, argv);
  if (help) {
    console.log(helpText(REPORT_SPEC));
    return 0;
  }
  const results = v.results ?? resultsDir(v.scale ?? '');
  const rows = filterRows(loadRows(results, v.experiment), {
    model: v.model,
    env: v.env,
    dataset: v.dataset,
    scale: v.scale,
    source: v.source,
  });
  const table = summaryTable(rows);
  const finished = rows.filter((r) => r.status === 'finished').length;
  console.log(
    `${rows.length} run(s) in ${results}/ match; ${finished} finished, ${rows.filter((r) => r.status === 'failed').length} failed, ${rows.filter((r) => r.status === 'running').length} running or stopped.\n`,
  );
  console.log(toMarkdown(table));
  if (v.runs) {
    console.log(
      '| model | dataset | scale | seed | status | best_official | final | record |\n|---|---|---|---|---|---|---|---|',
    );
    for (const r of rows)
      console.log(
        `| ${r.model} | ${r.dataset} | ${r.scale} | ${r.seed} | ${r.status} | ${r.best_official?.toFixed(1) ?? '–'} | ${r.final?.toFixed(1) ?? '–'} | ${r.experiment}/${r.specHash.slice(0, 12)}… |`,
      );
  }
  if (finished > 0) {
    const out = writeReport(table, v.out ?? path.join(results, 'reports'), v.name ?? 'report');
    console.log(`wrote ${out.md} and ${out.csv}`);
  }
  return 0;
}

export const command: CliCommand = {
  name: 'report',
  summary: 'table of results from the run records (CSV + Markdown)',
  run: reportMain,
};
