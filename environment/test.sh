#!/usr/bin/env bash
# `npm test`: set-up, type check, lint and format check, unit tests, then every notebook at smoke scale
# (executed copies and figures go to .cache/, so the committed notebooks and figures stay untouched).
# Extra arguments go to the notebook runner (e.g. `npm test -- --only 00`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source environment/setup.sh
step() { echo; echo "== $* =="; }
start=$SECONDS
step "type check (tsc --noEmit -p .)"
node_modules/.bin/tsc --noEmit -p .
step "lint (eslint) and format (prettier --check)"
node_modules/.bin/eslint .
node_modules/.bin/prettier --check . --log-level warn
step "unit tests"
mapfile -t tests < <(find test -name '*.test.ts' | sort)
if ((${#tests[@]})); then node --import tsx --test "${tests[@]}"; else echo "no unit tests found"; fi
step "notebooks at smoke scale"
node --import tsx src/notebooks/run-notebooks.ts --scale smoke "$@"
echo
echo "npm test passed in $((SECONDS - start)) s"
