#!/usr/bin/env bash
# `dhcptool watch` under a paced DHCP flood, beside tcpdump and tshark on the same flood:
# packets received and decoded, the kernel's drops, packet lines written and dropped on the
# way out (watch's outputDropped), the receiver's CPU, then the RSS of watch --json over a
# longer flood. Two network namespaces of its own (dtwb-PID-a and
# dtwb-PID-b) joined by a veth pair; a scratch directory /dev/shm/dtwb-PID for outputs.
# Progress goes to stderr, a Markdown table to stdout. Namespaces, scratch directory and
# every process in them are removed on exit, whatever happened.
# Needs root, tcpdump and tshark. Knobs: RATE (100000 frames/s), SECONDS (10),
# SOAK_SECONDS (60; 0 skips the soak), SOAK_OUT (file | null), TOOLS ("watch tcpdump
# tshark"), CLIENTS (1024), XID_MODE (fresh | repeat). See bench/watch-run.ts.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "bench: needs root (network namespaces, raw sockets)" >&2
  exit 1
fi
for tool in ip bun tcpdump tshark getconf wc; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing" >&2; exit 1; }
done
bash native/build.sh >/dev/null

work="/dev/shm/dtwb-$$"
. bench/netns-pair.sh
netns_pair dtwb "$work"
run_bench bun bench/watch-run.ts "$ns_a" v0 "$ns_b" v1 "$work"
