#!/usr/bin/env bash
# `npm run test:hardening`: the hardening layer (issue 6): fuzzing, faults, soak, trust/injection.
#   node --test dist/test/hardening/     fuzz.test, fuzz-regressions.test, dap-fuzz.test,
#                                        faults.test, soak.test, trust.test
# Bounded: each test file has its own timeouts; the whole layer is killed after
# SEAM_HARDENING_TIMEOUT seconds (default 900). Knobs: SEAM_SOAK_CYCLES (debug soak, default 1000),
# SEAM_SOAK_EDITS (edit/re-index loop, default 2000), SEAM_FUZZ_SEED, SEAM_FUZZ_SCALE.
# Options: --no-build (npm test has built already), --reporter=spec|tap (default spec).
# Prints the figures each test recorded (test-output/hardening/figures.jsonl) and the runtime.
set -uo pipefail
cd "$(dirname "$0")/.."
build=1
reporter=spec
for a in "$@"; do
  case "$a" in
    --no-build) build=0 ;;
    --reporter=*) reporter=${a#--reporter=} ;;
    *) echo "usage: $0 [--no-build] [--reporter=spec|tap]" >&2; exit 2 ;;
  esac
done
start=$SECONDS
if [ "$build" = 1 ]; then
  node scripts/build.mjs || { echo "build failed" >&2; exit 1; }
fi
mkdir -p test-output/hardening
rm -f test-output/hardening/figures.jsonl
timeout --kill-after=10 "${SEAM_HARDENING_TIMEOUT:-900}" \
  node --test --test-reporter="$reporter" dist/test/hardening/
rc=$?
[ "$rc" -eq 124 ] && echo "hardening: killed after ${SEAM_HARDENING_TIMEOUT:-900} s (SEAM_HARDENING_TIMEOUT)" >&2
node -e '
  const fs = require("fs");
  const f = "test-output/hardening/figures.jsonl";
  if (!fs.existsSync(f)) process.exit(0);
  const rows = fs.readFileSync(f, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
  const pre = process.argv[1] === "tap" ? "# " : "";
  console.log(`${pre}hardening figures (${f}):`);
  for (const r of rows) {
    const { kind, name, at, ...rest } = r;
    console.log(`${pre}  ${kind.padEnd(6)} ${name.padEnd(34)} ${Object.entries(rest).map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`).join(" ")}`);
  }
' "$reporter"
prefix=""
[ "$reporter" = tap ] && prefix="# "
echo "${prefix}hardening: $((SECONDS - start)) s"
exit "$rc"
