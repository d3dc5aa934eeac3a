#!/usr/bin/env bash
# tools/gpu/bundle.sh ENTRY.ts [OUTDIR]: packs one TypeScript entry point of the kit into a folder that runs on a
# bare x86-64 Linux host with an NVIDIA driver but no Node.js and no network. The folder holds the entry and its npm
# dependencies as one CommonJS file (esbuild), the native WebGPU addon (`webgpu`, Dawn), a compressed copy of this
# machine's node binary, and Debian's Vulkan loader and libglvnd packages, which the NVIDIA Vulkan driver needs and
# a bare host lacks. Run from the repository root after `npm ci`. On the host: `bash OUTDIR/run.sh [args]` as root
# (it unpacks those packages into /). What the program writes should go under a folder it is told about, so it can
# be copied back.
set -euo pipefail
entry=${1:?usage: tools/gpu/bundle.sh ENTRY.ts [OUTDIR]}
out=${2:-.gpu/bundle}
[ -f "$entry" ] || { echo "Error in bundle.sh: ENTRY must be a file, got '$entry'." >&2; exit 2; }
[ -x node_modules/.bin/esbuild ] && [ -f node_modules/webgpu/package.json ] ||
  { echo "Error in bundle.sh: node_modules must hold esbuild and webgpu, got neither or one. Run npm ci first." >&2; exit 2; }
mkdir -p "$out/node_modules/webgpu/dist/linux-x64" "$out/debs"
# Keep the folder out of git wherever it is written (.gpu/ is in .gitignore already; a worktree's .git is a file).
if git rev-parse --git-dir >/dev/null 2>&1 && ! git check-ignore -q "$out"; then
  exclude=$(git rev-parse --git-path info/exclude) && mkdir -p "$(dirname "$exclude")"
  grep -qxF "/$out/" "$exclude" 2>/dev/null || echo "/$out/" >> "$exclude"
fi

# The program: everything but the native addon in one file, plus the wasm files tfjs-backend-wasm looks for beside it.
node_modules/.bin/esbuild "$entry" --bundle --platform=node --format=cjs --target=node20 \
  --external:webgpu --log-level=warning --outfile="$out/app.cjs"
cp node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm "$out/" 2>/dev/null || true
# VecEnv's worker threads run their own file (src/envs/vec-env.ts looks for it beside the bundle).
node_modules/.bin/esbuild src/envs/vec-worker.ts --bundle --platform=node --format=cjs --target=node20 \
  --log-level=warning --outfile="$out/vec-worker.cjs"

# The WebGPU addon for linux-x64; its .node files are compressed and unpacked on first run.
cp node_modules/webgpu/package.json node_modules/webgpu/index.js "$out/node_modules/webgpu/"
for f in node_modules/webgpu/dist/linux-x64/*; do
  case "$f" in
    *.node) xz -T0 -6 -c "$f" > "$out/node_modules/webgpu/dist/linux-x64/$(basename "$f").xz" ;;
    *) cp "$f" "$out/node_modules/webgpu/dist/linux-x64/" ;;
  esac
done

# Node itself, recompressed only when this machine's binary is newer.
node_bin=$(command -v node)
[ -f "$out/node.xz" ] && [ ! "$node_bin" -nt "$out/node.xz" ] || xz -T0 -6 -c "$node_bin" > "$out/node.xz"

# The Vulkan loader and the GL dispatch libraries, downloaded once (apt lists in /tmp, not the system's).
if ! ls "$out"/debs/libglvnd0_*.deb >/dev/null 2>&1; then
  lists=/tmp/dmm-bundle-apt-lists && mkdir -p "$lists/partial"
  apt_opts="-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=$lists"
  # shellcheck disable=SC2086
  apt-get $apt_opts update >/dev/null
  # shellcheck disable=SC2086
  (cd "$out/debs" && apt-get $apt_opts download libvulkan1 libglvnd0 libglx0 libegl1 libgl1 libopengl0 libgles2 >/dev/null 2>&1)
fi

cat > "$out/run.sh" <<'EOF'
#!/usr/bin/env bash
# run.sh [ARGS...]: runs the bundled program (as root: it unpacks the Vulkan loader into /).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
for f in "$here"/debs/*.deb; do dpkg -x "$f" /; done; ldconfig
[ -x /tmp/node ] || { xz -dc "$here/node.xz" > /tmp/node; chmod +x /tmp/node; }
for f in "$here"/node_modules/webgpu/dist/linux-x64/*.node.xz; do [ -f "${f%.xz}" ] || xz -dc "$f" > "${f%.xz}"; done
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES=${VK_DRIVER_FILES:-$icd}
cd "$here" && exec /tmp/node app.cjs "$@"
EOF
chmod +x "$out/run.sh"
echo "bundle: $out ($(du -sm "$out" | cut -f1) MiB). On the GPU host: bash $out/run.sh [args]"
