#!/usr/bin/env bash
# The stack benchmark's peers (npm run bench -> scripts/bench.sh calls this). Idempotent; about
# 0.1 s when everything is present. One short line per step; on failure, what failed and what to do.
#
#   apt packages            gdb (py-bt runs in it). Nothing for pystack: its manylinux wheel
#                           carries its own elfutils libdw/libelf (pystack.libs/, checked with ldd).
#   .vscode-test/bench-venv venv from pyenv's newest CPython 3.10-3.13, with py-spy and pystack
#                           from PyPI (prebuilt wheels only: py-spy's is a static binary)
#   $VENV/debugpy/3.X       debugpy from PyPI for each pyenv CPython 3.10-3.13 (pip --target with
#                           that interpreter's own pip: the wheels carry per-version speedups);
#                           the Python-tracing bench puts it on PYTHONPATH
# Prints the venv's bin directory as its last line on stdout (the bench reads it).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

PY_SPY_VERSION=0.4.3
PYSTACK_VERSION=1.7.2
DEBUGPY_VERSION=1.8.22

VT="$ROOT/.vscode-test"
VENV="$VT/bench-venv"
mkdir -p "$VT"
step() { printf '[setup-bench] %-8s %s\n' "$1" "$2" >&2; }
fail() { printf '[setup-bench] FAILED: %s\n[setup-bench] to fix: %s\n' "$1" "$2" >&2; exit 1; }

# gdb (for py-bt) comes from scripts/setup.sh, which npm run bench runs first.

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

# --- debugpy per interpreter (the Python-tracing bench's peer) --------------------------------
versions="${PYENV_ROOT:-$HOME/.pyenv}/versions"
for minor in 10 11 12 13; do
  py=""
  for d in $(ls -d "$versions"/3."$minor".* 2>/dev/null | sort -V -r); do
    [ -x "$d/bin/python3.$minor" ] && { py="$d/bin/python3.$minor"; break; }
  done
  [ -n "$py" ] || { step debugpy "3.$minor: no pyenv CPython, skipped"; continue; }
  dest="$VENV/debugpy/3.$minor"
  dstamp="$dest/.done-debugpy-$DEBUGPY_VERSION"
  if [ -f "$dstamp" ]; then
    step debugpy "ok (3.$minor: $DEBUGPY_VERSION)"
    continue
  fi
  step debugpy "3.$minor: pip install --target $dest debugpy==$DEBUGPY_VERSION"
  rm -rf "$dest"
  "$py" -m pip install --disable-pip-version-check -q --only-binary=:all: --target "$dest" \
    "debugpy==$DEBUGPY_VERSION" >"$VT/bench-debugpy.log" 2>&1 ||
    fail "pip install debugpy for 3.$minor (log: $VT/bench-debugpy.log)" "check access to PyPI, then rerun bash scripts/setup-bench.sh"
  PYTHONPATH="$dest" "$py" -c 'import debugpy' >/dev/null 2>&1 || fail "debugpy does not import on 3.$minor" "rm -rf $dest and rerun"
  rm -f "$VT/bench-debugpy.log"
  touch "$dstamp"
done
echo "$VENV/bin"
