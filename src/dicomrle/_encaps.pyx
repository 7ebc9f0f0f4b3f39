"""Encode frames straight into one encapsulated Pixel Data value.

Each frame is encoded by C, without the GIL, into a slot of its worst-case
size inside one ``bytes`` object; ``finish`` then slides the frames down
behind their item headers and shrinks the object in place. The value is
written once: there is no list of frames and no joined copy, and the slack
of each slot is never touched, so the memory used is about the size of the
encoded data (PS3.5 A.4: items of even length behind a Basic Offset Table
item).
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from cpython.pyport cimport PY_SSIZE_T_MAX
from libc.stdint cimport uint8_t, uint32_t
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memmove

from dicomrle._rle cimport (
    DICOMRLE_BYTES_RESIZE,
    DICOMRLE_OK,
    dicomrle_check,
    dicomrle_encode,
    dicomrle_encode_bound,
    dicomrle_frame,
    dicomrle_frame_length,
    dicomrle_scratch_size,
    dicomrle_status,
    dicomrle_status_message,
    make_frame,
)

cdef size_t ITEM_HEADER = 8
cdef size_t MAX_OFFSET = 0xFFFFFFFF


cdef inline void put_le32(uint8_t *dst, uint32_t value) noexcept nogil:
    dst[0] = value & 0xFF
    dst[1] = (value >> 8) & 0xFF
    dst[2] = (value >> 16) & 0xFF
    dst[3] = (value >> 24) & 0xFF


cdef inline void put_item(uint8_t *dst, uint32_t length) noexcept nogil:
    # (FFFE,E000) Item tag, little-endian, then the 32-bit length.
    dst[0] = 0xFE
    dst[1] = 0xFF
    dst[2] = 0x00
    dst[3] = 0xE0
    put_le32(dst + 4, length)


cdef class FrameBuffer:
    """An encapsulated Pixel Data value under construction.

    Parameters mirror ``dicomrle_frame`` in rle.h; `count` is the number of
    frames. ``encode`` may be called from many threads at once, each with
    its own frame index.
    """

    cdef object _out
    cdef uint8_t *_base
    cdef size_t *_lengths
    cdef size_t _count
    cdef size_t _bound
    cdef size_t _slot
    cdef size_t _prefix
    cdef size_t _frame_length
    cdef dicomrle_frame _frame

    def __cinit__(
        self,
        size_t count,
        size_t rows,
        size_t columns,
        size_t samples_per_pixel,
        size_t bytes_allocated,
        size_t bytes_per_sample,
        bint big_endian,
        bint planar,
        bint sign_extend,
    ):
        self._frame = make_frame(
            rows, columns, samples_per_pixel, bytes_allocated, bytes_per_sample,
            big_endian, planar, sign_extend,
        )
        cdef dicomrle_status status = dicomrle_check(&self._frame)
        if status != DICOMRLE_OK:
            raise ValueError(dicomrle_status_message(status).decode("ascii"))
        if count == 0:
            raise ValueError("'count' must be at least 1")
        self._count = count
        self._bound = dicomrle_encode_bound(&self._frame)
        self._frame_length = dicomrle_frame_length(&self._frame)
        self._slot = ITEM_HEADER + self._bound
        self._prefix = ITEM_HEADER + 4 * count
        if count > (<size_t>PY_SSIZE_T_MAX - self._prefix) // self._slot:
            raise OverflowError("the frames are too large to encapsulate")
        self._lengths = <size_t *>calloc(count, sizeof(size_t))
        if self._lengths == NULL:
            raise MemoryError()
        self._out = PyBytes_FromStringAndSize(
            NULL, <Py_ssize_t>(self._prefix + count * self._slot)
        )
        self._base = <uint8_t *>PyBytes_AS_STRING(self._out)

    def __dealloc__(self):
        free(self._lengths)

    @property
    def frame_length(self) -> int:
        """Bytes of source data one frame needs."""
        return self._frame_length

    def encode(self, Py_ssize_t index, const uint8_t[::1] src not None) -> int:
        """Encode frame `index` from `src`; return its encoded length."""
        if self._out is None:
            raise RuntimeError("the value is finished")
        if index < 0 or <size_t>index >= self._count:
            raise IndexError(f"frame index {index} is out of range")
        if <size_t>src.shape[0] < self._frame_length:
            raise ValueError(
                f"frame {index} holds {src.shape[0]} bytes, needs {self._frame_length}"
            )
        cdef size_t scratch_length = dicomrle_scratch_size(&self._frame)
        cdef uint8_t *scratch = <uint8_t *>malloc(scratch_length)
        if scratch == NULL:
            raise MemoryError()
        cdef uint8_t *dst = self._base + self._prefix + <size_t>index * self._slot + ITEM_HEADER
        cdef size_t written = 0
        cdef dicomrle_status status
        try:
            with nogil:
                status = dicomrle_encode(
                    &self._frame, &src[0], <size_t>src.shape[0], dst, self._bound,
                    scratch, scratch_length, &written,
                )
        finally:
            free(scratch)
        if status != DICOMRLE_OK:
            raise ValueError(dicomrle_status_message(status).decode("ascii"))
        self._lengths[index] = written
        return written

    def needs_extended(self) -> bool:
        """True if the Basic Offset Table cannot hold the last frame's offset."""
        cdef size_t offset = 0
        cdef size_t i
        for i in range(self._count - 1):
            offset += ITEM_HEADER + self._lengths[i]
        return offset > MAX_OFFSET

    def finish(self, bint extended=False):
        """Return ``(value, offsets, lengths)`` once every frame is encoded.

        With `extended` the Basic Offset Table is empty and `offsets` and
        `lengths` are for the Extended Offset Table (PS3.3 C.7.6.3.1.8).
        """
        cdef size_t i
        for i in range(self._count):
            if self._lengths[i] == 0:
                raise RuntimeError(f"frame {i} has not been encoded")
        if not extended and self.needs_extended():
            raise ValueError("the Basic Offset Table cannot hold the offsets")
        cdef size_t start = ITEM_HEADER if extended else self._prefix
        cdef size_t pos = start
        cdef size_t length
        offsets = []
        lengths = []
        for i in range(self._count):
            length = self._lengths[i]
            offsets.append(pos - start)
            lengths.append(length)
            with nogil:
                # The item header lands before the frame's slot, which only
                # ever moves down: memmove is safe.
                memmove(
                    self._base + pos + ITEM_HEADER,
                    self._base + self._prefix + i * self._slot + ITEM_HEADER,
                    length,
                )
                put_item(self._base + pos, <uint32_t>length)
            if not extended:
                put_le32(self._base + ITEM_HEADER + 4 * i, <uint32_t>(pos - start))
            pos += ITEM_HEADER + length
        put_item(self._base, 0 if extended else <uint32_t>(4 * self._count))
        out = self._out
        self._out = None
        self._base = NULL
        DICOMRLE_BYTES_RESIZE(out, <Py_ssize_t>pos)
        return out, offsets, lengths
