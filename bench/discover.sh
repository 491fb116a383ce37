#!/usr/bin/env bash
# One-shot start-up and exchange, in the lab: the shipped binary's `discover --first` and
# `request` (a whole DORA) beside the runtime's floor (`bun -e 0`) and ISC dhclient's whole
# DORA (`dhclient -1`, the fastest native client here), the npm bundle's discover, and the
# floor under discover: bench/oneshot-floor.ts compiled alike (one DISCOVER, its first
# OFFER, through the project's own layers, no command line).
# hyperfine runs them in ROUNDS rounds of RUNS runs each, the order of the commands turned
# by one every round, so that the machine's other work falls on all of them alike; the ratios
# are taken per round and their median reported (bench/report.ts). Prints Markdown.
#
# dhclient runs only inside the lab's client namespace, against the lab's server, with its own
# files in a temporary directory: -cf (empty), -lf, -pf, and -sf /bin/true so that it
# configures nothing. `dhclient -1` returns once bound, leaving a daemon behind: the prepare
# step before each run ends that daemon (by the pid it wrote) and removes its lease, so every
# run is a whole DORA.
#
# Needs root (the lab), hyperfine, dnsmasq and dhclient (scripts/setup.sh --dev).
# Knobs: ROUNDS (5), RUNS (10 per round), NAME (the lab's, dtbd + the pid).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-5}
runs=${RUNS:-10}
name=${NAME:-dtbd$(($$ % 100000))}

for tool in hyperfine dnsmasq dhclient; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (bash scripts/setup.sh --dev)" >&2; exit 1; }
done
bash native/build.sh >/dev/null
bash scripts/bundle.sh >/dev/null
bash scripts/compile.sh >/dev/null

bun cli/main.ts lab down --name "$name" >/dev/null 2>&1 || true
bun cli/main.ts lab up --name "$name" --servers 1 >/dev/null 2>&1
out=$(mktemp -d)
chmod 0755 "$out"
trap '"$out/dhclient-done" || true; bun cli/main.ts lab down --name "$name" >/dev/null; rm -rf "$out"' EXIT

: > "$out/dhclient.conf"
cat > "$out/dhclient-done" <<EOF
#!/bin/sh
# Ends the dhclient the last run left bound in the background and forgets its lease. It forks
# once bound, and the child writes the pid file after the parent has exited: wait until the
# file names a live dhclient.
d=$out
[ -e "\$d/lf" ] || [ -e "\$d/pf" ] || exit 0
i=0
while :; do
  pid=\$(cat "\$d/pf" 2>/dev/null || true)
  [ -n "\$pid" ] && [ "\$(cat /proc/"\$pid"/comm 2>/dev/null)" = dhclient ] && break
  i=\$((i + 1)); [ \$i -gt 400 ] && { echo "bench: no live dhclient in \$d/pf" >&2; exit 1; }
  sleep 0.005
done
kill "\$pid"
while [ -e /proc/"\$pid" ] && [ "\$(cut -d' ' -f3 /proc/"\$pid"/stat 2>/dev/null)" != Z ]; do sleep 0.005; done
rm -f "\$d/lf" "\$d/pf"
EOF
chmod 0755 "$out/dhclient-done"
# scripts/compile.sh's flags
bun build --compile --bytecode --format=esm --splitting --minify-syntax --minify-whitespace --compile-jit-policy=1000 \
  --no-compile-autoload-dotenv --no-compile-autoload-bunfig bench/oneshot-floor.ts --outfile "$out/floor" >/dev/null

bin=dist/dhcptool
# name|command|prepare (the first is the floor the ratios are taken against)
commands=(
  "bun -e 0|bun -e 0|true"
  "discover --first --json|$bin discover lab0 --first --json|true"
  "discover --first|$bin discover lab0 --first|true"
  "request --json (DORA)|$bin request lab0 --json|true"
  "dhclient -1 (DORA)|dhclient -1 -cf $out/dhclient.conf -lf $out/lf -pf $out/pf -sf /bin/true lab0|$out/dhclient-done"
  "discover --first --json (bundle)|bun dist/main.js discover lab0 --first --json|true"
  "floor: one DISCOVER, first OFFER, no CLI|$out/floor lab0|true"
)

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
load_before=$(loadavg)
for ((r = 0; r < rounds; r++)); do
  args=()
  for ((i = 0; i < ${#commands[@]}; i++)); do
    c=${commands[$(( (i + r) % ${#commands[@]} ))]}
    IFS='|' read -r label cmd prep <<< "$c"
    args+=(--prepare "$prep" -n "$label" "$cmd")
  done
  echo "bench: round $((r + 1)) of $rounds" >&2
  ip netns exec "$name-c" hyperfine -N --warmup 2 --runs "$runs" --export-json "$out/round-$r.json" "${args[@]}" >/dev/null
done
"$out/dhclient-done"
load_after=$(loadavg)

bun bench/report.ts --title "discover --first and request, one-shot, in the lab" \
  --floor "bun -e 0" --versus "dhclient -1 (DORA)" --load "$load_before" --load "$load_after" \
  --goal "discover --first --json|bun -e 0|2.5" --goal "discover --first --json|dhclient -1 (DORA)|0.8" \
  --goal "request --json (DORA)|dhclient -1 (DORA)|1.0" \
  "$out"/round-*.json
