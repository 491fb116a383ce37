#!/usr/bin/env bash
# `dhcptool watch` under a paced DHCP flood, beside tcpdump and tshark on the same flood:
# packets decoded per second, the kernel's drops, the receiver's CPU, then the RSS of
# watch --json over a longer flood. Two network namespaces of its own (dtwb-PID-a and
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

ns_a="dtwb-$$-a"
ns_b="dtwb-$$-b"
work="/dev/shm/dtwb-$$"
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
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

mkdir -p "$work"
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
bun bench/watch-run.ts "$ns_a" v0 "$ns_b" v1 "$work" &
runner=$!
wait "$runner"
