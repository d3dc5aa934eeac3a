#!/usr/bin/env bash
# `npm test`: set-up, then type check, lint and format check, unit tests, and every notebook at smoke scale
# (executed copies and figures go to .cache/, so the committed notebooks and figures stay untouched).
# Every stage runs even when an earlier one fails, so one run shows every problem; the exit status is
# non-zero when any stage failed. Extra arguments go to the notebook runner (e.g. `npm test -- --only 00`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source environment/setup.sh
set +e
start=$SECONDS
summary=()
failed=0
stage() {
  local name="$1"
  shift
  echo
  echo "== $name =="
  local t0=$SECONDS
  "$@"
  local rc=$?
  local status="ok"
  if ((rc != 0)); then
    status="FAILED (exit $rc)"
    failed=1
  fi
  summary+=("$(printf '%-28s %-18s %5d s' "$name" "$status" $((SECONDS - t0)))")
}
unit_tests() {
  local tests
  mapfile -t tests < <(find test -name '*.test.ts' | sort)
  if ((${#tests[@]} == 0)); then
    echo "no unit tests found"
    return 0
  fi
  node --import tsx --test "${tests[@]}"
}
stage "type check" node_modules/.bin/tsc --noEmit -p .
stage "lint (eslint)" node_modules/.bin/eslint .
stage "format (prettier --check)" node_modules/.bin/prettier --check . --log-level warn
stage "unit tests" unit_tests
stage "notebooks (smoke)" node --import tsx src/notebooks/run-notebooks.ts --scale smoke "$@"
echo
echo "== npm test summary =="
printf '%s\n' "${summary[@]}"
echo "total $((SECONDS - start)) s"
if ((failed)); then
  echo "npm test FAILED" >&2
  exit 1
fi
echo "npm test passed"
