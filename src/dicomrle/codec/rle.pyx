"""Cython binding of the C RLE kernel: buffers in, bytes out, GIL released."""

import operator

cimport cython
from cpython.buffer cimport (
    PyBUF_SIMPLE,
    PyBUF_WRITABLE,
    PyBuffer_FillInfo,
    PyBuffer_Release,
    PyObject_GetBuffer,
)
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from libc.stdint cimport uint8_t
from cpython.pyport cimport PY_SSIZE_T_MAX
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memcmp, memset

from dicomrle.codec.rle cimport (
    DICOMRLE_BYTES_RESIZE,
    DICOMRLE_ERR_DST_CAPACITY,
    DICOMRLE_ERR_HEADER,
    DICOMRLE_ERR_NULL,
    DICOMRLE_ERR_OFFSET,
    DICOMRLE_ERR_OVERFLOW,
    DICOMRLE_ERR_SEGMENT_COUNT,
    DICOMRLE_ERR_SHORT,
    DICOMRLE_ERR_SCRATCH,
    DICOMRLE_ISA_AUTO,
    DICOMRLE_ISA_AVX2,
    DICOMRLE_ISA_PORTABLE,
    DICOMRLE_ISA_SCALAR,
    DICOMRLE_ISA_SSE2,
    DICOMRLE_OK,
    dicomrle_check,
    dicomrle_decode_isa,
    dicomrle_decode_report,
    dicomrle_encode_bound,
    dicomrle_encode_isa,
    dicomrle_advise_huge_pages,
    dicomrle_encode_row_isa,
    dicomrle_frame,
    dicomrle_frame_length,
    dicomrle_isa,
    dicomrle_isa_available,
    dicomrle_scratch_size,
    dicomrle_simd,
    dicomrle_status,
    dicomrle_status_message,
    make_frame,
)

SIMD = dicomrle_simd().decode("ascii")

MAX_SEGMENTS = 15
MAX_DIMENSION = 65535  # Rows and Columns are US (PS3.3 C.7.6.3.1)
BITS_ALLOCATED = (8, 16, 32, 64)

# The instruction sets by the names tests and benchmarks use; "portable" is
# the 64-bit word path ("swar64", or "bytewise" on big-endian hosts).
_ISA_CODES = {
    "auto": DICOMRLE_ISA_AUTO,
    "scalar": DICOMRLE_ISA_SCALAR,
    "portable": DICOMRLE_ISA_PORTABLE,
    "sse2": DICOMRLE_ISA_SSE2,
    "avx2": DICOMRLE_ISA_AVX2,
}
#: The instruction sets this build can use on this CPU, "auto" left out.
ISAS = tuple(
    name for name, code in _ISA_CODES.items()
    if name != "auto" and dicomrle_isa_available(code)
)


cdef dicomrle_isa _isa_code(str isa) except *:
    if isa is None:
        return DICOMRLE_ISA_AUTO
    try:
        code = _ISA_CODES[isa]
    except KeyError:
        raise ValueError(
            f"'isa' must be one of {', '.join(_ISA_CODES)}, not {isa!r}"
        ) from None
    if not dicomrle_isa_available(code):
        raise ValueError(f"the instruction set {isa!r} is not available here")
    return code


cdef object _error(dicomrle_status status):
    message = dicomrle_status_message(status).decode("ascii")
    if status == DICOMRLE_ERR_OVERFLOW:
        return OverflowError(message)
    if status in (DICOMRLE_ERR_DST_CAPACITY, DICOMRLE_ERR_SCRATCH, DICOMRLE_ERR_NULL):
        return RuntimeError(f"internal error: {message}")
    return ValueError(message)


cdef Py_ssize_t _positive(str name, object value, Py_ssize_t maximum) except -1:
    if isinstance(value, bool):
        raise TypeError(f"'{name}' must be an int, not bool")
    try:
        number = operator.index(value)
    except TypeError:
        raise TypeError(f"'{name}' must be an int, not {type(value).__name__}") from None
    if not 1 <= number <= maximum:
        raise ValueError(f"'{name}' must be between 1 and {maximum}, not {number}")
    return number


def choice(str name, object value, tuple allowed) -> int:
    """`value` as an int if it is one of `allowed`; else a ValueError that
    names the parameter and what it may be."""
    try:
        number = None if isinstance(value, bool) else operator.index(value)
    except TypeError:
        number = None
    if number not in allowed:
        last = len(allowed) - 1  # no negative indexes: wraparound is off
        text = ", ".join(map(str, allowed[:last])) + f" or {allowed[last]}"
        raise ValueError(f"'{name}' must be {text}, not {value!r}")
    return number


cdef class Frame:
    """One frame's description, checked once; every encode and decode entry
    takes it.

    Parameters
    ----------
    rows, columns : int
        1 to 65535 each.
    samples_per_pixel : int
        1 to 15.
    bits_allocated : {8, 16, 32, 64}
        ``samples_per_pixel * bits_allocated / 8`` segments, 15 at most.
    byteorder : {"<", ">"}
        The byte order of the decoded (or to be encoded) samples.
    planar_configuration : {0, 1}
        1 if each sample has a plane of its own.
    bytes_per_sample : int, optional
        For encoding: the container size of a sample in the source, 1, 2, 4
        or 8 and at most ``bits_allocated // 8`` (the default); narrower
        samples are widened, with the sign when `sign_extend` is true.
    sign_extend : bool
    lsb_first : bool
        For decoding: the segments of a sample come least significant first.

    Its attributes are these values as checked, and ``bytes_allocated``,
    ``planar`` (Planar Configuration 1 with more than one sample),
    ``segments``, ``frame_length`` (the bytes decoded), ``source_length``
    (an encoder's source, `bytes_per_sample` each) and ``encode_bound``
    (the worst-case encoded size, header included).

    Raises
    ------
    TypeError
        If a size is not an int.
    ValueError
        If a value is out of range or the frame needs more than 15 segments.
    """

    def __init__(
        self,
        rows,
        columns,
        samples_per_pixel,
        bits_allocated,
        *,
        byteorder="<",
        planar_configuration=0,
        bytes_per_sample=None,
        bint sign_extend=False,
        bint lsb_first=False,
    ):
        cdef Py_ssize_t r = _positive("rows", rows, MAX_DIMENSION)
        cdef Py_ssize_t c = _positive("columns", columns, MAX_DIMENSION)
        cdef Py_ssize_t s = _positive("samples_per_pixel", samples_per_pixel, MAX_SEGMENTS)
        cdef Py_ssize_t b = choice("bits_allocated", bits_allocated, BITS_ALLOCATED) // 8
        cdef Py_ssize_t width = b
        if s * b > MAX_SEGMENTS:
            raise ValueError(
                f"'samples_per_pixel' ({s}) times 'bits_allocated' / 8 ({b}) is "
                f"{s * b} segments, but RLE Lossless allows at most {MAX_SEGMENTS}"
            )
        cdef int planar = choice("planar_configuration", planar_configuration, (0, 1))
        if byteorder != "<" and byteorder != ">":
            raise ValueError(f"'byteorder' must be '<' or '>', not {byteorder!r}")
        if bytes_per_sample is not None:
            if bytes_per_sample not in (1, 2, 4, 8) or bytes_per_sample > b:
                raise ValueError(
                    f"'bytes_per_sample' must be 1, 2, 4 or 8 and at most {b}, "
                    f"not {bytes_per_sample!r}"
                )
            width = bytes_per_sample
        self.c = make_frame(
            r, c, s, b, width, byteorder == ">", planar == 1 and s > 1, sign_extend
        )
        self.status = dicomrle_check(&self.c)
        self.lsb_first = lsb_first
        self.rows, self.columns, self.samples_per_pixel = r, c, s
        self.bits_allocated, self.bytes_allocated, self.bytes_per_sample = 8 * b, b, width
        self.byteorder = byteorder
        self.planar, self.sign_extend = self.c.planar, sign_extend
        self.segments = s * b
        # Not dicomrle_frame_length(), which says 0 for a frame too large
        # to encode: the Python layer weighs every frame against its data.
        self.frame_length = r * c * s * b
        self.source_length = r * c * s * width

    cdef int usable(self) except -1:
        """Raise what dicomrle_check found, if anything."""
        if self.status != DICOMRLE_OK:
            raise _error(self.status)
        return 0

    @property
    def encode_bound(self) -> int:
        self.usable()
        return dicomrle_encode_bound(&self.c)

    def __repr__(self) -> str:
        return (
            f"Frame({self.rows}, {self.columns}, {self.samples_per_pixel}, "
            f"{self.bits_allocated}, byteorder={self.byteorder!r}, "
            f"planar_configuration={int(self.planar)}, "
            f"bytes_per_sample={self.bytes_per_sample}, "
            f"sign_extend={self.sign_extend}, lsb_first={self.lsb_first})"
        )


def encode(
    Frame frame not None,
    const uint8_t[::1] src not None,
    *,
    str isa=None,
) -> bytes:
    """Encode the `frame` held in `src`; see ``dicomrle_encode`` in rle.h.

    `isa` (a name in ``ISAS``) selects one instruction set, "scalar" the
    scalar reference (for tests and benchmarks); all give the same bytes.
    """
    cdef dicomrle_isa code = _isa_code(isa)
    cdef dicomrle_status status
    frame.usable()
    if src.shape[0] == 0:
        raise ValueError("the source buffer is shorter than the frame")

    cdef size_t bound = dicomrle_encode_bound(&frame.c)
    cdef size_t scratch_length = dicomrle_scratch_size(&frame.c)
    cdef size_t written = 0
    cdef const uint8_t *src_ptr = &src[0]
    cdef size_t src_length = <size_t>src.shape[0]

    out = PyBytes_FromStringAndSize(NULL, <Py_ssize_t>bound)
    cdef uint8_t *dst = <uint8_t *>PyBytes_AS_STRING(out)
    dicomrle_advise_huge_pages(dst, bound)
    cdef uint8_t *scratch = <uint8_t *>malloc(scratch_length)
    if scratch == NULL:
        raise MemoryError()
    try:
        with nogil:
            status = dicomrle_encode_isa(
                &frame.c, src_ptr, src_length, dst, bound,
                scratch, scratch_length, &written, code,
            )
    finally:
        free(scratch)
    if status != DICOMRLE_OK:
        raise _error(status)
    DICOMRLE_BYTES_RESIZE(out, <Py_ssize_t>written)
    return out


def encode_row(const uint8_t[::1] src not None, *, str isa=None) -> bytes:
    """PackBits-encode one row as PS3.5 G.3.1 describes; `isa` as for
    ``encode`` (for tests)."""
    cdef dicomrle_isa code = _isa_code(isa)
    cdef size_t length = <size_t>src.shape[0]
    if length == 0:
        raise ValueError("a row must hold at least one byte")
    out = PyBytes_FromStringAndSize(NULL, <Py_ssize_t>(length + (length + 127) // 128))
    cdef uint8_t *dst = <uint8_t *>PyBytes_AS_STRING(out)
    cdef size_t written
    with nogil:
        written = dicomrle_encode_row_isa(&src[0], length, dst, code)
    DICOMRLE_BYTES_RESIZE(out, <Py_ssize_t>written)
    return out


cdef class Workspace:
    """Buffers to encode frames of one kind into, again and again.

    ``encode`` encodes up to `capacity` consecutive frames at once, without
    the GIL, each into a slot of the worst-case size. The output of the
    last ``encode`` stays until the next one; with one frame it is also
    readable through the buffer protocol, and ``encode`` refuses to run
    while such a view is held. One thread at a time may use a workspace:
    give each thread its own.

    `frame` and `isa` are those of ``encode``.
    """

    def __cinit__(self, Frame frame not None, size_t capacity=1, *, str isa=None):
        self._code = _isa_code(isa)
        frame.usable()
        self._frame = frame.c
        self._bound = dicomrle_encode_bound(&self._frame)
        if capacity == 0 or capacity > (<size_t>PY_SSIZE_T_MAX) // self._bound:
            raise ValueError(f"'capacity' must be between 1 and {PY_SSIZE_T_MAX // self._bound}")
        self._capacity = capacity
        self._src_length = dicomrle_frame_length(&self._frame)
        self._scratch_length = dicomrle_scratch_size(&self._frame)
        self._dst = <uint8_t *>malloc(capacity * self._bound)
        self._scratch = <uint8_t *>malloc(self._scratch_length)
        self._lengths = <size_t *>malloc(capacity * sizeof(size_t))
        if self._dst == NULL or self._scratch == NULL or self._lengths == NULL:
            raise MemoryError()

    def __dealloc__(self):
        free(self._dst)
        free(self._scratch)
        free(self._lengths)

    def encode(self, const uint8_t[::1] src not None, size_t count=1) -> list:
        """Encode `count` frames that lie one after the other in `src`;
        return their encoded lengths."""
        if self._exports:
            raise BufferError("a view of the last frame is still held")
        if count == 0 or count > self._capacity:
            raise ValueError(f"'count' must be between 1 and {self._capacity}, not {count}")
        self._count = 0
        if <size_t>src.shape[0] // self._src_length < count:
            raise ValueError("the source buffer is shorter than the frames")
        cdef dicomrle_status status = DICOMRLE_OK
        cdef size_t i
        with nogil:
            for i in range(count):
                status = dicomrle_encode_isa(
                    &self._frame, &src[0] + i * self._src_length, self._src_length,
                    self._dst + i * self._bound, self._bound,
                    self._scratch, self._scratch_length, &self._lengths[i], self._code,
                )
                if status != DICOMRLE_OK:
                    break
        if status != DICOMRLE_OK:
            raise _error(status)
        self._count = count
        return [self._lengths[i] for i in range(count)]

    def to_bytes(self, size_t index=0) -> bytes:
        """Return a copy of frame `index` of the last ``encode``."""
        if index >= self._count:
            raise IndexError(f"the last encode gave {self._count} frames")
        return PyBytes_FromStringAndSize(
            <char *>self._dst + index * self._bound, <Py_ssize_t>self._lengths[index]
        )

    def __getbuffer__(self, Py_buffer *view, int flags):
        if self._count != 1:
            raise BufferError(f"the last encode gave {self._count} frames, not 1")
        PyBuffer_FillInfo(view, self, self._dst, <Py_ssize_t>self._lengths[0], 1, flags)
        self._exports += 1

    def __releasebuffer__(self, Py_buffer *view):
        self._exports -= 1


# ------------------------------------------------------------------ decoder

cdef str _plural(size_t n, str word):
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


cdef object _decode_error(
    dicomrle_status status,
    const dicomrle_decode_report *report,
    const uint8_t *src,
    size_t src_length,
    const dicomrle_frame *frame,
):
    """The exception for a failed decode, from the status and the report."""
    cdef size_t k = <size_t>report.segment
    cdef size_t need = frame.samples_per_pixel * frame.bytes_allocated
    cdef size_t previous
    if status == DICOMRLE_ERR_HEADER:
        return ValueError(
            f"the RLE frame is {_plural(src_length, 'byte')}, shorter than its "
            "64-byte header"
        )
    if status == DICOMRLE_ERR_SEGMENT_COUNT:
        return ValueError(
            f"the RLE header says {_plural(report.segments, 'segment')}, but "
            f"{8 * frame.bytes_allocated}-bit data with "
            f"{_plural(frame.samples_per_pixel, 'sample')} per pixel needs {need}"
        )
    if status == DICOMRLE_ERR_OFFSET:
        if report.offset < 64:
            return ValueError(
                f"RLE segment {k + 1} of {need} starts at offset {report.offset}, "
                "inside the 64-byte header"
            )
        if report.offset > src_length:
            return ValueError(
                f"RLE segment {k + 1} of {need} starts at offset {report.offset}, "
                f"past the end of the {src_length}-byte frame"
            )
        previous = (
            src[4 * k] | src[4 * k + 1] << 8 | src[4 * k + 2] << 16
            | <size_t>src[4 * k + 3] << 24
        )
        return ValueError(
            f"RLE segment {k + 1} offset {report.offset} is not after segment "
            f"{k}'s offset {previous}"
        )
    if status == DICOMRLE_ERR_SHORT:
        return ValueError(
            f"RLE segment {k + 1} of {need} decodes to "
            f"{_plural(report.decoded, 'byte')}, but its plane needs "
            f"{report.expected} (rows x columns)"
        )
    return _error(status)


cdef bint _decode(
    const uint8_t[::1] src,
    uint8_t *dst,
    size_t dst_length,
    const dicomrle_frame *frame,
    bint lsb_first,
    dicomrle_isa code,
) except -1:
    """Decode `src` into dst[0, frame length); return report.extra."""
    cdef const uint8_t *src_ptr = NULL
    cdef size_t src_length = <size_t>src.shape[0]
    cdef dicomrle_decode_report report
    cdef dicomrle_status status
    if src_length:
        src_ptr = &src[0]
    with nogil:
        status = dicomrle_decode_isa(
            frame, src_ptr, src_length, dst, dst_length, lsb_first, &report, code
        )
    if status != DICOMRLE_OK:
        raise _decode_error(status, &report, src_ptr, src_length, frame)
    return report.extra != 0


def decode_into(
    Frame frame not None,
    const uint8_t[::1] src not None,
    uint8_t[::1] dst not None,
) -> bool:
    """Decode one RLE Lossless `frame` from `src` into `dst`; see
    ``dicomrle_decode``.

    `dst` is a writable C-contiguous buffer of at least the frame length
    (rows x columns x samples x bytes); its first frame-length bytes are
    written. Returns True if a segment decoded longer than its plane (the
    surplus is ignored). Raises ValueError for a `dst` too small or a
    malformed frame.
    """
    frame.usable()
    cdef size_t length = dicomrle_frame_length(&frame.c)
    cdef size_t dst_length = <size_t>dst.shape[0]
    if dst_length < length:
        raise ValueError(
            f"the destination buffer is {_plural(dst_length, 'byte')}, shorter "
            f"than the {length}-byte frame"
        )
    return _decode(src, &dst[0], dst_length, &frame.c, frame.lsb_first, DICOMRLE_ISA_AUTO)


def decode_equals(
    Frame frame not None,
    const uint8_t[::1] src not None,
    const uint8_t[::1] expected not None,
    uint8_t[::1] scratch not None,
) -> bool:
    """Decode one RLE Lossless frame into `scratch`, as ``decode_into``
    does, and return True if it equals `expected` (the frame length bytes
    exactly), False otherwise. Raises as ``decode_into`` does."""
    frame.usable()
    cdef size_t length = dicomrle_frame_length(&frame.c)
    cdef size_t dst_length = <size_t>scratch.shape[0]
    cdef int differ
    if dst_length < length:
        raise ValueError(
            f"the scratch buffer is {_plural(dst_length, 'byte')}, shorter "
            f"than the {length}-byte frame"
        )
    _decode(src, &scratch[0], dst_length, &frame.c, frame.lsb_first, DICOMRLE_ISA_AUTO)
    if <size_t>expected.shape[0] != length:
        return False
    with nogil:
        differ = memcmp(&scratch[0], &expected[0], length)
    return differ == 0


def decode(
    Frame frame not None,
    const uint8_t[::1] src not None,
    *,
    str isa=None,
) -> bytes:
    """Decode one RLE Lossless frame into a new ``bytes``; see
    ``decode_into``. `isa` (a name of ``decode_isas()`` or "auto") selects
    one instruction set, for tests and benchmarks: all give the same."""
    cdef dicomrle_isa code = _isa_code(isa)
    frame.usable()
    cdef size_t length = dicomrle_frame_length(&frame.c)
    out = PyBytes_FromStringAndSize(NULL, <Py_ssize_t>length)
    cdef uint8_t *dst = <uint8_t *>PyBytes_AS_STRING(out)
    dicomrle_advise_huge_pages(dst, length)
    _decode(src, dst, length, &frame.c, frame.lsb_first, code)
    return out


def decode_isas() -> list:
    """The instruction sets ``decode`` can use here, "scalar" first."""
    return list(ISAS)


cdef class FrameDecoder:
    """Decode many RLE Lossless frames of one kind into one output, a range
    of frames per ``decode`` call, without the GIL.

    `frames` is a sequence of bytes-like objects, held (their buffers
    locked) until the decoder is freed. Frame i goes to bytes [i * n, (i +
    1) * n) of the output, n the frame length (rows x columns x samples x
    bytes). The output is `dst`, a writable C-contiguous buffer of at
    least that many bytes, or else a new ``bytes`` of exactly that many
    plus `padding` zero bytes, which ``result`` hands over once every frame
    is decoded, never before. Threads may call ``decode`` at once on
    disjoint ranges of frames. `frame` describes each of them.
    """

    def __cinit__(self, Frame frame not None, frames, dst=None, *, size_t padding=0):
        cdef Py_ssize_t count = len(frames)
        cdef Py_ssize_t i
        cdef size_t total
        frame.usable()
        self._frame = frame.c
        self._lsb_first = frame.lsb_first
        self._frame_length = dicomrle_frame_length(&self._frame)
        if count == 0:
            raise ValueError("there are no frames to decode")
        if <size_t>count > (<size_t>PY_SSIZE_T_MAX - padding) // self._frame_length:
            raise OverflowError(
                f"{count} frames of {self._frame_length} bytes do not fit in memory"
            )
        total = <size_t>count * self._frame_length
        self._views = <Py_buffer *>calloc(<size_t>count, sizeof(Py_buffer))
        self._done = <uint8_t *>calloc(<size_t>count, 1)
        if self._views == NULL or self._done == NULL:
            raise MemoryError()
        for i in range(count):
            try:
                PyObject_GetBuffer(frames[i], &self._views[i], PyBUF_SIMPLE)
            except (TypeError, BufferError, ValueError) as exc:
                raise TypeError(
                    f"frame {i} must be a C-contiguous bytes-like object, not "
                    f"{type(frames[i]).__name__} ({exc})"
                ) from None
            self._held = i + 1
        self._count = <size_t>count
        if dst is None:
            self._out = PyBytes_FromStringAndSize(NULL, <Py_ssize_t>(total + padding))
            self._dst = <uint8_t *>PyBytes_AS_STRING(self._out)
            self._dst_length = total
            memset(self._dst + total, 0, padding)
            dicomrle_advise_huge_pages(self._dst, total)
        else:
            if padding:
                raise ValueError("'padding' is for a new bytes output only")
            PyObject_GetBuffer(dst, &self._dst_view, PyBUF_WRITABLE)
            self._has_dst_view = True
            self._dst = <uint8_t *>self._dst_view.buf
            self._dst_length = <size_t>self._dst_view.len
            if self._dst_length < total:
                raise ValueError(
                    f"the destination buffer is {_plural(self._dst_length, 'byte')}, "
                    f"shorter than the {count} frames of {self._frame_length} bytes"
                )

    def __dealloc__(self):
        cdef size_t i
        if self._views != NULL:
            for i in range(self._held):
                PyBuffer_Release(&self._views[i])
        free(self._views)
        free(self._done)
        if self._has_dst_view:
            PyBuffer_Release(&self._dst_view)

    @property
    def frames(self) -> int:
        """The number of frames."""
        return self._count

    @property
    def frame_length(self) -> int:
        """The bytes of one decoded frame."""
        return self._frame_length

    def decode(self, size_t start, size_t stop) -> bool:
        """Decode frames [start, stop) into their places in the output.

        Returns True if a segment decoded longer than its plane (the
        surplus is ignored). Raises ValueError naming the first frame of
        the range that is not valid RLE for the description.
        """
        cdef size_t i
        cdef size_t index = stop
        cdef dicomrle_status status = DICOMRLE_OK
        cdef dicomrle_decode_report report
        cdef int extra = 0
        cdef const uint8_t *src
        cdef size_t src_length
        if start > stop or stop > self._count:
            raise IndexError(
                f"frames {start} to {stop} are not a range of the {self._count} frames"
            )
        with self._lock:
            if self._finished:
                raise RuntimeError("the output was handed over already")
            self._active += 1
        try:
            with nogil:
                for i in range(start, stop):
                    status = dicomrle_decode_isa(
                        &self._frame,
                        <const uint8_t *>self._views[i].buf,
                        <size_t>self._views[i].len,
                        self._dst + i * self._frame_length,
                        self._frame_length,
                        self._lsb_first, &report, DICOMRLE_ISA_AUTO,
                    )
                    if status != DICOMRLE_OK:
                        index = i
                        break
                    extra |= report.extra
                    self._done[i] = 1
        finally:
            with self._lock:
                self._active -= 1
        if status != DICOMRLE_OK:
            src = <const uint8_t *>self._views[index].buf
            src_length = <size_t>self._views[index].len
            exc = _decode_error(status, &report, src, src_length, &self._frame)
            raise type(exc)(f"frame {index}: {exc}")
        return extra != 0

    def result(self):
        """Hand over the output: the new ``bytes`` (``dst`` when one was
        given) once every frame is decoded.

        Raises RuntimeError if a frame is not decoded yet or a ``decode``
        is still running; after it, ``decode`` refuses to run.
        """
        cdef size_t i
        with self._lock:
            if self._active:
                raise RuntimeError("frames are still being decoded")
            for i in range(self._count):
                if not self._done[i]:
                    raise RuntimeError(f"frame {i} is not decoded")
            self._finished = True
        out = self._out
        self._out = None
        if out is None and not self._has_dst_view:
            raise RuntimeError("the output was handed over already")
        if self._has_dst_view:
            return self._dst_view.obj
        return out
