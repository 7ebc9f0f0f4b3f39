"""A pytest plugin that points pydicom's own RLE tests at dicomrle.

Loaded with ``-p adapter`` into a pytest run of the tests from pydicom's
sdist. Before the test modules are imported it swaps, through pydicom's
public ``remove_plugin``/``add_plugin``, the plugin pydicom's tests name
("pydicom") for dicomrle's, and the functions they import from pydicom's
plugin modules for dicomrle's equivalents. The outcome of every test goes
to the JSON file named by ``DICOMRLE_SUITE_REPORT``.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

_outcomes: dict[str, str] = {}


def _decode_planar_le(
    src: bytes,
    rows: int,
    columns: int,
    nr_samples: int,
    nr_bits: int,
    segment_order: str = ">",
) -> bytearray:
    """pydicom's ``_rle_decode_frame`` contract (Planar Configuration 1,
    little endian, single-bit pixels a byte each) served by
    ``dicomrle.decode_frame``."""
    import dicomrle

    if nr_bits == 1 and nr_samples == 1:
        nr_bits = 8

    return bytearray(
        dicomrle.decode_frame(
            src,
            rows=rows,
            columns=columns,
            samples_per_pixel=nr_samples,
            bits_allocated=nr_bits,
            byteorder="<",
            planar_configuration=1,
            lsb_first=segment_order == "<",
        )
    )


def _swap_plugins() -> None:
    import pydicom

    from dicomrle import plugin

    if int(pydicom.__version__.split(".")[0]) >= 3:
        from pydicom.pixels.decoders import RLELosslessDecoder
        from pydicom.pixels.encoders import RLELosslessEncoder
        from pydicom.pixels.encoders import native as native_encoder

        try:  # pydicom 3.0; 3.1 moved it to decoders.native
            from pydicom.pixels.decoders import rle as native_decoder
        except ImportError:
            from pydicom.pixels.decoders import native as native_decoder

        RLELosslessDecoder.remove_plugin("pydicom")
        RLELosslessDecoder.add_plugin(
            "pydicom", ("dicomrle.plugin", "decode_pixel_data")
        )
        native_decoder._rle_decode_frame = _decode_planar_le
    else:
        from pydicom.encoders import RLELosslessEncoder
        from pydicom.encoders import native as native_encoder

    RLELosslessEncoder.remove_plugin("pydicom")
    RLELosslessEncoder.add_plugin("pydicom", ("dicomrle.plugin", "encode_pixel_data"))
    # pydicom 3.1 renamed _encode_frame to _encode_rle_frame.
    renamed = hasattr(native_encoder, "_encode_rle_frame")
    name = "_encode_rle_frame" if renamed else "_encode_frame"
    setattr(native_encoder, name, plugin.encode_pixel_data)


def pytest_configure(config: pytest.Config) -> None:
    _swap_plugins()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or report.outcome != "passed":
        # A failed setup or teardown counts as a failure of the test.
        if _outcomes.get(report.nodeid) in (None, "passed"):
            _outcomes[report.nodeid] = report.outcome


def pytest_sessionfinish(session: pytest.Session, exitstatus: Any) -> None:
    path = os.environ.get("DICOMRLE_SUITE_REPORT")
    if path:
        with open(path, "w") as f:
            json.dump(_outcomes, f, indent=1, sort_keys=True)
