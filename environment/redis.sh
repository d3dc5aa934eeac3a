#!/usr/bin/env bash
# `bash environment/redis.sh [--quiet]`: makes sure redis-server is here, for the job queue (`dmm sweep --queue`,
# `dmm worker`) and its tests. Nothing else in the kit needs it, so the general set-up does not install it.
# Idempotent: with redis-server present (on PATH, or at DMM_REDIS_SERVER) it does nothing and prints nothing.
# Otherwise it installs Debian's redis-server as root, or prints the install command and exits 1.
set -euo pipefail
_dmm_quiet=0
[[ "${1:-}" == "--quiet" ]] && _dmm_quiet=1
source "$(dirname "${BASH_SOURCE[0]}")/debian.sh"
server=${DMM_REDIS_SERVER:-redis-server}
command -v "$server" >/dev/null 2>&1 && exit 0
rc=0
dmm_debian_packages redis redis-server || rc=$?
if ((rc == 2)); then
  echo "Error in redis: redis-server must be installed for the job queue, got none (and no dpkg here). Install Redis, or set DMM_REDIS_SERVER to its redis-server." >&2
  exit 1
fi
((rc == 0)) || exit "$rc"
command -v "$server" >/dev/null 2>&1 || {
  echo "Error in redis: redis-server must be at ${server}, got nothing there although the package is installed. Unset DMM_REDIS_SERVER or point it at the binary." >&2
  exit 1
}
