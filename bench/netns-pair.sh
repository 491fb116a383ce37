# Sourced by the benches that need two namespaces joined by a veth pair (receive, watch).
# Call: netns_pair PREFIX [SCRATCH_DIR]; then run_bench CMD ARGS... . Makes PREFIX-PID-a
# (v0) and PREFIX-PID-b (v1), IPv6 off, links up; on exit, however it comes, ends the
# runner and whatever runs in the two namespaces by PID, deletes them and the scratch dir.

runner=""
scratch=""

netns_cleanup() {
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
  [ -n "$scratch" ] && rm -rf "$scratch"
  exit "$status"
}

netns_pair() {
  ns_a="$1-$$-a"
  ns_b="$1-$$-b"
  scratch="${2:-}"
  trap netns_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
  [ -n "$scratch" ] && mkdir -p "$scratch"
  ip netns add "$ns_a"
  ip netns add "$ns_b"
  ip link add v0 netns "$ns_a" type veth peer name v1 netns "$ns_b"
  for pair in "$ns_a v0" "$ns_b v1"; do
    set -- $pair
    # No IPv6 chatter (router solicitations, MLD) on the link while we measure; not fatal.
    ip netns exec "$1" sh -c "echo 1 > /proc/sys/net/ipv6/conf/$2/disable_ipv6" 2>/dev/null || true
    ip -n "$1" link set "$2" up
  done
}

# In the background, so a signal reaches the trap at once rather than after the run.
run_bench() {
  "$@" &
  runner=$!
  wait "$runner"
}
