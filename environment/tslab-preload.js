// Preloaded into the kit's tslab kernel (environment/tslab-kernel.sh); patches two behaviours of tslab 1.0.22.
'use strict';
const fs = require('fs');
const path = require('path');

const tslabDist = path.dirname(require.resolve('tslab/dist/tspath', { paths: [path.join(__dirname, '..')] }));

// 1. Folder imports. tslab looks up the modules it compiled from src/ by `<folder>/<id>.js`, so
// `import ... from './models'` (a folder with index.ts) fails in a notebook with "Cannot find module",
// although tsc and tsx accept it. A relative id that names a folder holding index.ts maps to `<folder>/index`,
// the file tslab compiled. Nothing else changes.
const tspath = require(path.join(tslabDist, 'tspath'));
const join = tspath.normalizeJoin;
tspath.normalizeJoin = function normalizeJoin(...parts) {
  const joined = join(...parts);
  const id = parts[parts.length - 1];
  if (parts.length === 2 && typeof id === 'string' && /^\.\.?(\/|$)/.test(id) && path.extname(joined) === '') {
    if (fs.existsSync(path.join(joined, 'index.ts')) || fs.existsSync(path.join(joined, 'index.tsx'))) {
      return join(joined, 'index');
    }
  }
  return joined;
};

// 2. File watching, in headless runs only (the notebook runner sets DMM_TSLAB_STATIC=1). tslab's compiler
// watches every file and folder it has resolved and supports one pending rebuild at a time: a source edited
// while a notebook runs, together with files written under the kit root (figures), can fail the next cell with
// "Unexpected pending rebuildTimer". A headless run compiles a fixed tree, so it watches nothing.
if (process.env.DMM_TSLAB_STATIC === '1') {
  const ts = require(require.resolve('@tslab/typescript-for-tslab', { paths: [tslabDist] }));
  const unwatched = () => ({ close() {} });
  ts.sys.watchFile = unwatched;
  ts.sys.watchDirectory = unwatched;
}
