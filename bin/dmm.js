#!/usr/bin/env node
// `npx dmm ...`: runs the TypeScript command line through tsx, so no build step is needed.
require('tsx/cjs');
require('../src/cli/main.ts');
