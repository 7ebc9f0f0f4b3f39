from typing import Any

from dicomrle.codec.frame import Buffer

OK: int
NEED_MORE: int
ENCAPSULATED: int
SYNTAX: int
MAX_DEPTH: int
STATUS_NAMES: dict[int, str]
ELEMENTS: tuple[str, ...]

def message(status: int) -> str: ...
def walk_file(
    buf: Buffer, file_size: int, rle: bool = False
) -> tuple[int, dict[str, Any]]: ...
def walk_tail(buf: Buffer) -> tuple[int, int]: ...
