// Preloaded into the kit's tslab kernel (environment/tslab-kernel.sh). tslab 1.0.22 looks up the modules it
// compiled from src/ by `<folder>/<id>.js`, so `import ... from './models'` (a folder with index.ts) fails
// inside notebooks with "Cannot find module", although tsc and tsx accept it. This maps a relative id that
// names a folder holding index.ts to `<folder>/index`, the file tslab compiled. Nothing else changes.
'use strict';
const fs = require('fs');
const path = require('path');
const tspath = require(require.resolve('tslab/dist/tspath', { paths: [path.join(__dirname, '..')] }));
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
