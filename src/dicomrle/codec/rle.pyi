"""Type stubs of the Cython binding of the C RLE kernel (_rle.pyx)."""

from collections.abc import Sequence
from typing import Any

from dicomrle.codec.frame import Buffer

SIMD: str
ISAS: tuple[str, ...]

def encode_bound(
    rows: int, columns: int, samples_per_pixel: int, bytes_allocated: int
) -> int: ...
def encode(
    src: Buffer,
    rows: int,
    columns: int,
    samples_per_pixel: int,
    bytes_allocated: int,
    bytes_per_sample: int,
    big_endian: bool,
    planar: bool,
    sign_extend: bool,
    scalar: bool = False,
    isa: str | None = None,
) -> bytes: ...
def encode_row(src: Buffer, scalar: bool = False, isa: str | None = None) -> bytes: ...

class Workspace:
    def __init__(
        self,
        rows: int,
        columns: int,
        samples_per_pixel: int,
        bytes_allocated: int,
        bytes_per_sample: int,
        big_endian: bool,
        planar: bool,
        sign_extend: bool,
        scalar: bool = False,
        isa: str | None = None,
        capacity: int = 1,
    ) -> None: ...
    def encode(self, src: Buffer, count: int = 1) -> list[int]: ...
    def to_bytes(self, index: int = 0) -> bytes: ...
    def __buffer__(self, flags: int, /) -> memoryview: ...
    def __release_buffer__(self, buffer: memoryview, /) -> None: ...

def decode_into(
    src: Buffer,
    dst: Buffer,
    *,
    rows: int,
    columns: int,
    samples_per_pixel: int,
    bytes_allocated: int,
    big_endian: bool,
    planar: bool,
    lsb_first: bool = False,
) -> bool: ...
def decode(
    src: Buffer,
    *,
    rows: int,
    columns: int,
    samples_per_pixel: int,
    bytes_allocated: int,
    big_endian: bool,
    planar: bool,
    lsb_first: bool = False,
) -> bytes: ...
def decode_equals(
    src: Buffer,
    expected: Buffer,
    scratch: Buffer,
    *,
    rows: int,
    columns: int,
    samples_per_pixel: int,
    bytes_allocated: int,
    big_endian: bool,
    planar: bool,
    lsb_first: bool = False,
) -> bool: ...
def decode_isa(
    src: Buffer,
    isa: str,
    *,
    rows: int,
    columns: int,
    samples_per_pixel: int,
    bytes_allocated: int,
    big_endian: bool,
    planar: bool,
    lsb_first: bool = False,
) -> bytes: ...
def decode_isas() -> list[str]: ...

class FrameDecoder:
    def __init__(
        self,
        frames: Sequence[Buffer],
        dst: Buffer | None = None,
        *,
        rows: int,
        columns: int,
        samples_per_pixel: int,
        bytes_allocated: int,
        big_endian: bool,
        planar: bool,
        lsb_first: bool = False,
        padding: int = 0,
    ) -> None: ...
    @property
    def frames(self) -> int: ...
    @property
    def frame_length(self) -> int: ...
    def decode(self, start: int, stop: int) -> bool: ...
    def result(self) -> Any: ...
