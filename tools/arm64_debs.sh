#!/usr/bin/env bash
# Downloads Debian arm64 packages and unpacks them into a folder, through an
# apt state of its own (the machine's dpkg architectures are left alone).
# Usage: tools/arm64_debs.sh SYSROOT PACKAGE...
set -euo pipefail
sysroot=$1; shift
state=$(cd "$(dirname "$0")/.." && pwd)/build/wheel-tools/apt-arm64
mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/debs" "$sysroot"
apt=(apt-get -q -o APT::Architecture=arm64 -o APT::Architectures::=arm64
     -o Dir::State::Lists="$state/lists" -o Dir::Cache="$state/cache"
     -o APT::Sandbox::User=root)
if [ -z "$(find "$state/lists" -maxdepth 1 -name '*arm64_Packages*' -mmin -1440)" ]; then
    "${apt[@]}" update >/dev/null
fi
cd "$state/debs"
for pkg in "$@"; do
    version=$(apt-cache -o APT::Architecture=arm64 -o Dir::State::Lists="$state/lists" \
        -o Dir::Cache="$state/cache" policy "$pkg:arm64" | awk '/Candidate:/ {print $2}')
    [ -n "$version" ] && [ "$version" != "(none)" ] || { echo "no arm64 package $pkg" >&2; exit 1; }
    deb=$(printf '%s_%s_arm64.deb' "$pkg" "${version//:/%3a}")
    [ -f "$deb" ] || "${apt[@]}" download "$pkg:arm64" >/dev/null
    dpkg -x "$deb" "$sysroot"
done
