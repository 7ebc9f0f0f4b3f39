from typing_extensions import Buffer

OK: int
NEED_MORE: int
MAX_DEPTH: int
STATUS_NAMES: dict[int, str]
ELEMENTS: tuple[str, ...]

def message(status: int) -> str: ...
def walk_file(
    buf: Buffer, file_size: int
) -> tuple[int, dict[str, int | tuple[int, int, int, str]]]: ...
def walk_tail(buf: Buffer) -> tuple[int, int]: ...
