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

# The type check counts as one test: a type error fails the run like a failing test.
typecheck_passed=0 typecheck_failed=0
if bunx tsc -p .; then typecheck_passed=1; else typecheck_failed=1; echo "test: type check failed" >&2; fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
bun test "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
passed=$(grep -Eo '^ *[0-9]+ pass$' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
failed=$(grep -Eo '^ *[0-9]+ fail$' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
if [ "$status" != 0 ] && [ "${failed:-0}" = 0 ]; then failed=1; fi  # a crash or a load error
passed=$(( ${passed:-0} + typecheck_passed ))
failed=$(( ${failed:-0} + typecheck_failed ))
echo "tests: ${passed} passed, ${failed} failed"
[ "$failed" = 0 ] && [ "$status" = 0 ]
