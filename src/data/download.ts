/**
 * Downloading D4RL gym-mujoco v2 files by the URL rule (docs/spec.md §15.1) into `data/d4rl/` (or
 * `$DMM_DATA_DIR/d4rl/`). A download goes to `<file>.part`, resumes with an HTTP Range request after an
 * interruption and is renamed into place only when complete (atomic). A file that passes the D4RL
 * checks (./d4rl-file.ts) has its size and sha256 recorded in `manifest.json` beside the files; later
 * uses verify against it. Only a checked file is recorded: a wrong, empty or truncated one recorded
 * first would make the genuine file look wrong.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as path from 'path';
import { removeStaleTemps, writeJsonAtomic } from '../util/atomic';
import { KitError, check } from '../util/check';
import { readD4rlFile } from './d4rl-file';
import { checkD4rlFacts } from './d4rl-facts';
import { D4RL_BASE_URL, d4rlFileName, d4rlUrl, parseDatasetName } from './d4rl-ids';
import { d4rlDir } from './paths';

export interface ManifestEntry {
  url: string;
  size: number;
  sha256: string;
  recorded: string;
}

export interface Manifest {
  files: Record<string, ManifestEntry>;
}

export interface DownloadOptions {
  /** Folder for the files and manifest; default `d4rlDir()`. */
  dir?: string;
  /** Replaces D4RL's base URL (mirrors, tests). Also `DMM_D4RL_URL`. */
  baseUrl?: string;
  /** Give up on a silent connection after this long. Default 30 s. */
  timeoutMs?: number;
  /** Called with bytes so far and the total (when the server says). */
  onProgress?: (bytes: number, total: number | undefined) => void;
}

export interface DownloadResult {
  file: string;
  size: number;
  sha256: string;
  /** False when the file was already cached (and verified). */
  downloaded: boolean;
}

const NETWORK_ERRORS = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ETIMEDOUT',
  'ECONNRESET',
]);

export function readManifest(dir: string): Manifest {
  const file = path.join(dir, 'manifest.json');
  if (!fs.existsSync(file)) return { files: {} };
  try {
    const m = JSON.parse(fs.readFileSync(file, 'utf8')) as Manifest;
    return { files: m.files ?? {} };
  } catch {
    throw new KitError(
      `Error in downloadD4rl: ${file} must be valid JSON, got an unreadable file. Delete it; it is rebuilt on the next download.`,
    );
  }
}

export function sha256File(file: string): string {
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 22);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

/** Fetches `url` into `part`, appending from its current size with a Range request. Returns the total size. */
function fetchInto(url: string, part: string, options: DownloadOptions, redirects = 0): Promise<number> {
  const have = fs.existsSync(part) ? fs.statSync(part).size : 0;
  const lib = url.startsWith('https:') ? https : http;
  return new Promise<number>((resolve, reject) => {
    const req = lib.get(
      url,
      { headers: have > 0 ? { Range: `bytes=${have}-` } : {}, timeout: options.timeoutMs ?? 30000 },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && res.headers.location && redirects < 5) {
          res.resume();
          fetchInto(new URL(res.headers.location, url).href, part, options, redirects + 1).then(resolve, reject);
          return;
        }
        if (status === 416 && have > 0) {
          // Nothing left to fetch: the part file is already complete.
          res.resume();
          resolve(have);
          return;
        }
        if (status !== 200 && status !== 206) {
          res.resume();
          reject(
            new KitError(
              `Error in downloadD4rl: the server must answer 200 or 206, got HTTP ${status} for ${url}. Check the dataset id or the base URL.`,
            ),
          );
          return;
        }
        // 200 to a Range request means the server ignored it: start over.
        const append = status === 206;
        const start = append ? have : 0;
        const length = Number(res.headers['content-length']);
        const total = Number.isFinite(length) ? start + length : undefined;
        const out = fs.createWriteStream(part, { flags: append ? 'a' : 'w' });
        let bytes = start;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          options.onProgress?.(bytes, total);
        });
        res.pipe(out);
        // A cut connection errors `res` without ending `out`: end it, so the bytes received stay in the
        // .part file for the next call to resume from.
        res.on('error', () => out.end());
        res.on('aborted', () => out.end());
        out.on('error', reject);
        out.on('finish', () => {
          if (total !== undefined && bytes !== total)
            reject(
              new KitError(
                `Error in downloadD4rl: the download must be ${total} bytes, got ${bytes} (connection cut). Run the command again: it resumes.`,
              ),
            );
          else resolve(bytes);
        });
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
  });
}

/**
 * Downloads a D4RL gym-mujoco v2 dataset ('hopper-medium-v2', 'hopper-medium') unless cached, and
 * verifies it against the manifest.
 */
export async function downloadD4rl(id: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  const name = parseDatasetName(id, 'downloadD4rl');
  const dir = options.dir ?? d4rlDir();
  const fileName = d4rlFileName(name);
  const file = path.join(dir, fileName);
  const url = d4rlUrl(name, options.baseUrl ?? process.env.DMM_D4RL_URL ?? D4RL_BASE_URL);
  fs.mkdirSync(dir, { recursive: true });
  removeStaleTemps(dir, ['manifest.json']); // the .part file is kept on purpose: the download resumes from it
  let downloaded = false;
  if (!fs.existsSync(file)) {
    const part = `${file}.part`;
    try {
      await fetchInto(url, part, options);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code && NETWORK_ERRORS.has(code)) {
        throw new KitError(
          `Error in downloadD4rl: ${new URL(url).host} must be reachable to download ${name.d4rlId}, got ${code}: this machine looks offline. Offline alternative: npx dmm data generate ${name.name} (a kit-generated dataset in D4RL's format).`,
        );
      }
      throw err;
    }
    fs.renameSync(part, file);
    downloaded = true;
  }
  const size = fs.statSync(file).size;
  const sha256 = sha256File(file);
  const manifestFile = path.join(dir, 'manifest.json');
  const manifest = readManifest(dir);
  const known = manifest.files[fileName];
  if (known) {
    check(
      known.size === size && known.sha256 === sha256,
      () =>
        `Error in downloadD4rl: ${file} must match its entry in ${manifestFile} (${known.size} bytes, sha256 ${known.sha256.slice(0, 12)}…), got ${size} bytes, sha256 ${sha256.slice(0, 12)}…. ` +
        `Delete the file and download it again; if this file is the right one, remove the entry '${fileName}' from ${manifestFile} and it is checked and recorded anew.`,
    );
  } else {
    // One line naming the problem when the file is not a whole D4RL file, or not D4RL's (a kit file copied here).
    checkD4rlFacts(await readD4rlFile(file, name.env), name, file);
    manifest.files[fileName] = { url, size, sha256, recorded: new Date().toISOString() };
    writeJsonAtomic(manifestFile, manifest);
  }
  return { file, size, sha256, downloaded };
}
