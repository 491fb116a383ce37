#!/usr/bin/env bash
# Sets a Linux machine up for dhcptool: Bun, the C compiler for the native shim, iproute2 and
# dnsmasq for the lab; with --dev also what the tests and benchmarks use (the lab's other
# servers: Kea, ISC dhcpd, busybox udhcpd; ISC dhcrelay for the routed lab; tshark, tcpdump,
# busybox udhcpc, hyperfine; Kea's perfdhcp (kea-admin) for bench/load.ts; util-linux's script
# (a pty for the terminal tests) and jq (the README's examples); a Prometheus server and
# promtool for the metrics test; what the
# shipping tests check with: man-db, groff, zsh, fish, systemd-analyze, strace, sudo). Then
# installs dependencies, builds the shim and the compiled binary, and installs dhcptool under
# $PREFIX (default /usr/local: the command, its man page, bash/zsh/fish completions;
# scripts/install.sh). Needs root for the packages and /usr/local; safe to run again (it
# installs only what is missing).
#   bash scripts/setup.sh [--dev]      set up (and install)
#   bash scripts/setup.sh --uninstall  remove what the install put under $PREFIX, nothing else
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
case "${1:-}" in
  --dev) dev=1 ;;
  --uninstall) exec bash scripts/install.sh --uninstall ;;
  "") ;;
  *) echo "usage: bash scripts/setup.sh [--dev | --uninstall]" >&2; exit 2 ;;
esac

packages=(iproute2 dnsmasq-base gcc libc6-dev)
commands=(ip dnsmasq cc cc)
if [ $dev = 1 ]; then
  # busybox brings udhcpd (an applet; the lab runs it through a symlink), so the udhcpd
  # package, which adds only a symlink and a system service, is not needed
  packages+=(kea-dhcp4-server isc-dhcp-server isc-dhcp-relay tcpdump tshark busybox hyperfine libcap2-bin prometheus kea-admin
    man-db groff-base zsh fish systemd strace sudo util-linux jq)
  commands+=(kea-dhcp4 dhcpd dhcrelay tcpdump tshark busybox hyperfine setcap prometheus perfdhcp
    man groff zsh fish systemd-analyze strace sudo script jq)
fi
command -v npm >/dev/null || { packages+=(npm); commands+=(npm); }

missing=()
for i in "${!packages[@]}"; do
  if [ "${packages[$i]}" = libc6-dev ]; then
    [ -f /usr/include/stdio.h ] || missing+=(libc6-dev)  # the headers, not a command
  else
    command -v "${commands[$i]}" >/dev/null 2>&1 || missing+=("${packages[$i]}")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: need root to install: ${missing[*]} (run with sudo)" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Server packages (Kea, ISC dhcpd, dhcrelay) must not start a system-wide service on the host's
  # network: the lab runs its own servers inside namespaces. policy-rc.d answering 101 forbids it.
  policy_added=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && policy_added=1
  fi
  trap 'if [ $policy_added = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi' EXIT
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian's server packages also enable their services for the next boot. A DHCP server or
  # relay started on the host's own network would be a rogue server there, and the lab runs
  # its own servers (and Prometheus) inside namespaces: what this run installed is switched off
  # (a package that was already here is the user's and stays as it was).
  if command -v systemctl >/dev/null 2>&1; then
    for service in kea-dhcp4-server isc-dhcp-server isc-dhcp-relay prometheus; do
      if [[ " ${missing[*]} " == *" $service "* ]]; then
        systemctl disable --quiet "$service.service" >/dev/null 2>&1 || true
      fi
    done
  fi
fi

if ! command -v bun >/dev/null 2>&1; then
  echo "setup: installing bun from the npm registry" >&2
  npm install -g --silent bun >/dev/null
fi

bun install --frozen-lockfile
bun run build
bash scripts/install.sh
echo "setup: ready ($(bun --version), $(cc --version | head -1)); try: dhcptool --version" >&2
