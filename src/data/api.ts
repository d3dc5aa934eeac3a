/**
 * The functions behind `npx dmm data download|generate|card` (src/cli/commands/data.ts), usable from
 * notebooks too.
 */
import { formatCard, type DatasetCard } from './card';
import { loadDataset, type LoadOptions } from './dataset';
import { downloadD4rl, type DownloadOptions, type DownloadResult } from './download';

/** Downloads a D4RL gym-mujoco v2 dataset ('hopper-medium-v2'); medium-expert fetches its expert and medium files. */
export async function downloadDataset(id: string, options: DownloadOptions = {}): Promise<DownloadResult[]> {
  const clean = id.replace(/_/g, '-').replace(/-v2$/, '');
  if (clean.endsWith('-medium-expert')) {
    const env = clean.slice(0, -'-medium-expert'.length);
    // The papers build medium-expert from these two lists (docs/spec.md quirk 12); D4RL's own file is fetched too.
    return [
      await downloadD4rl(`${env}-expert-v2`, options),
      await downloadD4rl(`${env}-medium-v2`, options),
      await downloadD4rl(`${env}-medium-expert-v2`, options),
    ];
  }
  return [await downloadD4rl(id, options)];
}

/** The card of a dataset (loads it, generating or downloading as needed). */
export async function datasetCard(id: string, options: Partial<LoadOptions> = {}): Promise<DatasetCard> {
  return (await loadDataset(id, options)).card;
}

/** The card as text lines. */
export async function datasetCardText(id: string, options: Partial<LoadOptions> = {}): Promise<string> {
  return formatCard(await datasetCard(id, options));
}
