#!/usr/bin/env bash
# Installs dhcptool for everyone on this machine, under $PREFIX (default /usr/local):
#   bin/dhcptool                                   the compiled binary (scripts/compile.sh)
#   share/man/man1/dhcptool.1                      its man page (dhcptool man)
#   share/bash-completion/completions/dhcptool     completions (dhcptool completion bash|zsh|fish)
#   share/zsh/site-functions/_dhcptool
#   share/fish/vendor_completions.d/dhcptool.fish
# and, as root, the system user and group `dhcptool` (no home, no shell) that dhcptool becomes
# once its sockets are open: its default --user, so that no other service's processes share its
# uid (as nobody's) and may signal it. dhcpcd has its `dhcpcd` user, dhcpleased `_dhcp`.
# The binary rather than a wrapper around bun: it builds in about a second, and sudo, ip netns
# exec and systemd find one file that needs nothing else (no bun on their PATH, no clone).
#
# `install.sh --uninstall` removes exactly what the install put there: share/dhcptool/installed
# lists each file with its checksum (a file changed since is left alone, and said so), each
# directory the install had to create (removed again once empty), and the account and group
# when the install created them (an account that was there before stays). Run by
# scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

prefix=${PREFIX:-/usr/local}
manifest=$prefix/share/dhcptool/installed
account=dhcptool # cli/privilege.ts looks for this name

say() { echo "setup: $*" >&2; }

uninstall() {
  if [[ ! -f $manifest ]]; then
    say "nothing to uninstall under $prefix (no $manifest)"
    return 0
  fi
  local kind rest sum path dirs=() remove_user="" remove_group=""
  while read -r kind rest; do
    case $kind in
      file) # file SHA256 PATH
        sum=${rest%% *} path=${rest#* }
        if [[ ! -e $path ]]; then continue; fi
        if [[ $(sha256sum < "$path" | cut -d' ' -f1) == "$sum" ]]; then rm -f -- "$path"; say "removed $path"
        else say "left $path: it changed since it was installed"; fi ;;
      dir) dirs+=("$rest") ;; # dir PATH
      user) remove_user=$rest ;; # user NAME
      group) remove_group=$rest ;; # group NAME
    esac
  done < "$manifest"
  rm -f -- "$manifest"
  # userdel may take the user's own group with it; a group that stays is removed after
  if [[ -n $remove_user ]] && getent passwd "$remove_user" >/dev/null; then
    if userdel -- "$remove_user"; then say "removed the user $remove_user"; else say "could not remove the user $remove_user"; fi
  fi
  if [[ -n $remove_group ]] && getent group "$remove_group" >/dev/null; then
    if groupdel -- "$remove_group"; then say "removed the group $remove_group"; else say "could not remove the group $remove_group"; fi
  fi
  # deepest first, so a parent is empty by the time its turn comes; one that is not stays
  local dir
  printf '%s\n' "${dirs[@]}" | awk '{ print length($0) "\t" $0 }' | sort -rn | cut -f2- |
    while IFS= read -r dir; do rmdir -- "$dir" 2>/dev/null || true; done
}

# mkdir -p that remembers which directories did not exist before (outermost first)
created=()
make_dir() {
  local dir=$1 missing=()
  while [[ ! -d $dir ]]; do missing=("$dir" "${missing[@]}"); dir=$(dirname -- "$dir"); done
  local d
  for d in "${missing[@]}"; do mkdir -m 0755 -- "$d"; created+=("$d"); done
}

# The account dhcptool runs as: created once, as a system user with a group of its own, no home
# and no login shell. Sets made_user / made_group when this install (or an earlier one, as its
# manifest says) created them, so that --uninstall removes only those.
made_user="" made_group=""
make_account() {
  if [[ -f $manifest ]]; then
    while read -r kind rest; do
      case $kind in user) made_user=$rest ;; group) made_group=$rest ;; esac
    done < "$manifest"
  fi
  if getent passwd "$account" >/dev/null; then return 0; fi
  if [[ $(id -u) != 0 ]] || ! command -v useradd >/dev/null; then
    say "no user $account here (it takes root and useradd): dhcptool will run as nobody"
    return 0
  fi
  local shell=/usr/sbin/nologin group_flag=(--user-group)
  [[ -x $shell ]] || shell=/sbin/nologin
  [[ -x $shell ]] || shell=/bin/false
  if getent group "$account" >/dev/null; then group_flag=(--gid "$account"); else made_group=$account; fi
  useradd --system --no-create-home --home-dir /nonexistent --shell "$shell" "${group_flag[@]}" \
    --comment "dhcptool (DHCP diagnostics)" -- "$account"
  made_user=$account
  say "created the system user $account (uid $(id -u "$account"))"
}

files=()
# put SRC DEST MODE: install one file and remember it with its checksum
put() {
  make_dir "$(dirname -- "$2")"
  install -m "$3" -- "$1" "$2"
  files+=("file $(sha256sum < "$2" | cut -d' ' -f1) $2")
  say "installed $2"
}

install_all() {
  if [[ ! -w $prefix && $(id -u) != 0 ]] && ! mkdir -p -- "$prefix" 2>/dev/null; then
    say "cannot write to $prefix: run as root (sudo), or choose another PREFIX=DIR"
    exit 1
  fi
  bash scripts/compile.sh >&2
  local bin=dist/dhcptool
  tmp=$(mktemp -d) # global: the EXIT trap outlives this function
  trap 'rm -rf "$tmp"' EXIT
  "$bin" man > "$tmp/dhcptool.1"
  for shell in bash zsh fish; do "$bin" completion "$shell" > "$tmp/$shell"; done
  # directories an earlier install created stay ours
  if [[ -f $manifest ]]; then
    while read -r kind rest; do if [[ $kind == dir ]]; then created+=("$rest"); fi; done < "$manifest"
  fi
  make_account
  put "$bin" "$prefix/bin/dhcptool" 0755
  put "$tmp/dhcptool.1" "$prefix/share/man/man1/dhcptool.1" 0644
  put "$tmp/bash" "$prefix/share/bash-completion/completions/dhcptool" 0644
  put "$tmp/zsh" "$prefix/share/zsh/site-functions/_dhcptool" 0644
  put "$tmp/fish" "$prefix/share/fish/vendor_completions.d/dhcptool.fish" 0644
  make_dir "$(dirname -- "$manifest")"
  {
    local d
    for d in "${created[@]}"; do echo "dir $d"; done | awk '!seen[$0]++'
    printf '%s\n' "${files[@]}"
    if [[ -n $made_user ]]; then echo "user $made_user"; fi
    if [[ -n $made_group ]]; then echo "group $made_group"; fi
  } > "$manifest.tmp"
  mv -f -- "$manifest.tmp" "$manifest"
}

case ${1:-} in
  --uninstall) uninstall ;;
  "") install_all ;;
  *) echo "usage: [PREFIX=DIR] bash scripts/install.sh [--uninstall]" >&2; exit 2 ;;
esac
