#!/usr/bin/env bash
# Build fuzz/fuzz_encode.c, fuzz/fuzz_decode.c and fuzz/fuzz_walk.c with
# libFuzzer, ASan and UBSan, write their seed corpora, replay the past
# crashes, fuzz for SECONDS in all (default 60: a third each for the encoder,
# the decoder and the element walker), print each fuzzer's number of
# executions, and exit non-zero if any found a crash.
# See fuzz/README.md.
#
#   fuzz/run.sh [SECONDS] [-- LIBFUZZER_ARGS...]
#
# SECONDS 0 builds, writes the seeds and replays the crashes only.
#
# Environment:
#   CLANG       clang to build with (default: clang, else the newest
#               /usr/lib/llvm-*/bin/clang)
#   PYTHON      python for make_seeds.py (default: python3; without pydicom
#               it writes the synthetic seeds only)
#   FUZZ_WORK   work directory: binaries, corpora, crashes, logs
#               (default: build/fuzz in the repository; the decoder's and
#               the walker's corpus, artifacts and log are in decode/ and
#               walk/ under it)
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
for dir in decode walk; do
    mkdir -p "$work/$dir/corpus" "$work/$dir/artifacts"
done
flags=(-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
       -O1 -g -std=c99 -Wall -Wextra)
kernel=("$repo"/csrc/rle*.c)
for name in encode decode walk; do
    echo "== building $work/fuzz_$name with $clang"
    sources=("${kernel[@]}")
    [[ $name == walk ]] && sources=("$repo/csrc/dcm_walk.c")
    # shellcheck disable=SC2086 # FUZZ_CFLAGS is a list of flags
    "$clang" "${flags[@]}" ${FUZZ_CFLAGS:-} \
        -I"$repo/csrc" "$repo/fuzz/fuzz_$name.c" "${sources[@]}" -o "$work/fuzz_$name"
done

echo "== writing seeds to $work/seeds, $work/decode/seeds and $work/walk/seeds"
rm -rf "$work/seeds" "$work/decode/seeds" "$work/walk/seeds"
"$python" "$repo/fuzz/make_seeds.py" "$work/seeds"
"$python" "$repo/fuzz/make_decode_seeds.py" "$work/decode/seeds"
"$python" "$repo/fuzz/make_walk_seeds.py" "$work/walk/seeds"

# Encoder reproducers are the files of fuzz/crashes, decoder ones those of
# fuzz/crashes/decode.
echo "== replaying the inputs that once failed (fuzz/crashes)"
replay() {
    local bin=$1 dir=$2
    local files=()
    [[ -d $dir ]] || return 0
    mapfile -t files < <(find "$dir" -maxdepth 1 -type f | sort)
    ((${#files[@]})) || return 0
    "$bin" "${files[@]}" >>"$work/replay.log" 2>&1
}
: >"$work/replay.log"
if ! replay "$work/fuzz_encode" "$repo/fuzz/crashes" ||
   ! replay "$work/fuzz_decode" "$repo/fuzz/crashes/decode"; then
    cat "$work/replay.log"
    echo "== FAILED: a past crash is back" >&2
    exit 1
fi

# libFuzzer reads -max_total_time=0 as "no limit": 0 here means build only.
if ((seconds == 0)); then
    echo "== built; not fuzzing (SECONDS is 0)"
    exit 0
fi

# fuzz NAME DIR SECONDS MAX_LEN: one fuzzer, its corpus in DIR/corpus (kept
# and grown from run to run; the seeds are read only).
failed=0
fuzz() {
    local name=$1 dir=$2 secs=$3 max_len=$4
    local bin=$work/fuzz_$name log=$dir/fuzz.log before after rc execs
    before=$(find "$dir/artifacts" -type f | wc -l)
    echo "== fuzzing $name for $secs s (log: $log)"
    set +e
    ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
        "$bin" -max_total_time="$secs" -print_final_stats=1 \
        -max_len="$max_len" -timeout=20 -rss_limit_mb=2048 \
        -artifact_prefix="$dir/artifacts/" "${extra[@]}" \
        "$dir/corpus" "$dir/seeds" >"$log" 2>&1
    rc=$?
    set -e
    grep -E '^stat::' "$log" || true
    execs=$(awk '/^stat::number_of_executed_units:/ { print $2 }' "$log")
    after=$(find "$dir/artifacts" -type f | wc -l)
    if ((rc != 0)) || ((after > before)); then
        echo "== FAILED: fuzz_$name exit code $rc; the report:" >&2
        grep -E -A 20 "fuzz_$name: |ERROR: |runtime error" "$log" | head -n 60 >&2 || tail -n 60 "$log" >&2
        grep -E 'Test unit written to' "$log" >&2 || true
        echo "reproduce with: $bin FILE   (see fuzz/README.md)" >&2
        failed=1
        return
    fi
    echo "== fuzz_$name clean: ${execs:-?} executions in $secs s, corpus $(find "$dir/corpus" -type f | wc -l) inputs"
}

# The decoder's seeds hold whole encoded frames: a larger -max_len.
encode_seconds=$((seconds / 3))
walk_seconds=$((seconds / 3))
decode_seconds=$((seconds - encode_seconds - walk_seconds))
((encode_seconds > 0)) && fuzz encode "$work" "$encode_seconds" 8192
fuzz decode "$work/decode" "$decode_seconds" 16384
((walk_seconds > 0)) && fuzz walk "$work/walk" "$walk_seconds" 8192
exit "$failed"
