#!/usr/bin/env bash
# Builds native/build/libdhcptool.so from native/*.c with the system C
# compiler. Idempotent: does nothing when the .so is newer than every source.
# Run by `bun run build` (scripts/setup.sh, scripts/test.sh, scripts/compile.sh, npm pack).
set -euo pipefail

script="${BASH_SOURCE[0]}"
[[ "$script" == */* ]] || script="./$script"
native_dir="$(cd "${script%/*}" && pwd)"
out_dir="$native_dir/build"
out="$out_dir/libdhcptool.so"

sources=("$native_dir"/*.c)
up_to_date=1
[[ -f "$out" ]] || up_to_date=0
for f in "${sources[@]}" "$native_dir"/*.h; do
	[[ "$f" -nt "$out" ]] && up_to_date=0
done
if [[ $up_to_date == 1 ]]; then
	echo "dhcptool: native shim is up to date ($out)"
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
# Compile to a temporary name and rename, so a failed or interrupted build
# never leaves a half-written library where the loader would find it.
tmp="$(mktemp "$out_dir/.libdhcptool.XXXXXX.so")"
trap 'rm -f "$tmp"' EXIT
# Only the dt_* functions marked EXPORT are visible; the rest stays inside the library.
"$compiler" -O2 -Wall -Wextra -fPIC -shared -pthread -fvisibility=hidden -o "$tmp" "${sources[@]}"
chmod 0755 "$tmp" # mktemp made it 0600; other users must be able to load it
mv -f "$tmp" "$out"
trap - EXIT
echo "dhcptool: built $out with $compiler"
