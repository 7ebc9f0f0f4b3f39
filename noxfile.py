"""Test sessions: the suite against pydicom 3.0 and against pydicom 2.4."""

import nox

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["tests"]


@nox.session
@nox.parametrize("pydicom", ["3.0", "2.4"])
def tests(session: nox.Session, pydicom: str) -> None:
    """Build and install dicomrle, then run the test suite."""
    session.install(".[test]", f"pydicom=={pydicom}.*")
    session.run("python", "-m", "pytest", "tests", *session.posargs)
