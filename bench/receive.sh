#!/usr/bin/env bash
# The native receive path (native/rawsocket.ts) measured between two network namespaces
# of its own, joined by a veth pair: one-way latency of DHCP-sized broadcasts, idle CPU of
# a process holding an open RawSocket, and frames per second through onFrame under a flood
# (through recvmmsg() and through the socket's TPACKET_V3 ring).
# Progress goes to stderr, a Markdown table to stdout. The namespaces (dtrb-PID-a and
# dtrb-PID-b) and every process in them are removed on exit, whatever happened.
# Needs root. Knobs: IDLE_SECONDS (20), LATENCY_FRAMES (500), LATENCY_INTERVAL_MS (2),
# FLOOD_FRAMES (200000), FLOOD_SENDERS (2), RX_PATHS ("recvmmsg ring").
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

. bench/netns-pair.sh
netns_pair dtrb
run_bench bun bench/receive-run.ts "$ns_a" v0 "$ns_b" v1
