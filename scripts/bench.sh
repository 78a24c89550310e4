#!/usr/bin/env bash
# npm run bench: set-up if needed, build, then every benchmark. Figures only; no pass/fail.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x scripts/setup.sh ] && bash scripts/setup.sh >&2
node scripts/build.mjs
echo "== navigation index (issue 2) =="
node dist/test/bench/index.bench.js
