#!/usr/bin/env bash
# The demo: bring the lab up (two real dnsmasq servers in network namespaces; the second
# plays a rogue), run a discover in it, print what it found, and take the lab down again,
# whatever happens. Exits non-zero only if something did not work.
# It runs `dhcptool` as scripts/setup.sh installed it (from the sources when it is not installed).
set -uo pipefail
cd "$(dirname "$0")/.."
name=dtdemo

if command -v dhcptool >/dev/null 2>&1; then dhcptool=(dhcptool); else dhcptool=(bun cli/main.ts); fi

"${dhcptool[@]}" lab up --quiet --name "$name" --servers 2 >/dev/null || exit 1
trap '"${dhcptool[@]}" lab down --name "$name"' EXIT

echo "lab up: dnsmasq at 198.18.0.1 (legitimate) and 198.18.0.2 (the \"rogue\"); client interface lab0 in netns ${name}-c" >&2
echo "\$ ip netns exec ${name}-c dhcptool discover lab0 --wait 2 --allow-server 198.18.0.1" >&2
ip netns exec "${name}-c" "${dhcptool[@]}" discover lab0 --wait 2 --allow-server 198.18.0.1 "$@"
code=$?
echo "exit status $code (0: offers seen, 3: none, 5: a server outside --allow-server answered)" >&2
case $code in 0|5) exit 0 ;; *) exit "$code" ;; esac
