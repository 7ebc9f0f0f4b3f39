#!/usr/bin/env bash
# Build dicomrle with AddressSanitizer and UndefinedBehaviorSanitizer into a
# venv of its own and run the test suite and tools/sanitize_smoke.py under
# them. Exits non-zero on any failing test and on any sanitizer report, in
# this process or in any child process it starts.
#
#   tools/sanitize.sh            create or reuse the venv, build, test
#   tools/sanitize.sh --fresh    delete the venv first
#   tools/sanitize.sh -- -k row  pass the rest to pytest
#
# Environment:
#   DICOMRLE_SANITIZE_VENV  the venv (default: build/sanitize/venv in the repo)
#   PYTHON                  the interpreter to make it with (default: python3)
#   CC                      the C compiler meson uses (default: cc, i.e. gcc)
#
# Needs a C compiler with libasan and libubsan (Debian: gcc) and the Python
# headers; everything else is installed with pip into the venv.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${DICOMRLE_SANITIZE_VENV:-$repo/build/sanitize/venv}
python=${PYTHON:-python3}
cc=${CC:-cc}

fresh=0
pytest_args=()
while (($#)); do
    case $1 in
    --fresh) fresh=1 ;;
    --) shift; pytest_args=("$@"); break ;;
    *) echo "usage: $0 [--fresh] [-- PYTEST_ARGS...]" >&2; exit 2 ;;
    esac
    shift
done

say() { printf '\n== %s\n' "$*"; }

# --- the venv -------------------------------------------------------------
if ((fresh)); then
    rm -rf "$venv"
fi
if [[ ! -x $venv/bin/python ]]; then
    say "creating $venv"
    mkdir -p "$(dirname "$venv")"
    "$python" -m venv "$venv"
fi
vpy=$venv/bin/python
say "installing the build and test requirements"
# From pyproject.toml: the build requirements, the dependencies and the test
# extra (tests/support/decoders.py fails rather than skips in CI when one is missing).
mapfile -t requirements < <("$vpy" - "$repo/pyproject.toml" <<'EOF'
import sys

try:
    import tomllib
except ImportError:  # Python 3.10
    print("\n".join(["meson-python>=0.17", "Cython>=3.1", "pydicom>=2.4", "numpy>=1.24",
                     "pytest>=8", "hypothesis>=6.100", "pydicom-data", "pylibjpeg>=2.0",
                     "pylibjpeg-rle>=2.0", "python-gdcm>=3.0.24"]))
    sys.exit()
with open(sys.argv[1], "rb") as f:
    project = tomllib.load(f)
print("\n".join(project["build-system"]["requires"]
                + project["project"]["dependencies"]
                + project["project"]["optional-dependencies"]["test"]))
EOF
)
if ((${#requirements[@]} == 0)); then
    echo "error: cannot read the requirements from pyproject.toml" >&2
    exit 1
fi
# pydicom 3.0.x: the release the plugin targets first.
"$vpy" -m pip install --quiet --disable-pip-version-check \
    meson ninja "${requirements[@]}" "pydicom==3.0.*"

# --- the build ------------------------------------------------------------
# meson's b_sanitize adds -fsanitize=... to compile and link lines; b_lundef
# must be off: clang leaves the sanitizer runtime out of shared modules, so
# -Wl,--no-undefined would refuse them. -fno-sanitize-recover=all turns every
# UBSan report into an abort.
# debugoptimized keeps -g for readable stack traces. The build directory is
# fresh each time, so a stale object can never hide a change.
say "building with -fsanitize=address,undefined ($cc)"
builddir=$(mktemp -d "${TMPDIR:-/tmp}/dicomrle-sanitize.XXXXXX")
logdir=$(mktemp -d "${TMPDIR:-/tmp}/dicomrle-sanitize-logs.XXXXXX")
trap 'rm -rf "$builddir" "$logdir"' EXIT
CC=$cc "$vpy" -m pip install --quiet --disable-pip-version-check \
    --no-build-isolation --no-deps --force-reinstall \
    -Cbuild-dir="$builddir" \
    -Csetup-args=-Dbuildtype=debugoptimized \
    -Csetup-args=-Db_sanitize=address,undefined \
    -Csetup-args=-Db_lundef=false \
    -Csetup-args=-Dc_args=-fno-sanitize-recover=all \
    "$repo"

if ! grep -q -- '-fsanitize=address,undefined' "$builddir/compile_commands.json" ||
    ! grep -q -- '-fno-sanitize-recover=all' "$builddir/compile_commands.json"; then
    echo "error: the build did not use the sanitizer flags" >&2
    exit 1
fi
# Importing it needs the ASan runtime preloaded, so look for the file.
ext=$(find "$venv" -name 'rle*.so' -path '*/dicomrle/codec/*' | head -n 1)

# --- the runtime ----------------------------------------------------------
# python itself is not instrumented, so the ASan runtime must be loaded
# first, through LD_PRELOAD: the one the extension links to (gcc), else
# clang's shared runtime, which holds the UBSan handlers too.
libasan=$(ldd "$ext" | awk '/libasan|libclang_rt\.asan/ { print $3; exit }')
if [[ -z $libasan ]]; then
    if "$cc" --version | grep -q clang; then
        libasan=$("$cc" -print-file-name="libclang_rt.asan-$(uname -m).so")
    else
        libasan=$("$cc" -print-file-name=libasan.so)
    fi
fi
if [[ ! -e $libasan ]]; then
    echo "error: cannot find the ASan runtime for $cc" >&2
    exit 1
fi
# GDCM (a reference decoder the tests run in a child python) throws and
# catches C++ exceptions. ASan intercepts __cxa_throw and looks the real
# one up when it starts; python does not link libstdc++, so without it in
# LD_PRELOAD too that lookup fails and the first throw aborts the child
# ("CHECK failed: ... real___cxa_throw"), outside our code.
preload=$libasan
libstdcxx=$("$cc" -print-file-name=libstdc++.so.6 2>/dev/null || true)
if [[ $libstdcxx == /* && -e $libstdcxx ]]; then
    preload=$libasan:$libstdcxx
fi
echo "extension: $ext"
echo "LD_PRELOAD: $preload"

run() {
    # PYTHONMALLOC=malloc: every Python object is its own malloc() block
    # with ASan red zones, instead of a slot in a pymalloc arena.
    # detect_leaks=0: CPython keeps objects alive until exit by design.
    # log_path: reports of child processes (the CLI tests) are kept too.
    # allocator_may_return_null=1: an allocation that cannot be had returns
    # NULL (Python's MemoryError), as without ASan; the hostile-file tests
    # expect it of pydicom's own allocations for absurd claims.
    env LD_PRELOAD="$preload" PYTHONMALLOC=malloc \
        ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=0:allocator_may_return_null=1:log_path=$logdir/asan" \
        UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$logdir/ubsan" \
        "$@"
}

reports() {
    if compgen -G "$logdir/*" >/dev/null; then
        echo "error: sanitizer reports:" >&2
        cat "$logdir"/* >&2
        rm -f "$logdir"/*
        return 1
    fi
}

status=0
cd "$repo"

say "pytest under the sanitizers"
set +e
run "$vpy" -m pytest tests -q -p no:cacheprovider "${pytest_args[@]}"
rc=$?
set -e
if ((rc == 5)); then
    echo "warning: pytest collected no tests; the smoke run below still runs" >&2
elif ((rc != 0)); then
    echo "error: pytest failed with exit code $rc" >&2
    status=1
fi
reports || status=1

say "tools/sanitize_smoke.py under the sanitizers"
if ! run "$vpy" tools/sanitize_smoke.py; then
    echo "error: the smoke run failed" >&2
    status=1
fi
reports || status=1

if ((status)); then
    say "FAILED: see the errors above"
else
    say "sanitizer run clean"
fi
exit "$status"
