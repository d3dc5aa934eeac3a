#!/usr/bin/env bash
# tools/gpu/paper-grid.sh GRID MODELS ENVS [SECONDS]: a slice of a paper-scale grid on the GPU host, resumable
# across device calls. Keeps GRID's cells of MODELS (comma list) on ENVS (comma list), generates their kit
# datasets at paper size in parallel (one process per dataset, data/cache/), then trains them with
# `dmm sweep --pack` into RESULTS (default .scratch/paper, which stays on the host while it is held) until
# SECONDS (default 540; 0: the data only) have passed; a kill mid-iteration loses that iteration only (checkpoints are atomic, and
# the next call resumes from them). Finished and partial records are copied to $OUT/records.tar each call.
# DATASETS (comma list of kit dataset ids) narrows the slice further, to fit one visit's device time.
# Needs .gpu/cli (tools/gpu/bundle-cli.sh). Run from the repository root on the host:
#   DMM_BACKEND=webgpu bash tools/gpu/paper-grid.sh grids/03-main-results.json dmm hopper 540
set -euo pipefail
grid=${1:?usage: paper-grid.sh GRID MODELS ENVS [SECONDS]}; models=${2:?models}; envs=${3:?envs}
seconds=${4:-540}; res=${RESULTS:-.scratch/paper}; out=${OUT:-.scratch/out}
mkdir -p "$res" "$out" .scratch
res=$(cd "$res" && pwd) # run.sh runs the bundle from its own folder: absolute paths
export DMM_BACKEND=${DMM_BACKEND:-webgpu} DMM_QUIET=1
t0=$(date +%s)
slice=$PWD/.scratch/grid-$(echo "$models-$envs-${DATASETS:-all}" | tr ',' '_').json
python3 - "$grid" "$models" "$envs" "$slice" "${DATASETS:-}" <<'PY'
import json, sys
grid, models, envs, out = sys.argv[1], sys.argv[2].split(','), sys.argv[3].split(','), sys.argv[4]
datasets = [d for d in sys.argv[5].split(',') if d]
g = json.load(open(grid))
cells = [c for c in g['cells'] if c['model'] in models and c['env'] in envs and (not datasets or c['dataset'] in datasets)]
assert cells, f'paper-grid.sh: no cells of {models} on {envs} (datasets {datasets or "all"}) in {grid}'
what = f"{','.join(models)} on {','.join(datasets or envs)}"
json.dump({**g, 'cells': cells, 'description': f"{g['description']} Slice: {what}."}, open(out, 'w'))
print(f'{len(cells)} cells of {grid}: {what}')
PY
bash .gpu/cli/run.sh report --results "$res" >/dev/null 2>&1 || true # unpacks node and the Vulkan loader once
for d in $(python3 -c "import json,sys; print(' '.join(sorted({c['dataset'] for c in json.load(open(sys.argv[1]))['cells']})))" "$slice"); do
  # A marker per dataset: a later call on the same held host skips what an earlier one generated.
  [ -f ".scratch/data-$d.done" ] && continue
  (bash .gpu/cli/run.sh data generate "$d" --scale paper >"$out/data-$d.log" 2>&1 && touch ".scratch/data-$d.done") &
done
wait
[ "$seconds" = 0 ] && { echo "data only: ready after $(( $(date +%s) - t0 )) s"; exit 0; }
echo "data ready after $(( $(date +%s) - t0 )) s"; tail -qn 1 "$out"/data-*.log 2>/dev/null || true
left=$(( seconds - ($(date +%s) - t0) ))
rc=0; timeout "$left" bash .gpu/cli/run.sh sweep --grid "$slice" --pack --results "$res" >"$out/sweep.log" 2>&1 || rc=$?
tail -n 5 "$out/sweep.log"
echo "sweep rc $rc after $(( $(date +%s) - t0 )) s"
(cd "$res" && find . -name '*.json' -not -path '*/checkpoints/*' | tar -cf - -T -) > "$out/records.tar"
echo "records: $(tar -tf "$out/records.tar" | wc -l) files"
