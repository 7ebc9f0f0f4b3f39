"""Kernel-level timings with pytest-benchmark, so that regressions show.

    pytest benchmarks/test_kernel_bench.py --benchmark-only
    pytest benchmarks/test_kernel_bench.py --benchmark-save=base   # then
    pytest benchmarks/test_kernel_bench.py --benchmark-compare=0001 \
        --benchmark-compare-fail=median:25%

Each case encodes one whole frame with the C kernel (``dicomrle.codec.rle``,
byte-plane split included), by the fast path and by the scalar reference.
No assertion depends on time.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # tests/support/
from support import frames as corpus  # noqa: E402

pytest.importorskip("pytest_benchmark")
from dicomrle.codec import rle as _rle  # noqa: E402

WANTED = {
    "693_UNCI.dcm": "CT 512x512 16-bit",
    "MR2_UNCI.dcm": "MR 1024x1024 16-bit",
    "RG1_UNCI.dcm": "radiograph 1955x1841 16-bit",
    "US1_UNCI.dcm": "ultrasound 480x640 RGB",
    "CT_small.dcm": "CT 128x128 16-bit",
}


def _cases() -> list[corpus.Image]:
    found = {im.path.name: im for im in corpus.corpus_images() if im.path and im.path.name in WANTED}
    images = [found[name] for name in WANTED if name in found]
    return images + corpus.synthetic_images()


CASES = _cases()


def _args(image: corpus.Image) -> tuple:
    frame = _rle.Frame(image.rows, image.columns, image.samples, image.bits_allocated,
                       planar_configuration=int(image.planar))
    return (frame, bytes(image.frame(0)))


@pytest.mark.parametrize("image", CASES, ids=[c.name for c in CASES])
@pytest.mark.parametrize("path", ["fast", "scalar"])
def test_encode_frame(benchmark, image: corpus.Image, path: str) -> None:
    args = _args(image)
    benchmark.extra_info["bytes"] = len(args[1])
    benchmark.group = image.name
    out = benchmark(_rle.encode, *args, isa="scalar" if path == "scalar" else None)
    assert out == _rle.encode(*args, isa="scalar" if path != "scalar" else None)


def test_plugin_small_frame(benchmark) -> None:
    """Per-call overhead of the pydicom plugin path on a 16x16 frame."""
    from dicomrle.plugin import encode_pixel_data

    src = bytes(range(256)) * 2
    kwargs = dict(rows=16, columns=16, samples_per_pixel=1, bits_allocated=16,
                  bits_stored=16, pixel_representation=0)
    out = benchmark(encode_pixel_data, src, **kwargs)
    assert out[:4] == b"\x02\x00\x00\x00"
