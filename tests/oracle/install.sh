#!/usr/bin/env bash
# Installs the real JWT libraries that tests/oracle asks, into a cache outside the repository:
#   <cache>/npm-<lockfile hash>/node_modules   jsonwebtoken 9.0.0 and jose 6.x, `npm ci` from tests/oracle/js
#   <cache>/pyjwt-2.8.0                         PyJWT 2.8.0 (pip --target: never into the project's venv)
# <cache> is $JWTCHECK_ORACLE_CACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/jwtcheck-oracle (tests/oracle/paths.py
# computes the same). Idempotent and quiet: when both are there it only hashes the lockfile. Each install goes
# to a temporary folder renamed into place once complete, so an interrupted run leaves nothing half-made.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${JWTCHECK_ORACLE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/jwtcheck-oracle}"
python="${PYTHON:-$(command -v python || command -v python3)}"
lock_hash="$(sha256sum "$here/js/package-lock.json" | cut -c1-16)"
npm_dir="$cache/npm-$lock_hash"
pyjwt_dir="$cache/pyjwt-2.8.0"

mkdir -p "$cache"

quietly() {  # run a command; show what it printed only when it fails
  local log status=0
  log="$(mktemp)"
  "$@" >"$log" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    echo "tests/oracle/install.sh: '$*' failed (exit $status):" >&2
    tail -n 40 "$log" >&2
  fi
  rm -f "$log"
  return "$status"
}

if [ ! -f "$npm_dir/.complete" ]; then
  command -v npm >/dev/null || { echo "tests/oracle/install.sh: npm is not installed (Node 20 is needed)" >&2; exit 1; }
  tmp="$(mktemp -d "$cache/.npm-XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  cp "$here/js/package.json" "$here/js/package-lock.json" "$tmp/"
  quietly npm ci --prefix "$tmp" --ignore-scripts --no-audit --no-fund --loglevel=error
  touch "$tmp/.complete"
  rm -rf "$npm_dir"
  mv -T "$tmp" "$npm_dir" 2>/dev/null || rm -rf "$tmp"  # another run got there first: keep its copy
  trap - EXIT
fi

if [ ! -f "$pyjwt_dir/.complete" ]; then
  tmp="$(mktemp -d "$cache/.pyjwt-XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  quietly "$python" -m pip install --quiet --disable-pip-version-check --no-deps --no-compile --target "$tmp" PyJWT==2.8.0
  touch "$tmp/.complete"
  rm -rf "$pyjwt_dir"
  mv -T "$tmp" "$pyjwt_dir" 2>/dev/null || rm -rf "$tmp"
  trap - EXIT
fi
