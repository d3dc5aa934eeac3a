/**
 * The claims table that opens docs/results.md: each claim of the two papers (docs/spec.md §11), where the kit
 * tests it, the paper's value with its source and protocol (src/results/paper-numbers.ts), what the kit measured
 * at paper scale and at notebook scale, and a verdict. A pure function of run records, so the table changes
 * when records do.
 *
 * Verdicts are given on paper-scale records only (the notebook scale trains far too little to answer a claim),
 * and only where the kit can test the claim: a claim about a ranking or a difference is tested on the kit's
 * data; a claim about a D4RL score needs records on the D4RL files (`--source d4rl`), since the kit-generated
 * datasets are other data. Rankings are by the mean over seeds under `best_official`, the papers' protocol
 * (docs/spec.md §10); the cells give the spreads.
 */
import { meanStd, type MeanStd, type Protocol } from '../eval/protocols';
import { DMAMBA_HOPPER_MEDIUM, LITERATURE_DT, type PaperNumber } from './paper-numbers';
import type { RunRecord } from './record';

/** What the kit measured for one claim at one scale. */
export interface Measured {
  /** The cell's text. */
  text: string;
  /** Whether the claim holds on these records; undefined when they cannot tell (cells missing). */
  holds?: boolean;
  /** Why these records cannot test the claim even when complete (e.g. kit-generated data for a D4RL value). */
  untestable?: string;
}

export interface Claim {
  claim: string;
  /** The paper's figure or table, and the kit's notebook. */
  where: string;
  /** The paper's value with source and protocol, or why there is none. */
  paper: string;
  /** Set when no records can test the claim (a figure measured from checkpoints, values the kit does not have). */
  untestable?: string;
  /** When the claim holds, in words (shown with the verdict). */
  rule?: string;
  measure(records: readonly RunRecord[]): Measured | undefined;
}

const MODEL_WORDS: Record<string, string> = { dmm: 'DMM', dmamba: 'Decision Mamba', dt: 'DT', dc: 'DC' };
const BASELINES = ['dmamba', 'dt', 'dc'];
const TABLE_DATASETS = ['hopper', 'halfcheetah', 'walker2d'].flatMap((e) =>
  ['medium', 'medium-replay', 'medium-expert'].map((k) => `${e}-${k}`),
);

const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–');

/** `mean ± std (n = N)` over seeds; one seed shows `mean (n = 1)`, never a spread of 0. */
export function seedCell(m: MeanStd): string {
  if (m.n === 0) return '–';
  return m.n > 1 ? `${f1(m.mean)} ± ${f1(m.std)} (n = ${m.n})` : `${f1(m.mean)} (n = 1)`;
}

function paperCell(p: PaperNumber): string {
  return `${f1(p.mean)}${p.std !== undefined ? ` ± ${f1(p.std)}` : ''}: ${p.source}; protocol ${p.protocol}`;
}

/** Records of the main table's cells: each model's official configuration, official evaluation padding. */
function isMainCell(r: RunRecord): boolean {
  return !r.spec.overrides && r.spec.evalPadding === 'official';
}

/** One value per seed (a seed recorded twice, e.g. by a notebook's experiment and a grid's, counts once). */
function perSeed(records: readonly RunRecord[], value: (r: RunRecord) => number): MeanStd {
  const bySeed = new Map<number, number>();
  for (const r of records) if (!bySeed.has(r.seed)) bySeed.set(r.seed, value(r));
  return meanStd([...bySeed.values()]);
}

function score(p: Protocol) {
  return (r: RunRecord) => r.scores![p];
}

function cellOf(records: readonly RunRecord[], model: string, dataset: string, p: Protocol = 'best_official') {
  return perSeed(
    records.filter((r) => isMainCell(r) && r.spec.model === model && r.dataset.id === dataset),
    score(p),
  );
}

function sourceOf(records: readonly RunRecord[]): string {
  const s = [...new Set(records.map((r) => r.dataset.source))];
  return s.length === 1 ? (s[0] === 'd4rl' ? 'D4RL data' : 'kit-generated data') : 'mixed data sources';
}

/** Model × dataset cells of the main table, over the datasets every model has a cell on, and their means. */
function tableMeans(records: readonly RunRecord[], models: readonly string[]) {
  const datasets = TABLE_DATASETS.filter((d) => models.every((m) => cellOf(records, m, d).n > 0));
  const cells = models.map((m) => datasets.map((d) => cellOf(records, m, d)));
  const ns = cells.flat().map((c) => c.n);
  const lo = Math.min(...ns);
  const hi = Math.max(...ns);
  const seeds = `n = ${lo === hi ? lo : `${lo}–${hi}`} seed${hi > 1 ? 's' : ''} per cell`;
  const mean = cells.map((row) => meanStd(row.map((c) => c.mean)).mean);
  const over =
    datasets.length === TABLE_DATASETS.length
      ? 'the nine datasets'
      : `${datasets.length} of the nine datasets (${datasets.join(', ')})`;
  return { datasets, cells, complete: datasets.length === TABLE_DATASETS.length, seeds, mean, over };
}

function rankingClaim(claim: string, where: string, paper: string, winner: string, losers: string[]): Claim {
  return {
    claim,
    where,
    paper,
    rule: `${MODEL_WORDS[winner]}'s mean over the nine datasets is at least each other model's`,
    measure(records) {
      const models = [winner, ...losers];
      const t = tableMeans(records, models);
      if (t.datasets.length === 0) return undefined;
      const means = models.map((m, i) => `${MODEL_WORDS[m]} ${f1(t.mean[i])}`).join(', ');
      const wins = t.datasets.filter((_, d) => losers.every((_, j) => t.cells[0][d].mean >= t.cells[j + 1][d].mean));
      return {
        text: `mean over ${t.over}, best_official: ${means} (${t.seeds}, ${sourceOf(records)}); ${MODEL_WORDS[winner]} ahead of all on ${wins.length}/${t.datasets.length}`,
        // The claim is about the whole table: judged only when every dataset is there.
        holds: t.complete ? losers.every((_, j) => t.mean[0] >= t.mean[j + 1]) : undefined,
      };
    },
  };
}

/** A D4RL score of one cell: testable only on records of the D4RL files. */
function valueClaim(claim: string, where: string, p: PaperNumber, model: string, dataset: string): Claim {
  const protocol = p.protocol === 'final' ? 'final' : 'best_official';
  return {
    claim,
    where,
    paper: paperCell(p),
    rule: `the kit's ${protocol} mean lies within the reported spread (± ${f1(p.std ?? 0)})`,
    measure(records) {
      const mine = records.filter((r) => isMainCell(r) && r.spec.model === model && r.dataset.id === dataset);
      const d4rl = mine.filter((r) => r.dataset.source === 'd4rl');
      const used = d4rl.length ? d4rl : mine;
      const m = perSeed(used, score(protocol));
      if (m.n === 0) return undefined;
      return {
        text: `${protocol} ${seedCell(m)}, ${sourceOf(used)}`,
        ...(d4rl.length
          ? { holds: Math.abs(m.mean - p.mean) <= (p.std ?? 0) }
          : { untestable: "kit-generated data, not D4RL's: train with --source d4rl to compare" }),
      };
    },
  };
}

function literatureDtClaim(): Claim {
  const lit = meanStd(TABLE_DATASETS.map((d) => LITERATURE_DT[d].mean)).mean;
  return {
    claim: 'DT on the nine datasets, at the values tables usually copy',
    where: 'Table T-MuJoCo / T1 (DT rows); notebook 03',
    paper: `mean ${f1(lit)} over the nine (hopper-medium 67.6): ${LITERATURE_DT['hopper-medium'].source}; protocol unknown; whether either paper prints them is not confirmed (docs/spec.md §11)`,
    untestable: "the values' protocol is unknown, and they are on D4RL data",
    measure(records) {
      const t = tableMeans(records, ['dt']);
      if (t.datasets.length === 0) return undefined;
      return { text: `mean over ${t.over}, best_official: ${f1(t.mean[0])} (${t.seeds}, ${sourceOf(records)})` };
    },
  };
}

function protocolGapClaim(): Claim {
  const { paper, rerun } = DMAMBA_HOPPER_MEDIUM;
  const gap = paper.mean - rerun.mean;
  return {
    claim: 'The protocol alone moves a score: best-of-training exceeds the final checkpoint by ~28 points',
    where: 'Decision Mamba T1 against its re-run; notebook 11',
    paper: `${f1(paper.mean)} (best_official, ${paper.source}) against ${f1(rerun.mean)} (final, ${rerun.source}): gap ${f1(gap)}, from two different sets of runs`,
    rule: `the kit's mean gap best_official − final on Decision Mamba hopper-medium is at least half the reported ${f1(gap)}`,
    measure(records) {
      const mine = records.filter(
        (r) => isMainCell(r) && r.spec.model === 'dmamba' && r.dataset.id === 'hopper-medium',
      );
      const m = perSeed(mine, (r) => r.scores!.best_official - r.scores!.final);
      if (m.n === 0) return undefined;
      return { text: `Decision Mamba hopper-medium, best_official − final: ${seedCell(m)}`, holds: m.mean >= gap / 2 };
    },
  };
}

/** Figure 1: DMM's smallest model against every baseline's best model on the `medium` datasets. */
function sizeClaim(): Claim {
  return {
    claim: 'DMM reaches a higher normalised score with fewer parameters than DT, DC and Decision Mamba',
    where: 'DMM Figure 1 (F1); notebook 04',
    paper: 'not available to the kit (docs/spec.md §11 F1): the claim is the comparison',
    rule: "DMM's smallest model scores at least every baseline's best-scoring width, with fewer parameters",
    measure(records) {
      const sized = records.filter(
        (r) =>
          r.dataset.id.endsWith('-medium') &&
          r.spec.evalPadding === 'official' &&
          Object.keys(r.spec.overrides ?? {}).every((k) => k === 'hiddenSize'),
      );
      // Only the datasets the width sweep covers, so every width is pooled over the same data.
      const swept = new Set(sized.filter((r) => r.spec.overrides).map((r) => r.dataset.id));
      const medium = sized.filter((r) => swept.has(r.dataset.id));
      if (medium.length === 0) return undefined;
      const points = new Map<string, { model: string; width: number; params: number; values: number[] }>();
      for (const r of medium) {
        const width = Number(r.config.model.hiddenSize);
        const key = `${r.spec.model} ${width}`;
        const p = points.get(key) ?? { model: r.spec.model, width, params: r.parameterCount ?? NaN, values: [] };
        p.values.push(r.scores!.best_official);
        points.set(key, p);
      }
      const all = [...points.values()].map((p) => ({ ...p, score: meanStd(p.values) }));
      const dmm = all.filter((p) => p.model === 'dmm').sort((a, b) => a.params - b.params)[0];
      const best = BASELINES.map(
        (m) => all.filter((p) => p.model === m).sort((a, b) => b.score.mean - a.score.mean)[0],
      ).filter(Boolean);
      if (!dmm || best.length < BASELINES.length) return { text: `${all.length} model sizes so far` };
      const show = (p: (typeof all)[number]) =>
        `${MODEL_WORDS[p.model]} D ${p.width} (${p.params.toLocaleString('en-US')} parameters) ${seedCell(p.score)}`;
      return {
        text: `best_official on the medium dataset(s), seeds × datasets pooled: smallest ${show(dmm)}; best of each baseline: ${best.map(show).join('; ')}`,
        holds: best.every((b) => dmm.score.mean >= b.score.mean && dmm.params < b.params),
      };
    },
  };
}

function channelMlpClaim(): Claim {
  return {
    claim: 'Removing the channel-mixing MLP hurts Decision Mamba',
    where: 'Decision Mamba A1; notebook 09',
    paper: 'not available to the kit (docs/spec.md §11 A1): the claim is the direction',
    rule: 'the mean with the MLP exceeds the mean without it',
    measure(records) {
      const hm = records.filter((r) => r.spec.model === 'dmamba' && r.dataset.id === 'hopper-medium');
      const withMlp = perSeed(hm.filter(isMainCell), score('best_official'));
      const without = perSeed(
        hm.filter((r) => r.spec.overrides?.channelMlp === false && Object.keys(r.spec.overrides).length === 1),
        score('best_official'),
      );
      if (withMlp.n === 0 && without.n === 0) return undefined;
      return {
        text: `hopper-medium, best_official: with ${seedCell(withMlp)}, without ${seedCell(without)}`,
        holds: withMlp.n && without.n ? withMlp.mean > without.mean : undefined,
      };
    },
  };
}

/** Scores of one model's single-override variants on hopper-medium, e.g. per context length. */
function sweepClaim(claim: string, where: string, paper: string, model: string, key: string, label: string): Claim {
  return {
    claim,
    where,
    paper,
    untestable: "the paper's values are not available to the kit",
    measure(records) {
      const hm = records.filter((r) => r.spec.model === model && r.dataset.id === 'hopper-medium');
      const by = new Map<string, RunRecord[]>();
      for (const r of hm) {
        const o = r.spec.overrides ?? {};
        const keys = Object.keys(o);
        if (r.spec.evalPadding !== 'official' || keys.some((k) => k !== key)) continue;
        const v = String(o[key] ?? r.config.model[key]);
        by.set(v, [...(by.get(v) ?? []), r]);
      }
      if (by.size === 0) return undefined;
      const rows = [...by.entries()]
        .sort((a, b) => Number(a[0]) - Number(b[0]))
        .map(([v, rs]) => `${label} ${v}: ${seedCell(perSeed(rs, score('best_official')))}`);
      return { text: `hopper-medium, best_official: ${rows.join('; ')}` };
    },
  };
}

function ablationClaim(): Claim {
  return {
    claim: "DMM's design choices (local mixer, DSM window, positional structure, Mamba-1 against Mamba-2)",
    where: 'DMM ablations (A-mixer, A-window, A-position, A-mamba); notebook 08',
    paper: 'not available to the kit (docs/spec.md §11 lists the ablations, not their values)',
    untestable: "the paper's values are not available to the kit",
    measure(records) {
      const hm = records.filter((r) => r.spec.model === 'dmm' && r.dataset.id === 'hopper-medium');
      const base = perSeed(hm.filter(isMainCell), score('best_official'));
      const variants = new Map<string, RunRecord[]>();
      for (const r of hm) {
        if (isMainCell(r)) continue;
        const keys = Object.keys(r.spec.overrides ?? {});
        if (keys.some((k) => k === 'hiddenSize' || k === 'contextLength')) continue;
        const label =
          r.spec.evalPadding !== 'official'
            ? `evalPadding=${r.spec.evalPadding}`
            : keys.map((k) => `${k}=${String(r.spec.overrides![k])}`).join(', ');
        variants.set(label, [...(variants.get(label) ?? []), r]);
      }
      if (base.n === 0 && variants.size === 0) return undefined;
      const scored = [...variants.entries()].map(([l, rs]) => ({ l, m: perSeed(rs, score('best_official')) }));
      const better = scored.filter((v) => v.m.mean > base.mean);
      return {
        text: `hopper-medium, best_official: default DMM ${seedCell(base)}; ${scored.length} variant(s), ${better.length} above the default${better.length ? ` (${better.map((v) => `${v.l} ${seedCell(v.m)}`).join('; ')})` : ''}`,
      };
    },
  };
}

function recordsOnlyElsewhere(claim: string, where: string, how: string): Claim {
  return {
    claim,
    where,
    paper: 'a figure; no value to compare (docs/spec.md §11)',
    untestable: `measured from checkpoints, not records: ${how}`,
    measure: () => undefined,
  };
}

/** The claims, in the order of the notebooks. */
export const CLAIMS: readonly Claim[] = Object.freeze([
  rankingClaim(
    'DMM matches or beats DT, DC and Decision Mamba on the D4RL MuJoCo table',
    'DMM Table T-MuJoCo; notebook 03',
    'not available to the kit (docs/spec.md §11 T-MuJoCo): the claim is the ranking; protocol best_official (the official code reports the max over evaluations)',
    'dmm',
    BASELINES,
  ),
  rankingClaim(
    'Decision Mamba beats DT and DC',
    'Decision Mamba Table T1; notebook 03',
    'only hopper-medium is available (next rows); protocol best_official',
    'dmamba',
    ['dt', 'dc'],
  ),
  valueClaim(
    'Decision Mamba on hopper-medium, best of training',
    'Decision Mamba Table T1; notebooks 03, 11',
    DMAMBA_HOPPER_MEDIUM.paper,
    'dmamba',
    'hopper-medium',
  ),
  valueClaim(
    'Decision Mamba on hopper-medium, final checkpoint (independent re-run)',
    'DMa issue #2; notebook 11',
    DMAMBA_HOPPER_MEDIUM.rerun,
    'dmamba',
    'hopper-medium',
  ),
  protocolGapClaim(),
  literatureDtClaim(),
  sizeClaim(),
  recordsOnlyElsewhere(
    'Inside a Mamba stack action tokens dominate; DMM’s DSM keeps state and RTG tokens alive',
    'DMM Figure 3 (F3); notebook 05',
    'notebook 05 taps trained checkpoints (figures/05-token-type-activity)',
  ),
  recordsOnlyElsewhere(
    'Gradient norms of the 24 input tokens contrast DMM with Mamba',
    'DMM Figure 4 (F4); notebook 06',
    'notebook 06 differentiates trained checkpoints (figures/06-gradient-norms)',
  ),
  sweepClaim(
    'Score against context length K, DMM',
    'DMM Figure 5 (F5); notebook 07',
    'not available to the kit (docs/spec.md §11 F5)',
    'dmm',
    'contextLength',
    'K',
  ),
  ablationClaim(),
  channelMlpClaim(),
  sweepClaim(
    'Decision Mamba’s score depends on the context length K',
    'Decision Mamba A2; notebook 09',
    'not available to the kit (docs/spec.md §11 A2)',
    'dmamba',
    'contextLength',
    'K',
  ),
]);

export interface ClaimRow {
  claim: string;
  where: string;
  paper: string;
  atPaper: string;
  atNotebook: string;
  verdict: string;
}

/** The table's rows from the finished records of the paper and notebook scales. */
export function claimRows(paperRecords: readonly RunRecord[], notebookRecords: readonly RunRecord[]): ClaimRow[] {
  const done = (rs: readonly RunRecord[], scale: string) =>
    rs.filter((r) => r.status === 'finished' && r.scores && r.spec.scale === scale);
  const paper = done(paperRecords, 'paper');
  const notebook = done(notebookRecords, 'notebook');
  return CLAIMS.map((c) => {
    const p = c.measure(paper);
    const n = c.measure(notebook);
    let verdict: string;
    if (c.untestable) verdict = `not testable here: ${c.untestable}`;
    else if (!p) verdict = 'not testable yet: no paper-scale records (results/paper/)';
    else if (p.untestable) verdict = `not testable here: ${p.untestable}`;
    else if (p.holds === undefined) verdict = 'not testable yet: paper-scale records incomplete';
    else verdict = `${p.holds ? 'reproduced' : 'not reproduced'} (rule: ${c.rule})`;
    return {
      claim: c.claim,
      where: c.where,
      paper: c.paper,
      atPaper: p?.text ?? (c.untestable && !n ? '–' : 'not run yet'),
      atNotebook: n?.text ?? '–',
      verdict,
    };
  });
}
