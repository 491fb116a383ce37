#!/usr/bin/env bash
# The test run, as root, in steps that each count:
#   type check, lint, layout    one test each (tsc; biome ci: lint and format, see biome.jsonc; scripts/check-layout.ts:
#                               no import cycles, core/ imports only core/, no source file over 450 lines)
#   test/unit                   as user nobody (setpriv): no privileges, no system tools; a skip is a failure
#   test/fuzz                   the short fuzz run
#   test/lab                    root: network namespaces with real DHCP servers
# Ends with the line `tests: N passed, M failed`, the sum of the steps.
#   bash scripts/test.sh --check     the edit loop (`bun run check`): the type check, lint, layout
#                                    and test/unit (as nobody when run as root), no root needed
#   bash scripts/test.sh FILE…       the type check and those test files, as root
set -uo pipefail
cd "$(dirname "$0")/.."

mode=full
if [ "${1:-}" = --check ]; then mode=check; shift; elif [ $# -gt 0 ]; then mode=files; fi
if [ $mode != check ] && [ "$(id -u)" != 0 ]; then
  echo "test: the lab tests need root (network namespaces); run: sudo bun run test (or bun run check)" >&2
  echo "tests: 0 passed, 1 failed"
  exit 1
fi
bash native/build.sh >/dev/null || { echo "tests: 0 passed, 1 failed"; exit 1; }

passed=0 failed=0
work=$(mktemp -d)    # root's: the logs
nobody=$(mktemp -d)  # nobody's: its home, caches and temp files
trap 'rm -rf "$work" "$nobody"' EXIT

# check NAME COMMAND…: a command that passes or fails as one test.
check() {
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "test: $name failed" >&2; fi
}

# suite NAME COMMAND…: a `bun test` run; its pass, fail and skip counts join the totals (a
# skip counts as a failure: every tier has what its tests need, so nothing has a reason to skip).
suite() {
  local name=$1; shift
  local log="$work/$name.log"
  "$@" 2>&1 | tee "$log"
  local status=${PIPESTATUS[0]}
  local p f s
  p=$(grep -Eo '^ *[0-9]+ pass$' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
  f=$(grep -Eo '^ *[0-9]+ fail$' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
  s=$(grep -Eo '^ *[0-9]+ (skip|todo)$' "$log" | awk '{ n += $1 } END { print n + 0 }')
  if [ "$status" != 0 ] && [ "${f:-0}" = 0 ]; then f=1; fi  # a crash or a load error
  if [ "${s:-0}" != 0 ]; then echo "test: $name: ${s} skipped, counted as failed" >&2; fi
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0} + ${s:-0}))
  echo "test: $name: ${p:-0} passed, $(( ${f:-0} + ${s:-0} )) failed" >&2
}

# as_nobody COMMAND…: runs COMMAND in this tree as user nobody (uid/gid 65534, no groups), with a
# home, cache and temp directory of its own. A tree nobody cannot read (a clone under /root) is
# copied first to a directory nobody owns.
as_nobody() {
  local home=$nobody tree=$PWD
  mkdir -p "$home/tmp" && chown -R 65534:65534 "$home"
  if ! setpriv --reuid=65534 --regid=65534 --clear-groups \
      test -r "$tree/package.json" -a -r "$tree/native/build/libdhcptool.so" -a -r "$tree/node_modules/fast-check/package.json"; then
    tree="$home/tree"
    mkdir -p "$tree" && tar --exclude=./.git -cf - . | tar -C "$tree" -xf - && chown -R 65534:65534 "$tree"
  fi
  local bun_bin
  bun_bin=$(readlink -f "$(command -v bun)")
  if ! setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$bun_bin" 2>/dev/null; then
    cp "$bun_bin" "$home/bun" && chown 65534:65534 "$home/bun" && chmod 755 "$home/bun" && bun_bin="$home/bun"
  fi
  (cd "$tree" && setpriv --reuid=65534 --regid=65534 --clear-groups \
    env HOME="$home" TMPDIR="$home/tmp" XDG_CACHE_HOME="$home/cache" BUN_INSTALL_CACHE_DIR="$home/cache/bun" \
    PATH="$(dirname "$bun_bin"):/usr/bin:/bin" "$bun_bin" "$@")
}

# The type check counts as one test: a type error fails the run like a failing test. It keeps
# what it learnt in node_modules/.cache, so that a second run checks only what changed.
typecheck() { bunx tsc -p . --incremental --tsBuildInfoFile node_modules/.cache/dhcptool.tsbuildinfo; }
# biome ci: the linter, and the formatter as a check (a file it would change fails)
lint() { bunx biome ci --error-on-warnings --no-errors-on-unmatched .; }

case $mode in
  files)
    check "type check" typecheck
    suite "bun test $*" bun test "$@"
    ;;
  check)
    # The type check runs beside the unit tests (two cores, two single-threaded jobs); its
    # output follows theirs.
    typecheck >"$work/typecheck.log" 2>&1 &
    typecheck_pid=$!
    check "lint" lint
    check "layout check" bun scripts/check-layout.ts
    if [ "$(id -u)" = 0 ]; then suite "unit (as nobody)" as_nobody test test/unit; else suite "unit" bun test test/unit; fi
    check "type check" wait "$typecheck_pid"
    cat "$work/typecheck.log"
    ;;
  full)
    check "type check" typecheck
    check "lint" lint
    check "layout check" bun scripts/check-layout.ts
    suite "unit (as nobody)" as_nobody test test/unit
    suite "fuzz" bun test test/fuzz
    suite "lab" bun test test/lab
    ;;
esac

echo "tests: ${passed} passed, ${failed} failed"
[ "$failed" = 0 ]
