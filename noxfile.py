"""Sessions: the test suite on every supported CPython with pydicom 3.0 and
on one with pydicom 2.4 (the default), the linters, a quick pass of the
benchmarks, a wheel built from the sdist, and (asked for by name) the
manylinux wheels built and tested by tools/ (`nox -s wheels`).

Outside CI a missing interpreter only skips its session; with CI set, nox
fails instead (see .ci/run, which makes pyenv's interpreters findable)."""

import glob

import nox

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["tests"]

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
# Every Python with pydicom 3.0, and the oldest pydicom we support on one.
TEST_MATRIX = [(python, "3.0") for python in PYTHONS] + [("3.11", "2.4")]


@nox.session
@nox.parametrize(("python", "pydicom"), TEST_MATRIX)
def tests(session: nox.Session, pydicom: str) -> None:
    """Build and install dicomrle, then run the test suite."""
    session.install(".[test]", f"pydicom=={pydicom}.*")
    session.run("python", "-m", "pytest", "tests", *session.posargs)


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff and mypy over src/ (the package ships py.typed)."""
    session.install("ruff", "mypy", "types-tqdm", "numpy", "pydicom==3.0.*", "dask[bag]")
    session.run("ruff", "check", "src")
    session.run("ruff", "format", "--check", "src")
    session.run("mypy")


@nox.session
def bench(session: nox.Session) -> None:
    """A quick pass of every benchmark, so that none of them rots."""
    session.install(".[bench]", "pydicom==3.0.*", "imagecodecs", "pytest", "pytest-benchmark")
    session.run("python", "benchmarks/compare.py", "--quick")
    session.run("python", "benchmarks/bench_batch.py", "--quick")
    session.run("python", "benchmarks/bench_files.py", "--quick")
    session.run("python", "benchmarks/bench_scaling.py", "--quick")
    session.run("python", "benchmarks/bench_decode.py", "--quick")
    session.run("python", "benchmarks/decode_kernel.py", "--quick")
    session.run("python", "-m", "pytest", "benchmarks", "-q", "--benchmark-disable")


@nox.session
def wheel(session: nox.Session) -> None:
    """Build the sdist from git, a wheel from the sdist, and import it."""
    session.install("build")
    tmp = session.create_tmp()
    session.run("python", "-m", "build", "--sdist", "--outdir", tmp)
    (sdist,) = glob.glob(f"{tmp}/dicomrle-*.tar.gz")
    session.run("python", "-m", "pip", "wheel", "--no-deps", "-w", tmp, sdist)
    (wheel,) = glob.glob(f"{tmp}/dicomrle-*.whl")
    session.install(wheel)
    session.chdir(tmp)
    session.run("python", "-c", "import dicomrle, dicomrle.codec.rle, dicomrle.dicom.encaps; print(dicomrle.__version__)")
    session.run("dicomrle", "compress", "-o", f"{tmp}/out")


@nox.session(python=False)
def wheels(session: nox.Session) -> None:
    """manylinux2014 wheels built with zig cc (x86-64 for CPython 3.10 to
    3.13, aarch64 for 3.11) into dist/; each x86-64 wheel tested in a clean
    venv with no compiler, the aarch64 one under qemu. Not a default session;
    posargs go to pytest."""
    session.run("bash", "tools/build_wheels.sh", external=True)
    session.run("bash", "tools/test_wheels.sh", *session.posargs, external=True)
    session.run("bash", "tools/test_wheel_aarch64.sh", external=True)
