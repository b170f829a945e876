#!/usr/bin/env bash
# The browser test: builds the page (web/build.sh), serves it on localhost, opens it in headless
# Chromium (Debian's package) and checks it (web/test.mjs): first frame time, simulated time
# advancing, a non-blank canvas, no console errors, the guided tour, a day of riverside simulated in
# the browser giving the same report as natively, hostile input (broken, missing and oversized
# scenes by URL and by drop, non-scene files: a message, and the page keeps running), an
# OpenStreetMap extract dropped on the page imported there as natively, proposal links (made in the
# page and shared, opened in a fresh page and natively with the same comparison numbers; damaged,
# too long, newer and other scenes' links refused, the city unchanged), and the module's size
# budgets (the full `web` build with wasm-opt only; a `web-ci` build's sizes are recorded).
#
#   web/test.sh                       build, then test
#   QTWIN_WEB_SKIP_BUILD=1 web/test.sh    test the page already in web/dist
#   QTWIN_WEB_PROFILE=web-ci QTWIN_WASM_OPT=0 web/test.sh    CI: the fast build (see web/build.sh)
# The drop-an-extract test reads $QTWIN_CAMPUS_OSM (default ../shared/data/osm/campus_melaten.osm,
# beside the checkout); without it the test says so and skips that case, unless CI is set.
# Results: $QTWIN_WEB_OUT (default /tmp/qtwin-web)/web-test.json and screenshots.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/qtwin-target}"
out="${QTWIN_WEB_OUT:-/tmp/qtwin-web}"
mkdir -p "$out"

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "web/test.sh needs Debian's chromium (apt-get install chromium)" >&2
    exit 2
  fi
fi
[ -d web/node_modules/playwright-core ] || (cd web && npm ci --no-audit --no-fund)
[ "${QTWIN_WEB_SKIP_BUILD:-0}" = 1 ] || web/build.sh
cp tests/scenes/broken/semantic.ron web/dist/broken.ron
# Another scene for the proposal test: riverside with its supply 1 K warmer (a link made for
# riverside must say it was made for another scene).
sed '0,/^        supply_temp_c: 75.0,$/s//        supply_temp_c: 76.0,/' scenes/riverside.ron > web/dist/other.ron
cmp -s scenes/riverside.ron web/dist/other.ron && { echo "web/test.sh: could not make web/dist/other.ron" >&2; exit 1; }
# One byte over the page's limit (src/limits.rs MAX_SCENE_BYTES, 256 MiB), sparse: the page must
# refuse it from its length, before reading it.
rm -f web/dist/huge.ron
truncate -s $(( (256 << 20) + 1 )) web/dist/huge.ron

campus="${QTWIN_CAMPUS_OSM:-../shared/data/osm/campus_melaten.osm}"
if [ ! -f "$campus" ]; then
  if [ -n "${CI:-}" ]; then echo "web/test.sh: $campus is missing (CI needs ../shared beside the checkout)" >&2; exit 1; fi
  echo "web/test.sh: no $campus here: the drop-an-extract case is skipped"
  campus=""
fi

# The same day natively, for the report comparison.
ticks=1440
# The simulation alone (no view: its build is long and the report does not need it), one thread
# like the browser; the single-threaded speed over the same ticks is the browser budget's reference
# (the first simulated day costs more per tick than later ones, so compare like with like).
# QTWIN_WEB_NATIVE_FEATURES=default: the default features' binary instead, as the test build makes
# it (CI has it from its tests: `cargo test --release` builds the binary for the integration tests;
# a plain `cargo build --release --bin qtwin` would build bevy a second time, without the
# dev-dependencies' features, ~25 minutes on two cores).
if [ "${QTWIN_WEB_NATIVE_FEATURES:-none}" = default ]; then
  cargo test --release --no-run
else
  cargo build --release --no-default-features --bin qtwin
fi
"$CARGO_TARGET_DIR/release/qtwin" run scenes/riverside.ron --hours 24 --quiet --threads 1 --report "$out/native-report.json"
native_tps=$("$CARGO_TARGET_DIR/release/qtwin" bench --scene scenes/riverside.ron --generated-buildings 0 --threads 1 --days "$(awk -v t=$ticks 'BEGIN { print t / 1440 }')" |
  grep -oE '[0-9][0-9,.]* ticks/s' | head -1 | tr -d ', ' | sed 's/ticks\/s//')
echo "native single-threaded riverside: $native_tps ticks/s"
native_sha=$(sha256sum "$out/native-report.json" | cut -d' ' -f1)
campus_args=()
if [ -n "$campus" ]; then
  # The same extract imported natively, with the defaults the page uses: the page must give the
  # same scene bytes.
  cp "$campus" "$out/campus_melaten.osm"
  "$CARGO_TARGET_DIR/release/qtwin" import "$out/campus_melaten.osm" --out "$out/campus-native.ron"
  campus_args=(--campus "$out/campus_melaten.osm" --campus-sha "$(sha256sum "$out/campus-native.ron" | cut -d' ' -f1)")
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 web/serve.py --port "$port" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done
node web/test.mjs --url "http://127.0.0.1:$port/" --out "$out" --native-sha "$native_sha" --native-ticks-per-s "${native_tps:-0}" --bench-ticks "$ticks" \
  --build web/dist/build.json --scenes tests/scenes/broken --qtwin "$CARGO_TARGET_DIR/release/qtwin" "${campus_args[@]}"
