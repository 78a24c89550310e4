#!/usr/bin/env bash
# Downloads the real sources the tests and benchmarks read, into a cache outside the repo:
#   $SEAM_CACHE/cpython-3.11   CPython 3.11 (Debian bookworm source package)
#   $SEAM_CACHE/cpython-3.13   CPython 3.13 (Debian trixie source package)
#   $SEAM_CACHE/pydantic-core  pydantic-core's Rust sources (its sdist from PyPI)
# Idempotent: a finished download leaves a .done marker and is not fetched again.
set -euo pipefail
CACHE="${SEAM_CACHE:-$HOME/.cache/seam}"
mkdir -p "$CACHE"
log() { printf '[fetch-sources] %s\n' "$*" >&2; }

ensure_deb_src() {
  local list=/etc/apt/sources.list.d/seam-deb-src.sources
  if [ ! -f "$list" ]; then
    log "adding deb-src entries for bookworm and trixie ($list)"
    cat > "$list" <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    apt-get update -qq >&2 || apt-get update >&2
  fi
  command -v dpkg-source >/dev/null || apt-get install -y -qq dpkg-dev >&2
}

fetch_cpython() { # $1 = 3.11 | 3.13, $2 = suite
  local ver=$1 suite=$2 dest="$CACHE/cpython-$1"
  [ -f "$dest/.done" ] && return 0
  ensure_deb_src
  local work; work=$(mktemp -d "$CACHE/tmp.XXXXXX")
  log "downloading CPython $ver sources (Debian $suite source package python$ver)"
  (cd "$work" && apt-get source -qq -t "$suite" "python$ver/$suite" >&2 2>/dev/null || cd "$work" && apt-get source -qq "python$ver/$suite" >&2)
  local dir; dir=$(find "$work" -maxdepth 1 -mindepth 1 -type d -name "python$ver*" | head -n1)
  [ -n "$dir" ] || { log "apt-get source python$ver gave no source tree"; exit 1; }
  rm -rf "$dest"; mv "$dir" "$dest"; rm -rf "$work"
  touch "$dest/.done"
}

fetch_pydantic_core() {
  local dest="$CACHE/pydantic-core"
  [ -f "$dest/.done" ] && return 0
  local work; work=$(mktemp -d "$CACHE/tmp.XXXXXX")
  log "downloading pydantic-core sdist from PyPI"
  # The sdist itself (pip download would try to build its metadata, which needs maturin).
  python3 - "$work" <<'PY' >&2
import hashlib, re, sys, urllib.request
name = "pydantic_core-2.27.2.tar.gz"
index = urllib.request.urlopen("https://pypi.org/simple/pydantic-core/", timeout=60).read().decode()
url = next(u for u in re.findall(r'href="([^"]+)"', index) if name in u)
data = urllib.request.urlopen(url, timeout=180).read()
want = url.split("#sha256=")[1]
if hashlib.sha256(data).hexdigest() != want:
    sys.exit(f"{name}: sha256 mismatch")
open(f"{sys.argv[1]}/{name}", "wb").write(data)
PY
  local tgz; tgz=$(ls "$work"/pydantic_core-*.tar.gz | head -n1)
  tar -xzf "$tgz" -C "$work"
  local dir; dir=$(find "$work" -maxdepth 1 -mindepth 1 -type d -name 'pydantic_core-*' | head -n1)
  rm -rf "$dest"; mv "$dir" "$dest"; rm -rf "$work"
  touch "$dest/.done"
}

fetch_cpython 3.11 bookworm
fetch_cpython 3.13 trixie
fetch_pydantic_core
echo "$CACHE"
