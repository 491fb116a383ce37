#!/usr/bin/env bash
# Builds dist/dhcptool: one self-contained executable (bun build --compile) with the native shim
# embedded (cli/ship/embed.ts). It needs no Bun, no node_modules and no compiler where it runs.
# Idempotent: does nothing when dist/dhcptool is newer than everything it is made from.
#
# Flags, and why (docs/BENCHMARKS.md has the measurements):
#   --bytecode --format=esm   precompiled bytecode: start-up without parsing (ESM for top-level await)
#   --splitting               each command's code loads only when that command runs
#   --minify-syntax --minify-whitespace   smaller and faster to load; names kept for --verbose stacks
#   --compile-jit-policy=1000   tier-up thresholds x1000 until a command that loops over packets
#       asks for the normal policy (cli/jit.ts): one-shots and idle daemons do no JIT work
#   --no-compile-autoload-dotenv --no-compile-autoload-bunfig
#       a compiled Bun program otherwise reads .env (DHCPTOOL_SHIM=…) and bunfig.toml (preload =
#       code to run) from the working directory: `sudo dhcptool` in someone else's directory
#       would run their code as root
set -euo pipefail
cd "$(dirname "$0")/.."

bash native/build.sh >/dev/null
out=dist/dhcptool
if [[ -f $out && -z $(find cli core native package.json bun.lock scripts/compile.sh -newer "$out" -type f -print -quit) ]]; then
  echo "dhcptool: $out is up to date"
  exit 0
fi
mkdir -p dist
# Build under a temporary name and rename: an interrupted build never leaves half a binary.
tmp="dist/.dhcptool.$$"
trap 'rm -f "$tmp"' EXIT
bun build --compile --bytecode --format=esm --splitting --minify-syntax --minify-whitespace --compile-jit-policy=1000 \
  --no-compile-autoload-dotenv --no-compile-autoload-bunfig \
  cli/ship/binary.ts --outfile "$tmp" >/dev/null
mv -f "$tmp" "$out"
trap - EXIT
echo "dhcptool: built $out ($(( $(stat -c %s "$out") / 1048576 )) MiB)"
