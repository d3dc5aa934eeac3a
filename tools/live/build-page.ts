/**
 * Writes figures/live-explorer.html and its scripts (src/experiments/live-explorer.ts): notebook 05's DMM and
 * Decision Mamba runs at the given scale, from the results cache or retrained from their specs.
 *
 * Usage: node --import tsx tools/live/build-page.ts [--scale notebook]
 */
import { parseScale } from '../../src/config/scales';
import { liveExplorer } from '../../src/experiments/live-explorer';

const i = process.argv.indexOf('--scale');
const scale = i >= 0 ? process.argv[i + 1] : 'notebook';

liveExplorer(parseScale(scale)).then(
  (file) => console.log(`wrote ${file}`),
  (err: Error) => {
    console.error(err.message);
    process.exit(1);
  },
);
