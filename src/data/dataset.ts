/**
 * `loadDataset`: a D4RL dataset (downloaded) or its kit-generated twin (regenerated into the cache on
 * first use and checked against data/recipes.json), split into trajectories, with state statistics,
 * a card and the provenance that every result built on it records. AntMaze datasets ('antmaze-umaze',
 * 'antmaze-umaze-diverse') take the same path: the kit's from src/data/antmaze-generate.ts, D4RL's from the
 * user's copy of its file in data/d4rl/ (not downloaded by the kit).
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { dataScaleOf, type DataScale } from '../config/scales';
import { removeStaleTemps } from '../util/atomic';
import { check, checkKnownKeys } from '../util/check';
import { buildCard, type DatasetCard } from './card';
import { readD4rlFile } from './d4rl-file';
import { checkD4rlFacts } from './d4rl-facts';
import {
  ANTMAZE_BASE_URL,
  ENV_DIMS,
  d4rlFileName,
  isAntMazeName,
  parseAntMazeName,
  parseDatasetName,
  type AntMazeDatasetName,
  type DatasetName,
} from './d4rl-ids';
import type { AntMazeKind, DataSource, DatasetEnv, DatasetKind, EnvName } from '../config/names';
import { antMazeCachePath, generateAntMazeDataset } from './antmaze-generate';
import { downloadD4rl, sha256File } from './download';
import { datasetCachePath, generateDataset } from './generate';
import { d4rlDir, dataFileName } from './paths';
import { loadRecipe } from './recipe';
import { mediumExpertTrajectories, splitTrajectories, stateStatistics, type Trajectory } from './trajectories';

export interface Provenance {
  source: DataSource;
  /** sha256 of the file; for medium-expert, sha256 of the two parts' checksums (expert then medium). */
  checksum: string;
  /**
   * The file read (medium-expert: its parts, joined by ' + '), relative to the data folder
   * (`DMM_DATA_DIR`, else the kit's data/) when it lies there, so records read the same everywhere.
   */
  file: string;
  /** Kit-generated data: who made it, from what. */
  generator?: { name: string; version: string; policy: string; seed: number; scale: DataScale };
  /** medium-expert: the expert and medium parts. */
  parts?: Provenance[];
}

export interface Dataset {
  /** 'hopper-medium', 'antmaze-umaze-diverse' */
  id: string;
  env: DatasetEnv;
  kind: DatasetKind | AntMazeKind;
  provenance: Provenance;
  trajectories: Trajectory[];
  stateMean: Float64Array;
  stateStd: Float64Array;
  card: DatasetCard;
}

export interface LoadOptions {
  source: DataSource;
  /** Kit data only: smoke | quick | paper. Default DMM_SCALE (quick). */
  scale: DataScale | string;
  /** Kit data only: generation seed; default the recipe's (checksums exist only for it). */
  seed: number;
  /** Seed of the medium-expert shuffle (docs/spec.md quirk 12). Default 0. */
  shuffleSeed: number;
  /** D4RL only: download when missing (default true). */
  download: boolean;
  /** Also keep next_observations on the trajectories. */
  nextObservations: boolean;
}

interface Part {
  trajectories: Trajectory[];
  droppedSteps: number;
  provenance: Provenance;
}

/** A kit-generated file: `name` is 'hopper-medium' or an AntMaze dataset, `env` the env it was recorded in. */
async function loadKitPart(
  name: string,
  env: DatasetEnv,
  scale: DataScale,
  seed: number,
  withNext: boolean,
): Promise<Part> {
  const recipe = loadRecipe();
  const antmaze = isAntMazeName(name);
  const file = antmaze ? antMazeCachePath(name, scale, seed) : datasetCachePath(name, scale, seed);
  removeStaleTemps(path.dirname(file), [path.basename(file)]); // a generator killed while writing this file
  if (!fs.existsSync(file)) await (antmaze ? generateAntMazeDataset : generateDataset)(name, { scale, seed, file });
  const checksum = sha256File(file);
  const expected = seed === recipe.seed ? recipe.checksums[name]?.[scale] : undefined;
  check(
    expected === undefined || expected === checksum,
    () =>
      `Error in loadDataset: kit-generated ${name} (${scale}, seed ${seed}) must have the sha256 committed in data/recipes.json (${expected?.slice(0, 12)}…), got ${checksum.slice(0, 12)}… from ${file}. ` +
      `Delete the file to regenerate it; if it still differs, the environments, policies or generator changed: re-record with npx dmm data generate ${name} --scale ${scale} --record.`,
  );
  const arrays = await readD4rlFile(file, env, { withInfos: withNext });
  const d = ENV_DIMS[env];
  const { trajectories, droppedSteps } = splitTrajectories(arrays, d.observationDim, d.actionDim);
  const m = arrays.metadata;
  return {
    trajectories,
    droppedSteps,
    provenance: {
      source: 'kit',
      checksum,
      file: dataFileName(file),
      generator: {
        name: String(m.generator),
        version: String(m.generator_version),
        policy: String(m.policy),
        seed: Number(m.seed),
        scale,
      },
    },
  };
}

async function loadD4rlPart(
  name: DatasetName | AntMazeDatasetName,
  download: boolean,
  withNext: boolean,
): Promise<Part> {
  const got = 'd4rlFile' in name ? antMazeD4rlFile(name) : await downloadD4rlOrCached(name.d4rlId, download);
  const arrays = await readD4rlFile(got.file, name.env, { withInfos: withNext });
  // Also on every load: a manifest entry recorded before these checks existed proves nothing.
  checkD4rlFacts(arrays, name, got.file);
  const d = ENV_DIMS[name.env];
  const { trajectories, droppedSteps } = splitTrajectories(arrays, d.observationDim, d.actionDim);
  return {
    trajectories,
    droppedSteps,
    provenance: { source: 'd4rl', checksum: got.sha256, file: dataFileName(got.file) },
  };
}

/** A user's copy of D4RL's AntMaze file, in data/d4rl/ under D4RL's name (the kit does not download these). */
function antMazeD4rlFile(name: AntMazeDatasetName): { file: string; sha256: string } {
  const file = path.join(d4rlDir(), name.d4rlFile);
  check(
    fs.existsSync(file),
    () =>
      `Error in loadDataset: ${name.d4rlId} must be in ${d4rlDir()} as D4RL's ${name.d4rlFile}, got no file. Copy it there (D4RL serves it at ${ANTMAZE_BASE_URL}/${name.d4rlFile}), or load the kit's data with source 'kit'.`,
  );
  return { file, sha256: sha256File(file) };
}

async function downloadD4rlOrCached(id: string, download: boolean): Promise<{ file: string; sha256: string }> {
  if (!download) {
    const file = path.join(d4rlDir(), d4rlFileName(parseDatasetName(id)));
    check(
      fs.existsSync(file),
      () =>
        `Error in loadDataset: ${id} must be downloaded first, got no file at ${file}. Run: npx dmm data download ${id}.`,
    );
  }
  return downloadD4rl(id);
}

/** Loads `hopper-medium` (or `hopper-medium-v2`) from the kit's generator or from D4RL. */
export async function loadDataset(id: string, options: Partial<LoadOptions> = {}): Promise<Dataset> {
  checkKnownKeys('loadDataset', options, ['source', 'scale', 'seed', 'shuffleSeed', 'download', 'nextObservations']);
  const name = isAntMazeName(id) ? parseAntMazeName(id, 'loadDataset') : parseDatasetName(id, 'loadDataset');
  const source = options.source ?? 'kit';
  check(
    source === 'kit' || source === 'd4rl',
    () => `Error in loadDataset: source must be 'kit' or 'd4rl', got '${source}'.`,
  );
  const scale = dataScaleOf(options.scale === undefined ? process.env.DMM_SCALE : String(options.scale), 'notebook');
  const seed = options.seed ?? loadRecipe().seed;
  const withNext = options.nextObservations ?? false;
  const loadPart = (kind: DatasetKind | AntMazeKind): Promise<Part> => {
    const part = 'd4rlFile' in name ? name : parseDatasetName(`${name.env}-${kind}`, 'loadDataset');
    return source === 'kit'
      ? loadKitPart(part.name, part.env, scale, seed, withNext)
      : loadD4rlPart(part, options.download ?? true, withNext);
  };

  let part: Part;
  if (name.kind === 'medium-expert') {
    // Quirk 12: expert list + medium list, shuffled; not the stitched medium-expert file.
    const expert = await loadPart('expert');
    const medium = await loadPart('medium');
    part = {
      trajectories: mediumExpertTrajectories(expert.trajectories, medium.trajectories, options.shuffleSeed ?? 0),
      droppedSteps: expert.droppedSteps + medium.droppedSteps,
      provenance: {
        source,
        checksum: createHash('sha256')
          .update(`${expert.provenance.checksum}+${medium.provenance.checksum}`)
          .digest('hex'),
        file: `${expert.provenance.file} + ${medium.provenance.file}`,
        ...(expert.provenance.generator
          ? {
              generator: {
                ...expert.provenance.generator,
                policy: `expert: ${expert.provenance.generator.policy}; medium: ${medium.provenance.generator?.policy}`,
              },
            }
          : {}),
        parts: [expert.provenance, medium.provenance],
      },
    };
  } else part = await loadPart(name.kind);

  check(
    part.trajectories.length > 0,
    () =>
      `Error in loadDataset: ${name.name} must contain at least one finished episode (a terminal or timeout), got none in ${part.provenance.file}.`,
  );
  const d = ENV_DIMS[name.env];
  const { mean, std } = stateStatistics(part.trajectories, d.observationDim);
  const card = buildCard({
    id: source === 'd4rl' ? name.d4rlId : name.name,
    env: name.env,
    source,
    trajectories: part.trajectories,
    droppedSteps: part.droppedSteps,
    stateMean: mean,
    stateStd: std,
    checksum: part.provenance.checksum,
  });
  return {
    id: name.name,
    env: name.env,
    kind: name.kind,
    provenance: part.provenance,
    trajectories: part.trajectories,
    stateMean: mean,
    stateStd: std,
    card,
  };
}

/** Any D4RL-format file as a Dataset (e.g. a file from elsewhere, or a test fixture). */
export async function datasetFromFile(
  file: string,
  env: EnvName,
  kind: DatasetKind,
  source: DataSource = 'd4rl',
): Promise<Dataset> {
  const arrays = await readD4rlFile(file, env);
  const d = ENV_DIMS[env];
  const { trajectories, droppedSteps } = splitTrajectories(arrays, d.observationDim, d.actionDim);
  check(
    trajectories.length > 0,
    () =>
      `Error in datasetFromFile: ${file} must contain at least one finished episode (a terminal or timeout), got none.`,
  );
  const { mean, std } = stateStatistics(trajectories, d.observationDim);
  const checksum = sha256File(file);
  const card = buildCard({
    id: `${env}-${kind}`,
    env,
    source,
    trajectories,
    droppedSteps,
    stateMean: mean,
    stateStd: std,
    checksum,
  });
  return {
    id: `${env}-${kind}`,
    env,
    kind,
    provenance: { source, checksum, file: dataFileName(file) },
    trajectories,
    stateMean: mean,
    stateStd: std,
    card,
  };
}
