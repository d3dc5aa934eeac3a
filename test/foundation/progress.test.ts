import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { progress } from '../../src/util/progress';

function sink(): { stream: Writable & { isTTY?: boolean }; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return { stream, text: () => chunks.join('') };
}

test('outside a terminal a bar prints a bounded number of lines, then a summary', () => {
  const out = sink();
  const bar = progress('train', 1000, { stream: out.stream, maxLines: 5, silent: false });
  for (let i = 0; i < 1000; i++) bar.tick(1, `loss ${i}`);
  bar.done('final');
  const lines = out.text().trim().split('\n');
  assert.ok(lines.length <= 5, `at most 5 lines, got ${lines.length}`);
  assert.ok(lines.length >= 3, `some progress shown, got ${lines.length}`);
  assert.match(lines[0], /^train \[#+-*\] \d+\/1000 \d+%/);
  assert.match(lines[lines.length - 1], /^train: 1000\/1000 done in \d+s \| final$/);
  assert.ok(!out.text().includes('\r'), 'no carriage returns in notebook output');
});

test('silent bars print nothing', () => {
  const out = sink();
  const bar = progress('x', 10, { stream: out.stream, silent: true });
  bar.tick(10);
  bar.done();
  assert.equal(out.text(), '');
});

test('with DMM_PROGRESS_FILE set, the current line is kept in that file for the notebook runner', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dmm-progress-')), 'bar.txt');
  process.env.DMM_PROGRESS_FILE = file;
  try {
    const bar = progress('rollouts', 4, { silent: true });
    bar.tick(4, 'return 12.5');
    assert.match(fs.readFileSync(file, 'utf8'), /^rollouts \[#+\] 4\/4 100% .* \| return 12\.5$/);
    bar.done('ok');
    assert.match(fs.readFileSync(file, 'utf8'), /^rollouts: 4\/4 done in \d+s \| ok$/);
  } finally {
    delete process.env.DMM_PROGRESS_FILE;
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
});
