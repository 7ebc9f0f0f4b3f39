#!/usr/bin/env bash
# The C core, encoder and decoder, on other CPUs: tools/cross/check.c built
# with csrc/ for x86-64 (also without SIMD, and under ASan + UBSan with the
# 64-bit word path and with the byte-wise path of big-endian hosts), aarch64
# and s390x (big-endian) under qemu-user, and x86-64 Windows (mingw-w64)
# under wine. Every target must report 0 differences and the same digest.
#
#     tools/cross/run.sh [--sanitize-aarch64]
#
# Installs what it lacks (apt-get, and pip into build/cross-venv); run as
# root on Debian 12. --sanitize-aarch64 adds an ASan + UBSan build for
# aarch64 under qemu (about 80 s more).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/build/cross
SANITIZE_AARCH64=0
[[ ${1:-} == --sanitize-aarch64 ]] && SANITIZE_AARCH64=1

now() { date +%s.%N; }
since() { printf '%.1f s' "$(echo "$(now) - $1" | bc)"; }
step() { printf '\n=== %s ===\n' "$*"; }
START=$(now)

step "Debian packages: cross compilers, qemu-user, mingw-w64, wine"
T=$(now)
need=()
command -v bc >/dev/null || need+=(bc)
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
command -v s390x-linux-gnu-gcc >/dev/null || need+=(gcc-s390x-linux-gnu libc6-dev-s390x-cross)
command -v x86_64-w64-mingw32-gcc >/dev/null || need+=(gcc-mingw-w64-x86-64)
command -v qemu-aarch64 >/dev/null && command -v qemu-s390x >/dev/null || need+=(qemu-user)
command -v wine >/dev/null || need+=(wine wine64)
command -v gcc >/dev/null || need+=(gcc libc6-dev)
if ((${#need[@]})); then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 \
        "${need[@]}" >/dev/null
fi
echo "packages: $(since "$T")"

step "Vectors: corpus, golden and malformed frames (Python, pydicom)"
T=$(now)
VENV=$ROOT/build/cross-venv
if ! "$VENV/bin/python" -c "import pydicom, numpy, pytest, data_store" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q pydicom numpy pytest pydicom-data
fi
mkdir -p "$OUT"
"$VENV/bin/python" tools/cross/make_vectors.py "$OUT/vectors.bin"
echo "vectors: $(since "$T")"

step "Build"
T=$(now)
SOURCES=(rle.c rle_scalar.c rle_isa.c rle_encode.c rle_encode_fast.c rle_decode.c rle_decode_fast.c)
SOURCES=("${SOURCES[@]/#/$ROOT/csrc/}")
# meson.build: buildtype=release (-O3), c_std=c99, warning_level=2.
FLAGS=(-std=c99 -O3 -Wall -Wextra -I"$ROOT/csrc")
SAN=(-std=c99 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -I"$ROOT/csrc")
build() { # name compiler flags...
    local name=$1 cc=$2
    shift 2
    "$cc" "$@" -o "$OUT/$name" tools/cross/check.c "${SOURCES[@]}"
}
build check-x86_64 gcc "${FLAGS[@]}"
build check-x86_64-nosimd gcc "${FLAGS[@]}" -DDICOMRLE_NO_SIMD
build check-x86_64-asan gcc "${SAN[@]}"
# Without __BYTE_ORDER__ the portable path is the byte-wise one that
# big-endian hosts run: here under ASan, which qemu-s390x cannot give.
build check-x86_64-asan-bytewise gcc "${SAN[@]}" -U__BYTE_ORDER__
build check-aarch64 aarch64-linux-gnu-gcc "${FLAGS[@]}"
build check-s390x s390x-linux-gnu-gcc "${FLAGS[@]}"
build check-win64.exe x86_64-w64-mingw32-gcc "${FLAGS[@]}" -static
# As MSVC compiles it: no __BYTE_ORDER__, the word path chosen by _WIN32.
build check-win64-msvc-order.exe x86_64-w64-mingw32-gcc "${FLAGS[@]}" -static -U__BYTE_ORDER__
((SANITIZE_AARCH64)) && build check-aarch64-asan aarch64-linux-gnu-gcc "${SAN[@]}"
echo "build: $(since "$T")"

step "Run"
export WINEPREFIX=$OUT/wine-prefix WINEDEBUG=-all ASAN_OPTIONS=detect_leaks=0
runs=(
    "x86-64|./check-x86_64"
    "x86-64 -DDICOMRLE_NO_SIMD|./check-x86_64-nosimd"
    "x86-64 ASan+UBSan|./check-x86_64-asan"
    "x86-64 ASan+UBSan byte-wise|./check-x86_64-asan-bytewise"
    "aarch64 (qemu)|qemu-aarch64 -L /usr/aarch64-linux-gnu ./check-aarch64"
    "s390x (qemu)|qemu-s390x -L /usr/s390x-linux-gnu ./check-s390x"
    "x86-64 Windows (wine)|wine ./check-win64.exe"
    "x86-64 Windows, no __BYTE_ORDER__ (wine)|wine ./check-win64-msvc-order.exe"
)
((SANITIZE_AARCH64)) && runs+=("aarch64 ASan+UBSan (qemu)|qemu-aarch64 -L /usr/aarch64-linux-gnu ./check-aarch64-asan")
cd "$OUT"
failed=0
summary=()
digests=()
for run in "${runs[@]}"; do
    label=${run%%|*}
    T=$(now)
    log="log-${label//[^A-Za-z0-9]/_}.txt"
    if ${run#*|} vectors.bin >"$log" 2>&1; then status=0; else status=$?; fi
    if [[ ${run#*|} == wine* ]]; then
        # One wineserver at a time: a run that starts while the last one's
        # server shuts down can lose its connection ("wine client error").
        # That is wine's failure, not a difference: run it once more.
        if ((status)) && grep -q 'wine client error' "$log"; then
            wineserver -k 2>/dev/null || true
            wineserver -w
            if ${run#*|} vectors.bin >"$log" 2>&1; then status=0; else status=$?; fi
        fi
        wineserver -w
    fi
    took=$(since "$T")
    sed -i 's/\r$//' "$log" # wine's line ends
    line=$(grep -E '^[^ ].*: [0-9]+ checks, [0-9]+ differences$' "$log" || true)
    digest=$(sed -n 's/^  digest //p' "$log")
    if ((status)) || ! grep -q ' 0 differences$' <<<"$line"; then
        failed=1
        echo "FAILED: $label"
        cat "$log"
    fi
    summary+=("$(printf '%-30s %-45s digest %s  %s' "$label" "${line#*: }" "${digest:-none}" "$took")")
    digests+=("${digest:-none}")
    grep -E '^(  |[^ ].*instruction sets)' "$log" | sed "s/^/[$label] /"
done
cd "$ROOT"

step "Summary"
printf '%s\n' "${summary[@]}"
if [[ $(printf '%s\n' "${digests[@]}" | sort -u | wc -l) -ne 1 ]]; then
    echo "the targets' digests differ: the scalar reference gave different bytes"
    failed=1
fi
echo "total: $(since "$START")"
exit $failed
