#!/usr/bin/env bash
# Sourced by setup.sh and redis.sh: `dmm_debian_packages WHO PACKAGE...` installs the Debian packages that
# dpkg-query does not list as installed. As root it runs apt-get; as anyone else it prints the exact command
# and returns 1. Nothing happens when all are installed, so callers stay idempotent. On a system without
# dpkg it returns 2 and says nothing (the caller decides what to say).
dmm_debian_packages() {
  local who="$1" p missing=()
  shift
  command -v dpkg-query >/dev/null 2>&1 || return 2
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  local cmd="apt-get update && apt-get install -y ${missing[*]}"
  if [[ $(id -u) != 0 ]]; then
    echo "Error in $who: Debian packages missing: ${missing[*]}. Install them with: sudo sh -c '$cmd'" >&2
    return 1
  fi
  [[ ${_dmm_quiet:-0} == 1 ]] || echo "[$who] installing Debian packages: ${missing[*]}" >&2
  # One install at a time: test files that ask for the same package may run in parallel.
  (
    command -v flock >/dev/null 2>&1 && flock 9
    DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  ) 9>/tmp/dmm-kit-apt.lock
}
