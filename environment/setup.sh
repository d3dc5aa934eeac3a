#!/usr/bin/env bash
# Idempotent set-up of dmm-kit, run first by `npm run reproduce`, `npm test` and `npm run doctor`:
#   1. Debian packages (Jupyter to execute notebooks, Chromium to draw figures, h5py; Redis only on demand),
#   2. node_modules from package-lock.json (`npm ci` when missing or older than the lockfile),
#   3. the tslab kernel, registered into the project-local .jupyter/ (never the user's home);
#   and the live explorer's mujoco-js script, built from node_modules when missing (2b).
# Needs only bash and npm (it runs before node_modules exists). Options: --quiet.
# Source it (`. environment/setup.sh`) to also get JUPYTER_PATH in your shell.
set -euo pipefail

DMM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_dmm_quiet=0
[[ "${1:-}" == "--quiet" ]] && _dmm_quiet=1
_dmm_say() { if [[ $_dmm_quiet == 0 ]]; then echo "[setup] $*" >&2; fi; }

# 1. Debian packages. Checked with dpkg-query; installed with apt-get only when missing (environment/debian.sh).
# Redis is not among them: only the job queue needs it, and environment/redis.sh installs it on demand.
source "$DMM_ROOT/environment/debian.sh"
DMM_DEBIAN_PACKAGES=(jupyter-nbconvert python3-nbclient jupyter-client python3-ipykernel chromium python3-h5py)
_dmm_rc=0
dmm_debian_packages setup "${DMM_DEBIAN_PACKAGES[@]}" || _dmm_rc=$?
if ((_dmm_rc == 2)); then
  _dmm_say "not a Debian system: make sure Jupyter (nbconvert, nbclient, ipykernel) and Chromium are installed; npm run doctor checks"
elif ((_dmm_rc != 0)); then
  exit "$_dmm_rc"
fi

# 2. node_modules. npm writes node_modules/.package-lock.json on every install, so its age says whether
# the tree matches the lockfile. Install scripts are not needed: every native part ships prebuilt.
cd "$DMM_ROOT"
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  _dmm_say "npm ci (node_modules missing or older than package-lock.json)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# 2b. The live explorer's copy of mujoco-js (figures/assets/mujoco-js-<version>.js, 11 MB) is built from
# node_modules, not committed: written here when missing (src/live/bundle.ts).
_dmm_mj=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' node_modules/mujoco-js/package.json | head -1)
if [[ ! -f "figures/assets/mujoco-js-$_dmm_mj.js" ]]; then
  _dmm_say "building figures/assets/mujoco-js-$_dmm_mj.js for the live explorer"
  node --import tsx -e "require('./src/live/bundle').writeMujocoScript('figures')"
fi

# 3. The tslab kernel, with Debian's python and an absolute kernel binary (environment/README.md): a
# relative `tslab` is not found when nbconvert starts the kernel. The binary is environment/tslab-kernel.sh,
# which starts tslab at the kit root (see there why). Re-registered when the kit moves to another folder.
_dmm_bin="$DMM_ROOT/environment/tslab-kernel.sh"
_dmm_kernel="$DMM_ROOT/.jupyter/share/jupyter/kernels/tslab/kernel.json"
if ! grep -qF "\"$_dmm_bin\"" "$_dmm_kernel" 2>/dev/null; then
  _dmm_say "registering the tslab kernel in .jupyter/"
  node_modules/.bin/tslab install --python=/usr/bin/python3 --binary="$_dmm_bin" --prefix="$DMM_ROOT/.jupyter" >/dev/null
fi
case ":${JUPYTER_PATH:-}:" in
  *":$DMM_ROOT/.jupyter/share/jupyter:"*) ;;
  *) export JUPYTER_PATH="$DMM_ROOT/.jupyter/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}" ;;
esac
_dmm_say "ready"
