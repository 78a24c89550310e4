#!/usr/bin/env bash
# `npm run demo`: sets up, builds, shows a few names resolved by the CLI and a merged
# Python/C/Rust stack from the debugger (the sample built by scripts/build-sample.mjs), then serves
# VS Code (code-server 4.139.1 = VS Code 1.139.1) on 127.0.0.1 with the sample workspace open and Seam
# loaded as a development extension. Prints the URL to open; stays up until Ctrl-C.
#
#   SEAM_DEMO_CHECK=1 npm run demo    instead opens the page once in headless chromium, waits for
#                                     Seam's index, opens sample/app.py, saves test-output/demo.png
#                                     and exits (0 when Seam's status bar item showed up)
#   SEAM_DEMO_PORT=9000               first port to try (default 8765; the next free one is used)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE="${SEAM_CACHE:-$HOME/.cache/seam}"
NODE24="$ROOT/.vscode-test/node24/bin/node"
CODE_SERVER="$ROOT/.vscode-test/code-server/node_modules/code-server/out/node/entry.js"
WORKSPACE="$ROOT/test/fixtures/sample"
DATA="$ROOT/.vscode-test/demo"

bash scripts/setup.sh
echo "[demo] building"
node scripts/build.mjs

echo "[demo] a few names, resolved by the CLI:"
bin/seam resolve math.sqrt os.getcwd list.append sample.leaf \
  --root test/fixtures/sample --root "$CACHE/cpython-3.13" | sed 's/^/  /' \
  || echo "[demo] (the CLI failed; the editor demo goes on)"

# --- the debugger: a merged Python/C/Rust stack of the sample --------------------------------
# The sample's native modules, built with debug info into $CACHE/sample-build; the exports also
# reach code-server below, where the sample's launch configuration "Seam: sample stack" reads them.
if SAMPLE_ENV=$(node scripts/build-sample.mjs --shell); then
  eval "$SAMPLE_ENV"
  echo "[demo] a merged stack: bin/seam stack --break _engine::leaf -- python sample/stack_demo.py"
  PYTHONPATH="$SEAM_SAMPLE_PYTHONPATH" PYTHONDONTWRITEBYTECODE=1 timeout 120 \
    bin/seam stack --break _engine::leaf -- "$SEAM_SAMPLE_PYTHON" "$WORKSPACE/sample/stack_demo.py" 2>&1 \
    | sed 's/^/  /' || echo "[demo] (seam stack failed; the editor demo goes on)"
else
  echo "[demo] (building the sample's native modules failed; the editor demo goes on)"
fi

# --- a port: 8765 or the next free one ---------------------------------------------------------
port_free() {
  node -e "require('net').createServer().once('error', () => process.exit(1))
    .listen(+process.argv[1], '127.0.0.1', function () { this.close(); })" "$1"
}
PORT="${SEAM_DEMO_PORT:-8765}"
until port_free "$PORT"; do PORT=$((PORT + 1)); done

# --- code-server -------------------------------------------------------------------------------
mkdir -p "$DATA/data/User" "$DATA/extensions"
cat >"$DATA/data/User/settings.json" <<EOF
{
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "chat.disableAIFeatures": true,
  "workbench.startupEditor": "none",
  "workbench.secondarySideBar.defaultVisibility": "hidden",
  "workbench.tips.enabled": false,
  "security.workspace.trust.enabled": false,
  "debug.saveBeforeStart": "none",
  "seam.cpythonSource": "$CACHE/cpython-3.13"
}
EOF
printf 'bind-addr: 127.0.0.1:%s\nauth: none\ncert: false\n' "$PORT" >"$DATA/config.yaml"

CS_PID=
stop() {
  # code-server runs in its own session (setsid): stop its whole process group.
  if [ -n "$CS_PID" ] && kill -0 "$CS_PID" 2>/dev/null; then
    kill -TERM -- "-$CS_PID" 2>/dev/null || true
    for _ in 1 2 3 4 5 6; do kill -0 "$CS_PID" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-$CS_PID" 2>/dev/null || true
  fi
}
trap stop EXIT
trap 'exit 130' INT TERM

mkdir -p test-output
env -u npm_config_user_agent setsid "$NODE24" "$CODE_SERVER" --auth none --bind-addr "127.0.0.1:$PORT" \
  --config "$DATA/config.yaml" --user-data-dir "$DATA/data" --extensions-dir "$DATA/extensions" \
  --disable-telemetry --disable-update-check --disable-workspace-trust \
  --vscode-option enable-smoke-test-driver \
  >"test-output/demo-code-server.log" 2>&1 &
CS_PID=$!

for _ in $(seq 1 240); do
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  kill -0 "$CS_PID" 2>/dev/null || { echo "[demo] code-server exited; see test-output/demo-code-server.log" >&2; exit 1; }
  sleep 0.25
done
curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null || { echo "[demo] code-server did not answer on port $PORT" >&2; exit 1; }

# The repo as a development extension, through the workbench's URL payload (which the web
# workbench honours only with the smoke-test driver enabled, hence that option above; the server
# listens on loopback only).
URL=$(node -e '
  const [port, ext, folder] = process.argv.slice(1);
  const payload = [["extensionDevelopmentPath", `vscode-remote://127.0.0.1:${port}${ext}`], ["skipWelcome", "true"]];
  console.log(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
' "$PORT" "$ROOT" "$WORKSPACE")

if [ "${SEAM_DEMO_CHECK:-}" = 1 ]; then
  echo "[demo] checking $URL in headless chromium"
  node --input-type=module - "$URL" "$ROOT/test-output/demo.png" <<'JS'
import { chromium } from 'playwright-core';
const [url, png] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'] });
let ok = false;
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(url);
  // Seam's status bar item says how many names it bound once the index is ready.
  const status = page.locator('.statusbar-item', { hasText: /Seam: [\d,]+ names/ });
  await status.first().waitFor({ timeout: Number(process.env.SEAM_DEMO_CHECK_TIMEOUT_MS ?? 180_000) });
  console.log(`[demo] status bar: ${(await status.first().innerText()).trim()}`);
  await page.locator('.monaco-workbench').click({ position: { x: 700, y: 400 } }).catch(() => {});
  await page.keyboard.press('Control+P');
  await page.keyboard.type('app.py');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'app.py' }).first().waitFor({ timeout: 30_000 });
  await page.keyboard.press('Enter');
  await page.locator('.tab', { hasText: 'app.py' }).first().waitFor({ timeout: 30_000 });
  await page.locator('.view-lines').first().waitFor({ timeout: 30_000 });
  ok = true;
  await page.screenshot({ path: png });
  console.log(`[demo] saved ${png}`);
} catch (e) {
  console.error(`[demo] check failed: ${e.message.split('\n')[0]}`);
  const page = browser.contexts()[0]?.pages()[0];
  if (page) await page.screenshot({ path: png }).then(() => console.error(`[demo] what the page showed: ${png}`), () => {});
} finally {
  await browser.close();
}
process.exit(ok ? 0 : 1);
JS
  exit $?
fi

echo
echo "[demo] Seam in VS Code 1.139 (code-server), sample workspace, extension loaded from $ROOT:"
echo
echo "    $URL"
echo
echo "[demo] open that URL in a browser on this machine (or forward port $PORT). Ctrl-C stops it."
wait "$CS_PID"
