#!/usr/bin/env bash
# Installs dhcptool for everyone on this machine, under $PREFIX (default /usr/local):
#   bin/dhcptool                                   the compiled binary (scripts/compile.sh)
#   share/man/man1/dhcptool.1                      its man page (dhcptool man)
#   share/bash-completion/completions/dhcptool     completions (dhcptool completion bash|zsh|fish)
#   share/zsh/site-functions/_dhcptool
#   share/fish/vendor_completions.d/dhcptool.fish
# The binary rather than a wrapper around bun: it builds in about a second, and sudo, ip netns
# exec and systemd find one file that needs nothing else (no bun on their PATH, no clone).
#
# `install.sh --uninstall` removes exactly what the install put there: share/dhcptool/installed
# lists each file with its checksum (a file changed since is left alone, and said so) and each
# directory the install had to create (removed again once empty). Run by scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

prefix=${PREFIX:-/usr/local}
manifest=$prefix/share/dhcptool/installed

say() { echo "setup: $*" >&2; }

uninstall() {
  if [[ ! -f $manifest ]]; then
    say "nothing to uninstall under $prefix (no $manifest)"
    return 0
  fi
  local kind rest sum path dirs=()
  while read -r kind rest; do
    case $kind in
      file) # file SHA256 PATH
        sum=${rest%% *} path=${rest#* }
        if [[ ! -e $path ]]; then continue; fi
        if [[ $(sha256sum < "$path" | cut -d' ' -f1) == "$sum" ]]; then rm -f -- "$path"; say "removed $path"
        else say "left $path: it changed since it was installed"; fi ;;
      dir) dirs+=("$rest") ;; # dir PATH
    esac
  done < "$manifest"
  rm -f -- "$manifest"
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
  } > "$manifest.tmp"
  mv -f -- "$manifest.tmp" "$manifest"
}

case ${1:-} in
  --uninstall) uninstall ;;
  "") install_all ;;
  *) echo "usage: [PREFIX=DIR] bash scripts/install.sh [--uninstall]" >&2; exit 2 ;;
esac
