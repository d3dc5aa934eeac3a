#!/usr/bin/env bash
# tools/gpu/bundle-cli.sh: packs `dmm train` / `dmm report` (tools/gpu/cli-entry.ts) for the GPU host into
# .gpu/cli/, two folders below the repo root so the bundle finds data/, results/ and package.json where the
# kit does (its modules resolve the root as ../.. of their own file). Adds what esbuild cannot inline: the
# MuJoCo and h5wasm WebAssembly packages and the MuJoCo model files. On the host, from the repo root:
#   DMM_BACKEND=webgpu bash .gpu/cli/run.sh train --model dt --env hopper --dataset medium --scale quick --seeds 12
# Another entry: tools/gpu/bundle-cli.sh tools/gpu/engine-quick.ts .gpu/quick
set -euo pipefail
entry=${1:-tools/gpu/cli-entry.ts}
out=${2:-.gpu/cli}
bash tools/gpu/bundle.sh "$entry" "$out" >/dev/null
mkdir -p "$out/node_modules/mujoco-js/dist" "$out/node_modules/h5wasm/dist"
cp node_modules/mujoco-js/package.json "$out/node_modules/mujoco-js/"
cp node_modules/mujoco-js/dist/mujoco_wasm.js "$out/node_modules/mujoco-js/dist/"
cp node_modules/h5wasm/package.json "$out/node_modules/h5wasm/"
rm -rf "$out/node_modules/h5wasm/dist/node" && cp -r node_modules/h5wasm/dist/node "$out/node_modules/h5wasm/dist/"
rm -rf "$out/assets" && cp -r src/envs/assets "$out/assets"
echo "bundle: $out ($(du -sh "$out" | cut -f1)). Carry .gpu/cli; run: bash .gpu/cli/run.sh train|report ..."
