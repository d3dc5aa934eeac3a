#!/usr/bin/env bash
# tools/gpu/quick-rows.sh MODEL[,MODEL...] SEEDS: the `quick` hopper-medium rows of issue 6 on the GPU host,
# each (model, seed) its own process on the WebGPU backend, then `dmm report`. Needs .gpu/cli
# (tools/gpu/bundle-cli.sh). Records go to $OUT/results (or ./results-gpu), logs beside them.
set -euo pipefail
models=${1:-dt,dmm}; seeds=${2:-12,23}
out=${OUT:-results-gpu}; res=$out/results; mkdir -p "$res"
export DMM_BACKEND=${DMM_BACKEND:-webgpu} DMM_QUIET=1
run() { bash .gpu/cli/run.sh "$@"; }
run report --results "$res" >/dev/null 2>&1 || true # unpacks node and the Vulkan loader once, before the parallel runs
first=1
for m in ${models//,/ }; do
  for s in ${seeds//,/ }; do
    run train --model "$m" --env hopper --dataset medium --scale quick --seeds "$s" --results "$res" >"$out/$m-$s.log" 2>&1 &
    if [ $first = 1 ]; then # the first run generates the kit dataset; the others wait for it
      first=0
      for _ in $(seq 600); do ls data/cache/hopper_medium-kit-quick-seed0.hdf5 >/dev/null 2>&1 && break; sleep 1; done
    fi
  done
done
wait || true
tail -n 3 "$out"/*.log
run report --results "$res"
