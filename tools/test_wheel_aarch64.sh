#!/usr/bin/env bash
# Tests the aarch64 wheel from dist/ under emulation: Debian's CPython 3.11
# for arm64 unpacked into a sysroot (dpkg -x) and run by qemu-aarch64 -L,
# NumPy, pydicom and pydicom-data from PyPI's aarch64 wheels, our wheel
# unpacked beside them; tools/aarch64_roundtrip.py runs the encoder and
# decoder round trips over the corpus and the malformed frames there and on
# x86-64 (the cp311 x86-64 wheel, the same NumPy and pydicom), and the two
# digests of outcomes must be the same.
# Usage: bash tools/test_wheel_aarch64.sh    (after tools/build_wheels.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$root/build/wheel-test-aarch64
sysroot=$work/sysroot site=$work/site
start=$SECONDS

find_python() {
    local full
    if command -v pyenv >/dev/null && full=$(pyenv latest "$1" 2>/dev/null); then
        echo "$(pyenv root)/versions/$full/bin/python"
    else
        command -v "python$1"
    fi
}

shopt -s nullglob
aarch64=(dist/dicomrle-*-cp311-cp311-manylinux2014_aarch64*.whl)
x86=(dist/dicomrle-*-cp311-cp311-manylinux2014_x86_64*.whl)
[ ${#aarch64[@]} -eq 1 ] && [ ${#x86[@]} -eq 1 ] \
    || { echo "dist/ needs one cp311 wheel each for aarch64 and x86-64: run tools/build_wheels.sh" >&2; exit 1; }
command -v qemu-aarch64 >/dev/null || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user >/dev/null
}
python311=$(find_python 3.11)
rm -rf "$work" && mkdir -p "$work/wheels" "$site"

echo "=== CPython 3.11 for arm64 from Debian, into build/wheel-test-aarch64/sysroot"
bash tools/arm64_debs.sh "$sysroot" libc6 libgcc-s1 libstdc++6 python3.11-minimal \
    libpython3.11-minimal libpython3.11-stdlib libssl3 libexpat1 zlib1g libffi8 \
    libbz2-1.0 liblzma5 libcrypt1 libuuid1
python_arm=(qemu-aarch64 -L "$sysroot" "$sysroot/usr/bin/python3.11")
"${python_arm[@]}" -c 'import platform, sys; print(platform.machine(), sys.version)'

echo "=== aarch64 wheels: ours and its requirements, pydicom-data, pytest (tests/support imports it)"
"$python311" -m pip download -q --only-binary=:all: --python-version 3.11 \
    --implementation cp --abi cp311 --platform manylinux2014_aarch64 \
    --platform manylinux_2_28_aarch64 -d "$work/wheels" "$root/${aarch64[0]}" pydicom-data pytest
for wheel in "$work"/wheels/*.whl; do
    "$python311" -m zipfile -e "$wheel" "$site"
done
# The same versions on x86-64, for the digest to compare with.
pins=()
for wheel in "$work"/wheels/*.whl; do
    name=$(basename "$wheel" | cut -d- -f1) version=$(basename "$wheel" | cut -d- -f2)
    [ "$name" = dicomrle ] || pins+=("${name//_/-}==$version")
done
echo "${pins[*]}"
"$python311" -m venv "$work/x86-venv"
"$work/x86-venv/bin/pip" install -q "$root/${x86[0]}" "${pins[@]}"
setup=$((SECONDS - start))

echo "=== round trips on x86-64"
t=$SECONDS
PYTHONPATH=$root/tests "$work/x86-venv/bin/python" -W ignore tools/aarch64_roundtrip.py \
    --digest "$work/digest-x86_64.json"
x86_time=$((SECONDS - t))

echo "=== round trips on aarch64 (qemu-aarch64)"
t=$SECONDS
PYTHONPATH=$site:$root/tests PYTHONNOUSERSITE=1 "${python_arm[@]}" -W ignore \
    tools/aarch64_roundtrip.py --digest "$work/digest-aarch64.json"
arm_time=$((SECONDS - t))

if ! cmp -s "$work/digest-x86_64.json" "$work/digest-aarch64.json"; then
    diff "$work/digest-x86_64.json" "$work/digest-aarch64.json" | head -40
    echo "aarch64 and x86-64 differ" >&2
    exit 1
fi
echo
echo "aarch64 and x86-64 give the same $(grep -c ': ' "$work/digest-aarch64.json") outcomes"
echo "setup ${setup} s, x86-64 run ${x86_time} s, aarch64 run under qemu ${arm_time} s, total $((SECONDS - start)) s"
