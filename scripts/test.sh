#!/usr/bin/env bash
# The test run: unit tests (no privileges) and lab tests (root: network namespaces with real
# DHCP servers). Ends with the line `tests: N passed, M failed`.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "test: the lab tests need root (network namespaces); run: sudo bun run test" >&2
  echo "tests: 0 passed, 1 failed"
  exit 1
fi
bash native/build.sh >/dev/null || { echo "tests: 0 passed, 1 failed"; exit 1; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT
bun test "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
passed=$(grep -Eo '^ *[0-9]+ pass$' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
failed=$(grep -Eo '^ *[0-9]+ fail$' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
if [ "$status" != 0 ] && [ "$failed" = 0 ]; then failed=1; fi  # a crash or a load error
echo "tests: ${passed:-0} passed, ${failed:-0} failed"
exit "$status"
