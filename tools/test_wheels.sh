#!/usr/bin/env bash
# Tests each x86-64 wheel in dist/ as a user gets it: a fresh venv of its
# CPython, no compiler reachable (CC=false; PATH holds the venv and a folder
# of links to the few programs the tests drive), the wheel and its test extra
# installed, then the test suite run from a copy of tests/ outside the source
# tree against the installed package. CI=true, so a missing DCMTK, GDCM or
# dciodvfy fails instead of skipping.
# Usage: bash tools/test_wheels.sh [PYTEST-ARG...]    (after tools/build_wheels.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$root/build/wheel-test
export CI=true CC=false CXX=false

find_python() {
    local full
    if command -v pyenv >/dev/null && full=$(pyenv latest "$1" 2>/dev/null); then
        echo "$(pyenv root)/versions/$full/bin/python"
    else
        command -v "python$1"
    fi
}

# The programs the tests drive, and nothing else.
TOOLS=(dcmdrle dcmcrle dcmdump dcmconv gdcmconv dciodvfy sh chattr mount umount)
if ! command -v dcmdrle gdcmconv dciodvfy >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dcmtk libgdcm-tools dicom3tools >/dev/null
fi
rm -rf "$work" && mkdir -p "$work/bin"
for tool in "${TOOLS[@]}"; do
    ln -s "$(command -v "$tool")" "$work/bin/$tool"
done

shopt -s nullglob
wheels=(dist/dicomrle-*-manylinux2014_x86_64*.whl)
[ ${#wheels[@]} -gt 0 ] || { echo "no x86-64 wheel in dist/: run tools/build_wheels.sh" >&2; exit 1; }
declare -a SUMMARY=()
failed=0
for wheel in "${wheels[@]}"; do
    tag=$(basename "$wheel" | cut -d- -f3)              # cp311
    minor=${tag:2:1}.${tag:3}
    python=$(find_python "$minor") || { echo "no CPython $minor for $wheel" >&2; exit 1; }
    here=$work/$tag venv=$work/$tag/venv
    echo "=== $tag: $(basename "$wheel")"
    start=$SECONDS
    mkdir -p "$here"
    "$python" -m venv "$venv"
    user() { env PATH="$venv/bin:$work/bin" "$@"; }   # the user's PATH
    user python -c '
import shutil
found = [c for c in ("cc", "gcc", "clang", "c99", "zig", "x86_64-linux-gnu-gcc") if shutil.which(c)]
assert not found, f"compilers reachable: {found}"'
    user python -m pip install -q --upgrade pip
    user python -m pip install -q --only-binary=dicomrle "$root/$wheel[test]"
    install_time=$((SECONDS - start))

    # tests/ and the pytest configuration (pyproject's, with pythonpath
    # "tests" for the support package), nothing else of the source tree.
    cp -r "$root/tests" "$here/tests"
    cp "$root/pyproject.toml" "$here/"
    find "$here/tests" -name __pycache__ -prune -exec rm -rf {} +
    cd "$here"
    PYTHONPATH=$here/tests user python - "$venv" <<'EOF'
import sys, dicomrle, dicomrle.codec.rle as rle
venv = sys.argv[1]
assert dicomrle.__file__.startswith(venv + "/"), dicomrle.__file__
assert rle.__file__.startswith(venv + "/"), rle.__file__
print("testing", dicomrle.__file__)
EOF
    # test_layout.py reads the source tree's src/, which a wheel does not have.
    status=0
    user python -m pytest -p no:cacheprovider --ignore=tests/test_layout.py "$@" \
        >"$here/pytest.log" 2>&1 || status=$?
    cd "$root"
    result=$(grep -E '^=+ .*(passed|failed|error).* in [0-9.]+s' "$here/pytest.log" | tail -1 | tr -d '=')
    SUMMARY+=("$(printf '%s  install %3ds  tests %4ds  %s' "$tag" "$install_time" \
        $((SECONDS - start - install_time)) "$result")")
    echo "${SUMMARY[-1]}"
    if [ "$status" -ne 0 ]; then
        failed=1
        grep -E '^(FAILED|ERROR)' "$here/pytest.log" | head -30
    fi
done

echo
echo "=== wheels tested (log: build/wheel-test/cpXY/pytest.log)"
printf '%s\n' "${SUMMARY[@]}"
exit "$failed"
