#!/usr/bin/env bash
# Build fuzz/fuzz_encode.c with libFuzzer, ASan and UBSan, write the seed
# corpus, fuzz for SECONDS (default 60), print the number of executions,
# and exit non-zero if the fuzzer found a crash. See fuzz/README.md.
#
#   fuzz/run.sh [SECONDS] [-- LIBFUZZER_ARGS...]
#
# SECONDS 0 builds and writes the seeds only.
#
# Environment:
#   CLANG       clang to build with (default: clang, else the newest
#               /usr/lib/llvm-*/bin/clang)
#   PYTHON      python for make_seeds.py (default: python3; without pydicom
#               it writes the synthetic seeds only)
#   FUZZ_WORK   work directory: binary, corpus, crashes, log
#               (default: build/fuzz in the repository)
#   FUZZ_CFLAGS extra compiler flags, e.g. -DFUZZ_ALLOW_STALE_LENGTH_ON_NULL
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=60
if (($#)) && [[ $1 != -- ]]; then
    seconds=$1
    shift
fi
[[ $seconds =~ ^[0-9]+$ ]] || { echo "usage: $0 [SECONDS] [-- LIBFUZZER_ARGS...]" >&2; exit 2; }
if (($#)) && [[ $1 == -- ]]; then
    shift
fi
extra=("$@")

# The element walker (fuzz_walk.c) gets a third of the time, after the kernel.
walk_seconds=$((seconds / 3))
seconds=$((seconds - walk_seconds))

work=${FUZZ_WORK:-$repo/build/fuzz}
python=${PYTHON:-python3}

clang=${CLANG:-}
if [[ -z $clang ]]; then
    if command -v clang >/dev/null; then
        clang=clang
    else
        clang=$(ls -d /usr/lib/llvm-*/bin/clang 2>/dev/null | sort -V | tail -n 1 || true)
    fi
fi
if [[ -z $clang ]]; then
    echo "error: no clang; on Debian: apt-get install clang libclang-rt-dev" \
        "(or clang-14 libclang-rt-14-dev)" >&2
    exit 2
fi

mkdir -p "$work/corpus" "$work/artifacts"
bin=$work/fuzz_encode
seeds=$work/seeds

echo "== building $bin with $clang"
# shellcheck disable=SC2086 # FUZZ_CFLAGS is a list of flags
"$clang" -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -O1 -g -std=c99 -Wall -Wextra ${FUZZ_CFLAGS:-} \
    -I"$repo/csrc" "$repo/fuzz/fuzz_encode.c" "$repo"/csrc/*.c -o "$bin"

echo "== writing seeds to $seeds"
rm -rf "$seeds"
"$python" "$repo/fuzz/make_seeds.py" "$seeds"

echo "== replaying the inputs that once failed (fuzz/crashes)"
"$bin" "$repo"/fuzz/crashes/* >"$work/replay.log" 2>&1 || {
    cat "$work/replay.log"
    echo "== FAILED: a past crash is back" >&2
    exit 1
}

# libFuzzer reads -max_total_time=0 as "no limit": 0 here means build only.
if ((seconds == 0)); then
    echo "== built; not fuzzing (SECONDS is 0)"
    exit 0
fi

log=$work/fuzz.log
before=$(find "$work/artifacts" -type f | wc -l)
echo "== fuzzing for $seconds s (log: $log)"
set +e
# The corpus directory comes first: libFuzzer adds new inputs to it, and it
# grows from run to run. Seeds are read only.
ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
    "$bin" -max_total_time="$seconds" -print_final_stats=1 \
    -max_len=8192 -timeout=20 -rss_limit_mb=2048 \
    -artifact_prefix="$work/artifacts/" "${extra[@]}" \
    "$work/corpus" "$seeds" >"$log" 2>&1
rc=$?
set -e

grep -E '^stat::' "$log" || true
execs=$(awk '/^stat::number_of_executed_units:/ { print $2 }' "$log")
after=$(find "$work/artifacts" -type f | wc -l)
if ((rc != 0)) || ((after > before)); then
    echo "== FAILED: exit code $rc; the report:" >&2
    grep -E -A 20 'fuzz_encode: |ERROR: |runtime error' "$log" | head -n 60 >&2 || tail -n 60 "$log" >&2
    grep -E 'Test unit written to' "$log" >&2 || true
    echo "reproduce with: $bin FILE   (see fuzz/README.md)" >&2
    exit 1
fi
echo "== clean: ${execs:-?} executions in $seconds s, corpus $(find "$work/corpus" -type f | wc -l) inputs"

# --- the element walker: csrc/dcm_walk.c -----------------------------------
walk_bin=$work/fuzz_walk
walk_work=$work/walk
mkdir -p "$walk_work/corpus" "$walk_work/artifacts"
echo "== building $walk_bin"
# shellcheck disable=SC2086
"$clang" -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -O1 -g -std=c99 -Wall -Wextra ${FUZZ_CFLAGS:-} \
    -I"$repo/csrc" "$repo/fuzz/fuzz_walk.c" "$repo/csrc/dcm_walk.c" -o "$walk_bin"
rm -rf "$walk_work/seeds"
"$python" "$repo/fuzz/make_walk_seeds.py" "$walk_work/seeds"
if ((walk_seconds == 0)); then
    exit 0
fi
log=$walk_work/fuzz.log
before=$(find "$walk_work/artifacts" -type f | wc -l)
echo "== fuzzing the walker for $walk_seconds s (log: $log)"
set +e
ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
    "$walk_bin" -max_total_time="$walk_seconds" -print_final_stats=1 \
    -max_len=8192 -timeout=20 -rss_limit_mb=2048 \
    -artifact_prefix="$walk_work/artifacts/" "${extra[@]}" \
    "$walk_work/corpus" "$walk_work/seeds" >"$log" 2>&1
rc=$?
set -e
grep -E '^stat::' "$log" || true
after=$(find "$walk_work/artifacts" -type f | wc -l)
if ((rc != 0)) || ((after > before)); then
    echo "== FAILED (walker): exit code $rc; the report:" >&2
    grep -E -A 20 'fuzz_walk: |ERROR: |runtime error' "$log" | head -n 60 >&2 || tail -n 60 "$log" >&2
    grep -E 'Test unit written to' "$log" >&2 || true
    exit 1
fi
echo "== walker clean: $(awk '/^stat::number_of_executed_units:/ { print $2 }' "$log") executions in $walk_seconds s"
