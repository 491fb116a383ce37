#!/usr/bin/env bash
# Builds dist/main.js and its chunks: the bundled JS that the npm package runs with Bun
# (bin/dhcptool), and that the benchmarks time. It finds the shim at ../native/build/ from dist/.
set -euo pipefail
cd "$(dirname "$0")/.."

mkdir -p dist
rm -f dist/*.js # the chunks' names change with their content; leave no stale one to be packed
bun build --target=bun --minify --splitting cli/main.ts --outdir=dist >/dev/null
chmod 0755 dist/main.js
echo "dhcptool: built dist/main.js ($(ls dist/*.js | wc -l) files)"
