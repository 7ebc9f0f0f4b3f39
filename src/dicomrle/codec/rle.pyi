"""Type stubs of the Cython binding of the C RLE kernel (rle.pyx)."""

from collections.abc import Sequence
from typing import Any

from dicomrle.codec.frame import Buffer

SIMD: str
ISAS: tuple[str, ...]
MAX_SEGMENTS: int
MAX_DIMENSION: int
BITS_ALLOCATED: tuple[int, ...]

class Frame:
    lsb_first: bool
    def __init__(
        self,
        rows: int,
        columns: int,
        samples_per_pixel: int,
        bits_allocated: int,
        *,
        byteorder: str = "<",
        planar_configuration: int = 0,
        bytes_per_sample: int | None = None,
        sign_extend: bool = False,
        lsb_first: bool = False,
    ) -> None: ...
    rows: int
    columns: int
    samples_per_pixel: int
    bits_allocated: int
    bytes_allocated: int
    bytes_per_sample: int
    byteorder: str
    planar: bool
    sign_extend: bool
    segments: int
    frame_length: int
    source_length: int
    encode_bound: int

def choice(name: str, value: object, allowed: tuple[int, ...]) -> int: ...
def encode(frame: Frame, src: Buffer, *, isa: str | None = None) -> bytes: ...
def encode_row(src: Buffer, *, isa: str | None = None) -> bytes: ...

class Workspace:
    def __init__(
        self, frame: Frame, capacity: int = 1, *, isa: str | None = None
    ) -> None: ...
    def encode(self, src: Buffer, count: int = 1) -> list[int]: ...
    def to_bytes(self, index: int = 0) -> bytes: ...
    def __buffer__(self, flags: int, /) -> memoryview: ...
    def __release_buffer__(self, buffer: memoryview, /) -> None: ...

def decode_into(frame: Frame, src: Buffer, dst: Buffer) -> bool: ...
def decode(frame: Frame, src: Buffer, *, isa: str | None = None) -> bytes: ...
def decode_equals(
    frame: Frame, src: Buffer, expected: Buffer, scratch: Buffer
) -> bool: ...
def decode_isas() -> list[str]: ...

class FrameDecoder:
    def __init__(
        self,
        frame: Frame,
        frames: Sequence[Buffer],
        dst: Buffer | None = None,
        *,
        padding: int = 0,
    ) -> None: ...
    @property
    def frames(self) -> int: ...
    @property
    def frame_length(self) -> int: ...
    def decode(self, start: int, stop: int) -> bool: ...
    def result(self) -> Any: ...
