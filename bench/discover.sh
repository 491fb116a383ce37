#!/usr/bin/env bash
# Wall time of a one-shot discover against dnsmasq in the lab, beside the runtime's own
# floor (bun -e 0) and busybox udhcpc's whole DORA, from one hyperfine run in the same lab.
# Prints a Markdown table with the ratios (the figures in docs/BENCHMARKS.md come from it).
# Needs root (the lab) and hyperfine + busybox (scripts/setup.sh --dev).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-40}
name=dtbench

for tool in hyperfine busybox dnsmasq; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (bash scripts/setup.sh --dev)" >&2; exit 1; }
done
bash native/build.sh >/dev/null
bun run build:bundle >/dev/null

bun cli/main.ts lab down --name "$name" >/dev/null 2>&1 || true
bun cli/main.ts lab up --name "$name" --servers 1 >/dev/null
out=$(mktemp -d)
trap 'bun cli/main.ts lab down --name "$name" >/dev/null; rm -rf "$out"' EXIT

# udhcpc's script: exit at once (we time the protocol, not interface configuration)
printf '#!/bin/sh\nexit 0\n' > "$out/udhcpc-script"
chmod +x "$out/udhcpc-script"

ip netns exec "$name-c" hyperfine -N --warmup 5 --runs "$runs" --export-json "$out/result.json" \
  -n "bun -e 0" "bun -e 0" \
  -n "discover --first" "bun dist/main.js discover lab0 --first" \
  -n "discover --first --json" "bun dist/main.js discover lab0 --first --json" \
  -n "discover --first (source)" "bun cli/main.ts discover lab0 --first" \
  -n "udhcpc DORA" "busybox udhcpc -i lab0 -f -q -n -s $out/udhcpc-script" \
  >&2

bun bench/report.ts "$out/result.json"
