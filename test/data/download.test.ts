import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';
import { after, before, test } from 'node:test';
import { d4rlUrl, downloadD4rl, parseDatasetName, readManifest, sha256File } from '../../src/data';
import { tempDir } from '../helpers/data-files';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'h5py-hopper-tiny.hdf5');
const bytes = fs.readFileSync(FIXTURE);
const requests: { url: string; range?: string }[] = [];
/** When set, the server sends only this many bytes of a full response and then cuts the connection. */
let cutAfter: number | undefined;
let server: http.Server;
let base = '';

// The fixture is served as hopper-random-v2, whose episode counts the kit does not know (src/data/d4rl-facts.ts).
before(async () => {
  server = http.createServer((req, res) => {
    requests.push({ url: req.url ?? '', range: req.headers.range });
    if (req.url !== '/hopper_random-v2.hdf5') {
      res.writeHead(404).end();
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    const body = bytes.subarray(start);
    res.writeHead(m ? 206 : 200, {
      'Content-Length': body.length,
      ...(m ? { 'Content-Range': `bytes ${start}-${bytes.length - 1}/${bytes.length}` } : {}),
    });
    if (cutAfter !== undefined) {
      res.write(body.subarray(0, cutAfter));
      setTimeout(() => res.socket?.destroy(), 20);
    } else res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

test('the URL rule of D4RL v2', () => {
  assert.equal(
    d4rlUrl(parseDatasetName('hopper-medium-v2')),
    'http://rail.eecs.berkeley.edu/datasets/offline_rl/gym_mujoco_v2/hopper_medium-v2.hdf5',
  );
  assert.equal(
    d4rlUrl(parseDatasetName('halfcheetah-medium-replay-v2')),
    'http://rail.eecs.berkeley.edu/datasets/offline_rl/gym_mujoco_v2/halfcheetah_medium_replay-v2.hdf5',
  );
  assert.equal(
    d4rlUrl(parseDatasetName('walker2d_medium_expert-v2')),
    'http://rail.eecs.berkeley.edu/datasets/offline_rl/gym_mujoco_v2/walker2d_medium_expert-v2.hdf5',
  );
  assert.throws(() => parseDatasetName('hoper-medium'), /Did you mean 'hopper-medium'/);
  assert.throws(() => parseDatasetName('hopper-meduim'), /kind must be one of/);
});

test('first download records size and sha256; later uses verify and do not fetch', async () => {
  const dir = tempDir('dl');
  const first = await downloadD4rl('hopper-random-v2', { dir, baseUrl: base });
  assert.equal(first.downloaded, true);
  assert.equal(first.sha256, sha256File(FIXTURE));
  const entry = readManifest(dir).files['hopper_random-v2.hdf5'];
  assert.equal(entry.size, bytes.length);
  assert.equal(entry.sha256, sha256File(FIXTURE));
  const n = requests.length;
  const second = await downloadD4rl('hopper-random', { dir, baseUrl: base });
  assert.equal(second.downloaded, false);
  assert.equal(requests.length, n, 'a cached, verified file is not fetched again');
  // A file changed on disk no longer matches its manifest entry.
  fs.appendFileSync(first.file, 'x');
  await assert.rejects(
    downloadD4rl('hopper-random-v2', { dir, baseUrl: base }),
    /must match its entry in .*manifest\.json .*Delete the file and download it again/,
  );
});

test('a cut connection leaves a .part file; the next call resumes with a Range request', async () => {
  const dir = tempDir('resume');
  cutAfter = 10000;
  await assert.rejects(downloadD4rl('hopper-random-v2', { dir, baseUrl: base }), /connection cut|ECONNRESET|aborted/);
  cutAfter = undefined;
  const part = path.join(dir, 'hopper_random-v2.hdf5.part');
  assert.equal(fs.statSync(part).size, 10000);
  assert.equal(fs.existsSync(path.join(dir, 'hopper_random-v2.hdf5')), false, 'no partial file under the final name');
  const got = await downloadD4rl('hopper-random-v2', { dir, baseUrl: base });
  assert.equal(requests[requests.length - 1].range, 'bytes=10000-');
  assert.equal(got.sha256, sha256File(FIXTURE));
  assert.equal(fs.existsSync(part), false);
});

test('offline: one line saying so and naming the offline alternative', async () => {
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  await assert.rejects(
    downloadD4rl('walker2d-medium-replay-v2', { dir: tempDir('offline'), baseUrl: `http://127.0.0.1:${port}` }),
    (err: Error) => {
      assert.match(err.message, /looks offline\. Offline alternative: npx dmm data generate walker2d-medium-replay /);
      assert.equal(err.message.split('\n').length, 1);
      return true;
    },
  );
});

test('an HTTP error names the status', async () => {
  await assert.rejects(downloadD4rl('hopper-expert-v2', { dir: tempDir('404'), baseUrl: base }), /got HTTP 404/);
});

test('a wrong, empty or truncated file is never recorded, so the genuine file is accepted after it', async () => {
  for (const wrong of [Buffer.alloc(0), bytes.subarray(0, 3000), Buffer.from('<html>404</html>')]) {
    const dir = tempDir('poison');
    const file = path.join(dir, 'hopper_random-v2.hdf5');
    fs.writeFileSync(file, wrong);
    await assert.rejects(downloadD4rl('hopper-random-v2', { dir, baseUrl: base }), (err: Error) => {
      assert.match(err.message, /^Error in readHdf5: .* must be a complete HDF5 file, got .*Delete it and download/);
      assert.ok(!err.message.includes('\n'));
      return true;
    });
    assert.deepEqual(readManifest(dir).files, {}, 'nothing recorded for a file that failed its checks');
    // The printed fix works: delete, download again.
    fs.rmSync(file);
    const got = await downloadD4rl('hopper-random-v2', { dir, baseUrl: base });
    assert.equal(got.sha256, sha256File(FIXTURE));
    assert.equal(readManifest(dir).files['hopper_random-v2.hdf5'].sha256, sha256File(FIXTURE));
  }
});

test('a file that differs from its manifest entry: the message names the manifest and how to reset it', async () => {
  const dir = tempDir('mismatch');
  const first = await downloadD4rl('hopper-random-v2', { dir, baseUrl: base });
  fs.appendFileSync(first.file, 'x');
  await assert.rejects(downloadD4rl('hopper-random-v2', { dir, baseUrl: base }), (err: Error) => {
    const manifest = path.join(dir, 'manifest.json');
    assert.ok(err.message.includes(manifest), err.message);
    assert.match(err.message, /remove the entry 'hopper_random-v2\.hdf5' from .*manifest\.json/);
    assert.ok(!err.message.includes('\n'));
    return true;
  });
});
