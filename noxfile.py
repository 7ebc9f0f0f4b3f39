"""Sessions: the test suite against pydicom 3.0 and 2.4 (the default), a
quick pass of the benchmarks, and a wheel built from the sdist."""

import glob

import nox

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["tests"]


@nox.session
@nox.parametrize("pydicom", ["3.0", "2.4"])
def tests(session: nox.Session, pydicom: str) -> None:
    """Build and install dicomrle, then run the test suite."""
    session.install(".[test]", f"pydicom=={pydicom}.*")
    session.run("python", "-m", "pytest", "tests", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """A quick pass of every benchmark, so that none of them rots."""
    session.install(".[bench]", "pydicom==3.0.*", "imagecodecs", "pytest", "pytest-benchmark")
    session.run("python", "benchmarks/compare.py", "--quick")
    session.run("python", "benchmarks/bench_batch.py", "--quick")
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
    session.run("python", "-c", "import dicomrle, dicomrle._rle, dicomrle._encaps; print(dicomrle.__version__)")
    session.run("dicomrle", "compress", "-o", f"{tmp}/out")
