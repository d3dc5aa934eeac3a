#!/usr/bin/env bash
# The kit's Jupyter kernel: tslab started at the kit root. tslab compiles cells with rootDir set to its
# working directory, so a kernel started in notebooks/ (what Jupyter does) could not import src/; from the
# root, cells import './src/...' and every notebook sees the same paths. The preload lets src/ and cells
# import folders (`./src/figures`), as tsc and tsx do, and turns off file watching in headless runs
# (see tslab-preload.js).
cd "$(dirname "${BASH_SOURCE[0]}")/.." && exec node --require ./environment/tslab-preload.js node_modules/tslab/bin/tslab "$@"
