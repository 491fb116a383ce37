#!/usr/bin/env bash
# The shipped forms side by side: the compiled binary's size and build time for each set of
# `bun build --compile` flags tried, then, from one hyperfine run inside a lab's client
# namespace, start-up (`--version`, which also dlopens the shim) beside `bun -e 0`, and a
# `discover lab0 --first --json` from the binary, the npm bundle and the sources.
# Prints Markdown (docs/BENCHMARKS.md, "The shipped binary" comes from it).
# Needs root (the lab) and hyperfine (scripts/setup.sh --dev).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-40}
name=dtbship

command -v hyperfine >/dev/null || { echo "bench: hyperfine is missing (bash scripts/setup.sh --dev)" >&2; exit 1; }
bash scripts/compile.sh >/dev/null
bash scripts/bundle.sh >/dev/null
out=$(mktemp -d)
chmod 0755 "$out"
bun cli/main.ts lab down --name "$name" >/dev/null 2>&1 || true
bun cli/main.ts lab up --name "$name" --servers 1 >/dev/null
trap 'bun cli/main.ts lab down --name "$name" >/dev/null; rm -rf "$out"' EXIT

# name|flags (the shipped set is scripts/compile.sh's; the others are what it was chosen over)
variants=(
  "plain|"
  "bytecode|--bytecode --format=esm"
  "bytecode+splitting|--bytecode --format=esm --splitting"
  "minified|--bytecode --format=esm --splitting --minify-syntax --minify-whitespace"
  "shipped|--bytecode --format=esm --splitting --minify-syntax --minify-whitespace --compile-jit-policy=1000"
  "all-minified|--bytecode --format=esm --splitting --minify"
)
echo "| flags | build s | size MiB |"
echo "|---|---:|---:|"
for v in "${variants[@]}"; do
  label=${v%%|*} flags=${v#*|}
  start=$(date +%s.%N)
  # shellcheck disable=SC2086 # the flags are words
  bun build --compile $flags --no-compile-autoload-dotenv --no-compile-autoload-bunfig \
    cli/ship/binary.ts --outfile "$out/$label" >/dev/null
  end=$(date +%s.%N)
  printf '| %s (`%s`) | %.2f | %.1f |\n' "$label" "${flags:-none}" "$(echo "$end - $start" | bc)" \
    "$(echo "scale=1; $(stat -c %s "$out/$label") / 1048576" | bc)"
done
printf '| (for scale: the bun executable) | | %.1f |\n' "$(echo "scale=1; $(stat -L -c %s "$(command -v bun)") / 1048576" | bc)"
echo

args=()
for v in "${variants[@]}"; do
  label=${v%%|*}
  args+=(-n "$label --version" "$out/$label --version")
done
ip netns exec "$name-c" hyperfine -N --warmup 5 --runs "$runs" --export-json "$out/result.json" \
  -n "bun -e 0" "bun -e 0" \
  "${args[@]}" \
  -n "discover --first --json (binary)" "dist/dhcptool discover lab0 --first --json" \
  -n "discover --first --json (bundle)" "bun dist/main.js discover lab0 --first --json" \
  -n "discover --first --json (source)" "bun cli/main.ts discover lab0 --first --json" \
  >&2
bun bench/report.ts "$out/result.json"
