#!/usr/bin/env bash
# The native receive path (native/rawsocket.ts) measured between two network namespaces
# of its own, joined by a veth pair: one-way latency of DHCP-sized broadcasts, idle CPU of
# a process holding an open RawSocket, and frames per second through onFrame under a flood.
# Progress goes to stderr, a Markdown table to stdout. The namespaces (dtrb-PID-a and
# dtrb-PID-b) and every process in them are removed on exit, whatever happened.
# Needs root. Knobs: IDLE_SECONDS (20), LATENCY_FRAMES (500), LATENCY_INTERVAL_MS (2),
# FLOOD_FRAMES (200000).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "bench: needs root (network namespaces, raw sockets)" >&2
  exit 1
fi
for tool in ip bun getconf; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing" >&2; exit 1; }
done
bash native/build.sh >/dev/null

ns_a="dtrb-$$-a"
ns_b="dtrb-$$-b"
runner=""

cleanup() {
  local status=$?
  trap - EXIT INT TERM HUP
  if [ -n "$runner" ] && kill -0 "$runner" 2>/dev/null; then
    kill -TERM "$runner" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$runner" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$runner" 2>/dev/null || true
  fi
  for ns in "$ns_a" "$ns_b"; do
    [ -e "/run/netns/$ns" ] || continue
    # Whatever still runs in our namespaces was started by this script: end it by PID.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    # Deleting a namespace takes its end of the veth pair, and so the pair, with it.
    ip netns del "$ns" 2>/dev/null || echo "bench: could not delete namespace $ns" >&2
  done
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

ip netns add "$ns_a"
ip netns add "$ns_b"
ip link add v0 netns "$ns_a" type veth peer name v1 netns "$ns_b"
for pair in "$ns_a v0" "$ns_b v1"; do
  set -- $pair
  # No IPv6 chatter (router solicitations, MLD) on the link while we measure; not fatal.
  ip netns exec "$1" sh -c "echo 1 > /proc/sys/net/ipv6/conf/$2/disable_ipv6" 2>/dev/null || true
  ip -n "$1" link set "$2" up
done

# In the background, so a signal reaches the trap at once rather than after the run.
bun bench/receive-run.ts "$ns_a" v0 "$ns_b" v1 &
runner=$!
wait "$runner"
