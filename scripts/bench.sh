#!/usr/bin/env bash
# npm run bench: set-up if needed, build, then every benchmark. Figures only; no pass/fail.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >&2
node scripts/build.mjs
echo "== navigation index (issue 2) =="
node dist/test/bench/index.bench.js
echo "== mixed stacks: Seam vs py-bt, py-spy, pystack (stop -> merged stack) =="
# py-spy and pystack in .vscode-test/bench-venv (setup-bench.sh prints its bin directory last).
venv_bin=$(bash scripts/setup-bench.sh | tail -n1)
SEAM_BENCH_VENV="$venv_bin" node dist/test/bench/stack.bench.js
echo "== Python breakpoints and stepping: plain vs Seam vs debugpy, step latency (issue 4) =="
# debugpy per interpreter under .vscode-test/bench-venv/debugpy/3.X (setup-bench.sh, run above).
SEAM_BENCH_VENV="$venv_bin" node dist/test/bench/pytrace.bench.js
