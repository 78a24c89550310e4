#!/usr/bin/env bash
# `npm test`: setup, build, type-check, then the three test layers:
#   unit         node --test dist/test/unit/          (node:test, TAP `# pass N` / `# fail N`)
#   integration  node --test dist/test/integration/   (same)
#   integration-lldb  the debugger tests again with SEAM_DEBUGGER=lldb (the LLDB backend)
#   e2e          node scripts/e2e.mjs                 (real VS Code; its last line `N passed, N failed`)
#   e2e-lldb     the same with seam.debugger = lldb
# Each layer's full output goes to test-output/<layer>.log, with a short summary here. The last
# line is the sum, `N passed, N failed`; a failed type-check or a layer that could not run (no
# tests, crashed, no count) counts as one failure. Exit 1 when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=test-output
mkdir -p "$OUT"

say() { printf '[test] %s\n' "$*"; }

bash scripts/setup.sh || { say "setup failed (see above)"; echo "0 passed, 1 failed"; exit 1; }

say "build"
node scripts/build.mjs >"$OUT/build.log" 2>&1 || {
  sed 's/^/  /' "$OUT/build.log" | tail -n 30
  say "build failed ($OUT/build.log)"; echo "0 passed, 1 failed"; exit 1
}

total_pass=0
total_fail=0

say "typecheck: npx tsc --noEmit -p ."
if npx --no-install tsc --noEmit -p . >"$OUT/typecheck.log" 2>&1; then
  say "typecheck    ok"
else
  grep -E 'error TS' "$OUT/typecheck.log" | head -n 10 | sed 's/^/  /'
  say "typecheck    FAILED ($(grep -c 'error TS' "$OUT/typecheck.log") errors; $OUT/typecheck.log)"
  total_fail=$((total_fail + 1))
fi

# run_layer NAME KIND COMMAND...   KIND: tap (node:test) or e2e
run_layer() {
  local name=$1 kind=$2; shift 2
  local log="$OUT/$name.log" start=$SECONDS rc pass fail
  say "$name: $*"
  "$@" >"$log" 2>&1
  rc=$?
  if [ "$kind" = tap ]; then
    pass=$(grep -E '^# pass [0-9]+$' "$log" | tail -n1 | awk '{print $3}')
    fail=$(grep -E '^# fail [0-9]+$' "$log" | tail -n1 | awk '{print $3}')
  else
    read -r pass fail < <(tail -n1 "$log" | sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\1 \2/p')
  fi
  local secs=$((SECONDS - start))
  if [ -z "${pass:-}" ] || [ -z "${fail:-}" ]; then
    tail -n 15 "$log" | sed 's/^/  /'
    say "$(printf '%-12s' "$name") COULD NOT RUN (exit $rc, no test count; $log)"
    total_fail=$((total_fail + 1))
    return
  fi
  if [ "$pass" -eq 0 ] && [ "$fail" -eq 0 ]; then
    say "$(printf '%-12s' "$name") COULD NOT RUN (no tests; $log)"
    total_fail=$((total_fail + 1))
    return
  fi
  if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi # exited non-zero with no failing test
  if [ "$fail" -gt 0 ]; then
    if [ "$kind" = tap ]; then
      grep -E '^ *not ok [0-9]+ - ' "$log" | sed -E 's/^ *not ok [0-9]+ - /  failed: /' | head -n 15
    else
      grep -oE 'SEAM_TEST FAIL .*' "$log" | sed 's/^SEAM_TEST FAIL /  failed: /' | head -n 15
    fi
  fi
  say "$(printf '%-12s' "$name") $pass passed, $fail failed  (${secs} s; $log)"
  total_pass=$((total_pass + pass))
  total_fail=$((total_fail + fail))
}

run_layer unit tap node --test --test-reporter=tap dist/test/unit/
run_layer integration tap node --test --test-reporter=tap dist/test/integration/
# The debugger tests again over LLDB (lldb-vscode-16): same files, SEAM_DEBUGGER picks the backend.
run_layer integration-lldb tap env SEAM_DEBUGGER=lldb node --test --test-reporter=tap \
  dist/test/integration/seam-stack.test.js dist/test/integration/dap.test.js dist/test/integration/dap-python-*.test.js
run_layer hardening tap bash scripts/test-hardening.sh --no-build --reporter=tap
run_layer e2e e2e node scripts/e2e.mjs
run_layer e2e-lldb e2e env SEAM_DEBUGGER=lldb node scripts/e2e.mjs

echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
