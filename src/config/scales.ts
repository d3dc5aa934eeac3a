/**
 * The kit's three scales (DEVELOPERS' guide, issues 2, 5, 6, 8). `smoke` is seconds for CI, `quick`
 * is minutes per run on the 2-core machine, `paper` is the official counts of model-spec.md §9-§10.
 * Every module that depends on scale reads its numbers from here, so the README table has one source.
 */
import { check, nearest } from '../util/check';

export const SCALES = ['smoke', 'quick', 'paper'] as const;
export type Scale = (typeof SCALES)[number];

export function parseScale(value: string | undefined, fallback: Scale = 'quick'): Scale {
  const s = value === undefined || value === '' ? fallback : value;
  check((SCALES as readonly string[]).includes(s), () => `Error in parseScale: scale must be one of ${SCALES.join(', ')}, got '${s}'. Did you mean '${nearest(s, SCALES)}'?`);
  return s as Scale;
}

/** The scale a notebook runs at: DMM_SCALE, set by the notebook runner (default quick). */
export function scaleFromEnv(): Scale {
  return parseScale(process.env.DMM_SCALE);
}
