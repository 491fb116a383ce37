#!/usr/bin/env bash
# Builds native/build/libdhcptool.so from native/*.c and the resident client's privileged
# helper native/build/dhcptool-priv from native/helper/*.c, with the system C compiler.
# Idempotent: does nothing when both are newer than every source.
# Run by `bun run build` (scripts/setup.sh, scripts/test.sh, scripts/compile.sh, npm pack).
set -euo pipefail

script="${BASH_SOURCE[0]}"
[[ "$script" == */* ]] || script="./$script"
native_dir="$(cd "${script%/*}" && pwd)"
out_dir="$native_dir/build"
out="$out_dir/libdhcptool.so"
helper="$out_dir/dhcptool-priv"

sources=("$native_dir"/*.c)
helper_sources=("$native_dir"/helper/*.c)
up_to_date=1
[[ -f "$out" && -f "$helper" ]] || up_to_date=0
for f in "${sources[@]}" "$native_dir"/*.h "${helper_sources[@]}" "$native_dir"/helper/*.h; do
	[[ "$f" -nt "$out" || "$f" -nt "$helper" ]] && up_to_date=0
done
if [[ $up_to_date == 1 ]]; then
	echo "dhcptool: native shim is up to date ($out, $helper)"
	exit 0
fi

compiler=""
for candidate in "${CC:-}" cc gcc clang; do
	if [[ -n "$candidate" ]] && command -v "$candidate" >/dev/null 2>&1; then
		compiler="$candidate"
		break
	fi
done
if [[ -z "$compiler" ]]; then
	{
		echo 'dhcptool: error: no C compiler found (tried $CC, cc, gcc, clang).'
		echo 'The native raw-socket shim must be compiled once. Install a compiler and the'
		echo 'C library headers (Debian/Ubuntu: apt-get install gcc libc6-dev), then run:'
		echo '    bun run build'
	} >&2
	exit 1
fi

mkdir -p "$out_dir"
# Compile to temporary names and rename, so a failed or interrupted build
# never leaves a half-written file where the loader would find it.
tmp="$(mktemp "$out_dir/.libdhcptool.XXXXXX.so")"
tmp_helper="$(mktemp "$out_dir/.dhcptool-priv.XXXXXX")"
trap 'rm -f "$tmp" "$tmp_helper"' EXIT
# Only the dt_* functions marked EXPORT are visible; the rest stays inside the library.
"$compiler" -O2 -Wall -Wextra -fPIC -shared -pthread -fvisibility=hidden -o "$tmp" "${sources[@]}"
# The helper runs as root: hardened like a system daemon.
"$compiler" -O2 -Wall -Wextra -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE -pie -Wl,-z,relro,-z,now \
	-o "$tmp_helper" "${helper_sources[@]}"
chmod 0755 "$tmp" "$tmp_helper" # mktemp made them 0600; other users must be able to load the library
mv -f "$tmp" "$out"
mv -f "$tmp_helper" "$helper"
trap - EXIT
echo "dhcptool: built $out and $helper with $compiler"
