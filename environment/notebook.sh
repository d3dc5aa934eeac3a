#!/usr/bin/env bash
# `npm run notebook`: the classic Jupyter server on the kit, with the kit's TypeScript (tslab) kernel.
# Needs the optional Debian package jupyter-notebook. Extra arguments go to `jupyter notebook`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source environment/setup.sh --quiet
if ! /usr/bin/jupyter notebook --version >/dev/null 2>&1; then
  echo "Error in notebook: the Jupyter server must be installed, got none. Install it with: apt-get install -y jupyter-notebook" >&2
  exit 1
fi
echo "Open notebooks/ and pick the kernel 'TypeScript' (tslab, registered in .jupyter/). Scale: DMM_SCALE=${DMM_SCALE:-quick}." >&2
exec /usr/bin/jupyter notebook --notebook-dir="$PWD" "$@"
