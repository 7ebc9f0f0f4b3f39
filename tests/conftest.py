"""Fixtures shared by the test files; their helpers live in ``tests/support/``.

The helpers are the package ``support``, imported as ``from support import
corpus`` or ``from support.decoders import require``. pytest finds it
because pyproject.toml's ``[tool.pytest.ini_options]`` names ``tests`` in
``pythonpath``: the same from the repository root (``python -m pytest
tests``), from nox (the same command against the installed package) and with
any import mode. Nothing in tests/ touches ``sys.path``; the benchmarks that
reuse ``support.frames`` put ``tests/`` on it themselves.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def frame_per_job(monkeypatch):
    """Jobs of one frame and every thread asked for, as with large images:
    the threaded paths run on the small test images too, and every job
    starts at its own offset."""
    monkeypatch.setattr("dicomrle.codec.jobs.JOB_BYTES", 1)
