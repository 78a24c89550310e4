#!/usr/bin/env bash
# The stack benchmark's peers (npm run bench -> scripts/bench.sh calls this). Idempotent; about
# 0.1 s when everything is present. One short line per step; on failure, what failed and what to do.
#
#   apt packages            gdb (py-bt runs in it). Nothing for pystack: its manylinux wheel
#                           carries its own elfutils libdw/libelf (pystack.libs/, checked with ldd).
#   .vscode-test/bench-venv venv from pyenv's newest CPython 3.10-3.13, with py-spy and pystack
#                           from PyPI (prebuilt wheels only: py-spy's is a static binary)
# Prints the venv's bin directory as its last line on stdout (the bench reads it).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

PY_SPY_VERSION=0.4.3
PYSTACK_VERSION=1.7.2
APT_PACKAGES=(gdb)

VT="$ROOT/.vscode-test"
VENV="$VT/bench-venv"
mkdir -p "$VT"
step() { printf '[setup-bench] %-8s %s\n' "$1" "$2" >&2; }
fail() { printf '[setup-bench] FAILED: %s\n[setup-bench] to fix: %s\n' "$1" "$2" >&2; exit 1; }

# --- apt packages ------------------------------------------------------------------------------
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  step apt "ok (${APT_PACKAGES[*]})"
else
  step apt "installing ${missing[*]}"
  [ "$(id -u)" = 0 ] || fail "apt packages missing: ${missing[*]}" "run as root, or: sudo apt-get install -y ${missing[*]}"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } \
    >"$VT/bench-apt.log" 2>&1 || fail "apt-get install ${missing[*]} (log: $VT/bench-apt.log)" \
      "check network access to the Debian mirror, then rerun bash scripts/setup-bench.sh"
  rm -f "$VT/bench-apt.log"
fi

# --- venv with py-spy and pystack --------------------------------------------------------------
STAMP="$VENV/.done-py-spy-$PY_SPY_VERSION-pystack-$PYSTACK_VERSION"
if [ -f "$STAMP" ] && [ -x "$VENV/bin/py-spy" ] && [ -x "$VENV/bin/pystack" ]; then
  step venv "ok ($VENV: py-spy $PY_SPY_VERSION, pystack $PYSTACK_VERSION)"
else
  versions="${PYENV_ROOT:-$HOME/.pyenv}/versions"
  base=""
  for minor in 13 12 11 10; do
    for d in $(ls -d "$versions"/3."$minor".* 2>/dev/null | sort -V -r); do
      [ -x "$d/bin/python3.$minor" ] && { base="$d/bin/python3.$minor"; break 2; }
    done
  done
  [ -n "$base" ] || fail "no pyenv CPython 3.10-3.13 under $versions" "install one with pyenv (pyenv install 3.12)"
  step venv "creating $VENV from $base; pip install py-spy==$PY_SPY_VERSION pystack==$PYSTACK_VERSION"
  rm -rf "$VENV"
  {
    "$base" -m venv "$VENV" &&
      "$VENV/bin/pip" install --disable-pip-version-check -q --only-binary=:all: \
        "py-spy==$PY_SPY_VERSION" "pystack==$PYSTACK_VERSION"
  } >"$VT/bench-venv.log" 2>&1 || fail "pip install py-spy/pystack (log: $VT/bench-venv.log)" \
    "check access to PyPI, then rerun bash scripts/setup-bench.sh"
  "$VENV/bin/py-spy" --version >/dev/null 2>&1 || fail "py-spy does not run" "rm -rf $VENV and rerun"
  "$VENV/bin/pystack" --help >/dev/null 2>&1 || fail "pystack does not run (log: ldd $VENV/lib/python3.*/site-packages/pystack/*.so)" \
    "rm -rf $VENV and rerun"
  rm -f "$VT/bench-venv.log"
  touch "$STAMP"
fi
echo "$VENV/bin"
