/**
 * Every number from the literature the kit shows beside its own, each with where it comes from and under
 * which protocol it was measured (docs/spec.md §11 "Known numbers"). Only values a source prints are here; the
 * papers' other table values are not available to the kit.
 */

/** A reported D4RL normalised score (0–100). */
export interface PaperNumber {
  mean: number;
  /** Spread over seeds as the source reports it, when it does. */
  std?: number;
  /** Where the value is printed. */
  source: string;
  /** How it was measured, in the words of docs/spec.md §10: `best_official` (max during training) or `final`. */
  protocol: 'best_official' | 'final' | 'unknown';
}

/** Decision Mamba (Ota, 2403.19925) on D4RL hopper-medium: the paper's value and an independent re-run. */
export const DMAMBA_HOPPER_MEDIUM: Readonly<{ paper: PaperNumber; rerun: PaperNumber }> = Object.freeze({
  paper: {
    mean: 83.5,
    std: 12.5,
    source: 'Decision Mamba paper, Table 1 (max evaluation score during training)',
    protocol: 'best_official',
  },
  rerun: {
    mean: 55.93,
    std: 1.95,
    source: 'independent 5-seed re-run, final-epoch evaluation (Toshihiro-Ota/decision-mamba issue #2)',
    protocol: 'final',
  },
});

/**
 * DT values often copied into tables (normalised, D4RL v2): jannerm/diffuser, plotting/locomotion_scores.py.
 * Whether either paper prints exactly these values is not confirmed, hence protocol 'unknown'.
 */
export const LITERATURE_DT: Readonly<Record<string, PaperNumber>> = Object.freeze(
  Object.fromEntries(
    Object.entries({
      'halfcheetah-medium-expert': 86.8,
      'hopper-medium-expert': 107.6,
      'walker2d-medium-expert': 108.1,
      'halfcheetah-medium': 42.6,
      'hopper-medium': 67.6,
      'walker2d-medium': 74.0,
      'halfcheetah-medium-replay': 36.6,
      'hopper-medium-replay': 82.7,
      'walker2d-medium-replay': 66.6,
    }).map(([dataset, mean]) => [
      dataset,
      { mean, source: 'jannerm/diffuser plotting/locomotion_scores.py (DT, D4RL v2)', protocol: 'unknown' as const },
    ]),
  ),
);
