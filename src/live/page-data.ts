/** What figures/live-explorer.html carries as DMM_DATA (written by src/experiments/live-explorer.ts, read by page.ts). */
import type { LiveModelEntry } from './run';

/** How the page names, explains and colours a tap (the experiment passes the kit's TAPS table). */
export interface LiveTap {
  label: string;
  explanation: string;
  colorscale: string | [number, string][];
}

/** DMM_DATA of figures/live-explorer.html. */
export interface LivePageData {
  models: LiveModelEntry[];
  taps: Record<string, LiveTap>;
  /** Tap shown first (where the paper's claim is). */
  startTap: string;
  /** The fixed colour range (the paper's [−5, 5]). */
  range: [number, number];
  target: number;
  seed: number;
  /** Notebook and figure pages the explorer illustrates, relative to the page. */
  links: { href: string; text: string }[];
}
