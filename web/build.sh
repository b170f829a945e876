#!/usr/bin/env bash
# Builds the browser page into web/dist/: the wasm build (profile `web`: opt-level z, LTO, one
# codegen unit, panic=abort; features `web`: the view on WebGL2 without threads), wasm-bindgen at
# exactly the version in Cargo.lock, wasm-opt from npm's binaryen 132 (Debian's binaryen 108 breaks
# the module), then the page and its demo scene. Serve it with `python3 web/serve.py`.
#
#   web/build.sh            build (installs the wasm32 target, wasm-bindgen-cli and binaryen if missing)
#   QTWIN_WASM_OPT=0 web/build.sh   skip wasm-opt (faster; a larger module)
#   QTWIN_WEB_PROFILE=web-ci QTWIN_WASM_OPT=0 web/build.sh
#                           CI's build: the same page from the `web-ci` profile (opt-level 1, no LTO,
#                           16 codegen units), minutes instead of most of an hour; the size budgets
#                           apply to the full build only (web/test.sh reads web/dist/build.json)
# The sizes and how the module was built go to web/dist/build.json.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/qtwin-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
t0=$(date +%s)

rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

# wasm-bindgen's CLI must match the library in Cargo.lock exactly.
wbg_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -q " $wbg_version\$"; then
  echo "installing wasm-bindgen-cli $wbg_version"
  # No --locked: its lock file wants a webpki-roots release the registry here lacks.
  cargo install wasm-bindgen-cli --version "$wbg_version"
fi

# WebAssembly SIMD (every current browser has it: Chrome 91, Firefox 89, Safari 16.4): egui's text
# rasteriser (vello_cpu via fearless_simd) compiles its SIMD path instead of a far larger scalar one.
# Source paths in panic messages as `/crates/…` and `/qtwin/…` instead of this machine's directories
# (the same module from any checkout; a little smaller).
remap="--remap-path-prefix=$PWD=/qtwin"
for d in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/; do
  if [ -d "$d" ]; then remap="$remap --remap-path-prefix=${d%/}=/crates"; fi
done
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="${CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS:--C target-feature=+simd128 $remap}"
profile="${QTWIN_WEB_PROFILE:-web}"
case "$profile" in web|web-ci) ;; *) echo "QTWIN_WEB_PROFILE must be web or web-ci, not $profile" >&2; exit 2 ;; esac
cargo build --profile "$profile" --target wasm32-unknown-unknown --no-default-features --features web --bin qtwin
raw="$CARGO_TARGET_DIR/wasm32-unknown-unknown/$profile/qtwin.wasm"

rm -rf web/dist
mkdir -p web/dist
wasm-bindgen --target web --no-typescript --out-dir web/dist --out-name qtwin "$raw"
bindgen_size=$(stat -c %s web/dist/qtwin_bg.wasm)

wasm_opt=false
if [ "${QTWIN_WASM_OPT:-1}" != 0 ]; then
  wasm_opt=true
  if [ ! -x web/node_modules/.bin/wasm-opt ]; then
    (cd web && npm ci --no-audit --no-fund)
  fi
  web/node_modules/.bin/wasm-opt -Oz \
    --enable-reference-types --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
    --enable-nontrapping-float-to-int --enable-multivalue --enable-simd \
    -o web/dist/qtwin_bg.opt.wasm web/dist/qtwin_bg.wasm
  mv web/dist/qtwin_bg.opt.wasm web/dist/qtwin_bg.wasm
fi

cp web/index.html scenes/riverside.ron web/dist/
gz=$(gzip -9 -c web/dist/qtwin_bg.wasm | wc -c)
raw_size=$(stat -c %s "$raw")
page_size=$(stat -c %s web/dist/qtwin_bg.wasm)
secs=$(( $(date +%s) - t0 ))
printf '{"profile": "%s", "wasm_opt": %s, "cargo_bytes": %d, "bindgen_bytes": %d, "page_bytes": %d, "gzip_bytes": %d, "build_s": %d}\n' \
  "$profile" "$wasm_opt" "$raw_size" "$bindgen_size" "$page_size" "$gz" "$secs" > web/dist/build.json
awk -v p="$profile" -v raw="$raw_size" -v bg="$bindgen_size" -v opt="$page_size" -v gz="$gz" -v s="$secs" \
  'BEGIN { printf "web/dist (profile %s): qtwin.wasm %.1f MB from cargo, %.1f MB after wasm-bindgen, %.1f MB in the page, %.1f MB gzipped; %d s\n", p, raw/1e6, bg/1e6, opt/1e6, gz/1e6, s }'
