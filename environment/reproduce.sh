#!/usr/bin/env bash
# `npm run reproduce [-- --scale smoke|notebook|quick|paper] [-- --only 03 | --from 03]`:
# set-up, then every notebook in notebooks/ in order (default scale notebook), writing figures/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source environment/setup.sh
exec node --import tsx src/notebooks/run-notebooks.ts "$@"
