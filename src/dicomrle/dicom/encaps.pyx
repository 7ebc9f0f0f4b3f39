"""Write encapsulated Pixel Data (PS3.5 A.4) once, frame after frame.

An ``Encapsulator`` owns one ``bytes`` object of the worst-case size of the
whole value. Each frame gets its place behind the one before it
(``reserve``, in frame order); the frame is then copied there (``write``),
by any thread, without the GIL, so threads fill the value in parallel.
Pages past the end are never touched, so the memory used grows with the
encoded data only, and ``finish`` shrinks the object in place. There is no
list of frames and no joined copy.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from cpython.pyport cimport PY_SSIZE_T_MAX
from libc.stdint cimport uint8_t, uint32_t
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memcpy, memmove

from dicomrle.codec.rle cimport DICOMRLE_BYTES_RESIZE, Workspace, dicomrle_advise_huge_pages

cdef size_t ITEM_HEADER = 8
cdef size_t MAX_ITEM = 0xFFFFFFFE
cdef size_t MAX_OFFSET = 0xFFFFFFFF


cdef inline void put_le32(uint8_t *dst, size_t value) noexcept nogil:
    dst[0] = value & 0xFF
    dst[1] = (value >> 8) & 0xFF
    dst[2] = (value >> 16) & 0xFF
    dst[3] = (value >> 24) & 0xFF


cdef inline void put_item(uint8_t *dst, size_t length) noexcept nogil:
    # (FFFE,E000) Item tag, little-endian, then the 32-bit length.
    dst[0] = 0xFE
    dst[1] = 0xFF
    dst[2] = 0x00
    dst[3] = 0xE0
    put_le32(dst + 4, length)


cdef int _tables(
    size_t count,
    size_t frame_bound,
    size_t **offsets,
    size_t **lengths,
    uint8_t **written,
) except -1:
    """Check the sizes and allocate the per-frame tables of an encapsulator."""
    if count == 0:
        raise ValueError("'count' must be at least 1")
    if frame_bound == 0 or frame_bound > MAX_ITEM:
        raise ValueError(f"'frame_bound' must be between 1 and {MAX_ITEM}")
    offsets[0] = <size_t *>malloc(count * sizeof(size_t))
    lengths[0] = <size_t *>malloc(count * sizeof(size_t))
    written[0] = <uint8_t *>calloc(count, 1)
    if offsets[0] == NULL or lengths[0] == NULL or written[0] == NULL:
        raise MemoryError()
    return 0


cdef class _Items:
    """The per-frame tables of an encapsulator: where each frame's item is,
    how long, and whether it is written."""

    cdef size_t *_offsets
    cdef size_t *_lengths
    cdef uint8_t *_written
    cdef size_t _count
    cdef size_t _reserved
    cdef size_t _bound
    cdef size_t _end

    def __dealloc__(self):
        free(self._offsets)
        free(self._lengths)
        free(self._written)


cdef class Encapsulator(_Items):
    """An encapsulated Pixel Data value of `count` frames under construction.

    Parameters
    ----------
    count : int
        The number of frames.
    frame_bound : int
        The largest encoded frame ``reserve`` may be given.
    """

    cdef object _out
    cdef uint8_t *_base
    cdef size_t _start

    def __cinit__(self, size_t count, size_t frame_bound):
        _tables(count, frame_bound, &self._offsets, &self._lengths, &self._written)
        self._start = ITEM_HEADER + 4 * count
        if count > (<size_t>PY_SSIZE_T_MAX - self._start) // (ITEM_HEADER + frame_bound + 1):
            raise OverflowError("the frames are too large to encapsulate")
        self._count = count
        self._bound = frame_bound
        self._end = self._start
        cdef size_t size = self._start + count * (ITEM_HEADER + frame_bound + 1)
        self._out = PyBytes_FromStringAndSize(NULL, <Py_ssize_t>size)
        self._base = <uint8_t *>PyBytes_AS_STRING(self._out)
        dicomrle_advise_huge_pages(self._base, size)

    def reserve(self, size_t length) -> int:
        """Give the next frame, of `length` bytes, its place; return its index."""
        if self._out is None:
            raise RuntimeError("the value is finished")
        if self._reserved == self._count:
            raise IndexError(f"all {self._count} frames are already reserved")
        if length == 0 or length > self._bound:
            raise ValueError(f"a frame must hold 1 to {self._bound} bytes, not {length}")
        cdef size_t index = self._reserved
        self._offsets[index] = self._end - self._start
        self._lengths[index] = length
        self._reserved += 1
        self._end += ITEM_HEADER + length + length % 2
        return index

    def write(self, size_t index, const uint8_t[::1] frame not None) -> None:
        """Copy frame `index` (padded to even length) to its reserved place."""
        self._check_write(index, <size_t>frame.shape[0])
        self._written[index] = 1
        with nogil:
            self._copy(index, &frame[0])

    def reserve_frames(self, Workspace space not None) -> int:
        """Reserve places for the frames of `space`'s last encode, in
        order; return the index of the first."""
        if space._count == 0:
            raise ValueError("the workspace holds no frames")
        if space._count > self._count - self._reserved:
            raise IndexError(f"only {self._count - self._reserved} frames are left to reserve")
        cdef size_t i
        cdef size_t first = self._reserved
        for i in range(space._count):
            self.reserve(space._lengths[i])
        return first

    def write_frames(self, size_t first, Workspace space not None) -> None:
        """Copy the frames of `space`'s last encode to the places reserved
        for frames `first`, `first` + 1, ..."""
        cdef size_t i
        cdef size_t count = space._count
        if first > self._reserved or count > self._reserved - first:
            raise IndexError(f"frames {first} to {first + count - 1} have no place yet")
        for i in range(count):
            self._check_write(first + i, space._lengths[i])
        for i in range(count):
            self._written[first + i] = 1
        with nogil:
            for i in range(count):
                self._copy(first + i, space._dst + i * space._bound)

    cdef void _check_write(self, size_t index, size_t length) except *:
        if self._out is None:
            raise RuntimeError("the value is finished")
        if index >= self._reserved:
            raise IndexError(f"frame {index} has no place yet")
        if self._written[index]:
            raise ValueError(f"frame {index} is already written")
        if length != self._lengths[index]:
            raise ValueError(f"frame {index} holds {self._lengths[index]} bytes, not {length}")

    cdef void _copy(self, size_t index, const uint8_t *frame) noexcept nogil:
        cdef size_t length = self._lengths[index]
        cdef size_t padded = length + length % 2
        cdef uint8_t *dst = self._base + self._start + self._offsets[index]
        put_item(dst, padded)
        memcpy(dst + ITEM_HEADER, frame, length)
        if padded != length:
            dst[ITEM_HEADER + length] = 0

    def append(self, const uint8_t[::1] frame not None) -> None:
        """Reserve the next frame's place and write it there."""
        self.write(self.reserve(<size_t>frame.shape[0]), frame)

    def needs_extended(self) -> bool:
        """True if the Basic Offset Table cannot hold the last frame's offset."""
        return self._reserved > 0 and self._offsets[self._reserved - 1] > MAX_OFFSET

    def finish(self, bint extended=False):
        """Return ``(value, offsets, lengths)`` once every frame is written.

        With `extended` the Basic Offset Table is empty, and `offsets` and
        `lengths` are for the Extended Offset Table (PS3.3 C.7.6.3.1.8).
        """
        if self._out is None:
            raise RuntimeError("the value is finished")
        cdef size_t i
        cdef size_t writes = 0
        for i in range(self._count):
            writes += self._written[i]
        if writes != self._count:
            raise RuntimeError(f"{writes} of {self._count} frames written")
        if not extended and self.needs_extended():
            raise ValueError("the Basic Offset Table cannot hold the offsets")
        cdef size_t data = self._end - self._start
        offsets = [self._offsets[i] for i in range(self._count)]
        lengths = [self._lengths[i] + self._lengths[i] % 2 for i in range(self._count)]
        if extended:
            with nogil:
                memmove(self._base + ITEM_HEADER, self._base + self._start, data)
            put_item(self._base, 0)
            size = ITEM_HEADER + data
        else:
            put_item(self._base, 4 * self._count)
            for i in range(self._count):
                put_le32(self._base + ITEM_HEADER + 4 * i, self._offsets[i])
            size = self._end
        out = self._out
        self._out = None
        self._base = NULL
        DICOMRLE_BYTES_RESIZE(out, <Py_ssize_t>size)
        return out, offsets, lengths


cdef extern from "<sys/uio.h>" nogil:
    cdef struct iovec:
        void *iov_base
        size_t iov_len
    ssize_t pwritev(int fd, const iovec *iov, int iovcnt, long long offset)

cdef extern from "<errno.h>" nogil:
    int errno
    int EINTR

# Iovecs a pwritev() call takes at most (POSIX guarantees 16; Linux 1024).
cdef int IOV_BATCH = 1024
cdef uint8_t ZERO_PAD[1]


cdef int pwrite_all(int fd, iovec *iov, int count, size_t offset) noexcept nogil:
    """Write every byte of `iov` at `offset`, resuming after short writes;
    return 0 or an errno."""
    cdef ssize_t done
    cdef int batch
    while count > 0:
        batch = count if count < IOV_BATCH else IOV_BATCH
        done = pwritev(fd, iov, batch, <long long>offset)
        if done < 0:
            if errno == EINTR:
                continue
            return errno
        offset += <size_t>done
        while count > 0 and <size_t>done >= iov[0].iov_len:
            done -= iov[0].iov_len
            iov += 1
            count -= 1
        if count > 0:
            iov[0].iov_base = <uint8_t *>iov[0].iov_base + done
            iov[0].iov_len -= <size_t>done
    return 0


cdef class FileEncapsulator(_Items):
    """The items of an encapsulated Pixel Data value written into a file.

    Like ``Encapsulator``, but each frame's item (header, frame, pad byte)
    goes straight to the file `fd` with ``pwritev``, without the GIL, at
    `start` plus its offset: memory holds the frames being encoded only.
    The Basic Offset Table and everything around the items are the
    caller's to write.

    Parameters
    ----------
    fd : int
        A file open for writing.
    start : int
        The file offset of the first frame's item.
    count : int
        The number of frames.
    frame_bound : int
        The largest encoded frame ``reserve_frames`` may be given.
    """

    cdef int _fd
    cdef size_t _file_start

    def __cinit__(self, int fd, size_t start, size_t count, size_t frame_bound):
        _tables(count, frame_bound, &self._offsets, &self._lengths, &self._written)
        self._fd = fd
        self._file_start = start
        self._count = count
        self._bound = frame_bound

    def reserve_frames(self, Workspace space not None) -> int:
        """Give the frames of `space`'s last encode their places, in order;
        return the index of the first."""
        if space._count == 0:
            raise ValueError("the workspace holds no frames")
        if space._count > self._count - self._reserved:
            raise IndexError(f"only {self._count - self._reserved} frames are left to reserve")
        cdef size_t i, length
        cdef size_t first = self._reserved
        for i in range(space._count):
            length = space._lengths[i]
            if length == 0 or length > self._bound:
                raise ValueError(f"a frame must hold 1 to {self._bound} bytes, not {length}")
            self._offsets[self._reserved] = self._end
            self._lengths[self._reserved] = length
            self._reserved += 1
            self._end += ITEM_HEADER + length + length % 2
        return first

    def write_frames(self, size_t first, Workspace space not None) -> None:
        """Write the items of `space`'s last encode to the places reserved
        for frames `first`, `first` + 1, ...

        Raises
        ------
        OSError
            If the file cannot be written (a full disk, say).
        """
        cdef size_t i, length
        cdef size_t count = space._count
        if first > self._reserved or count > self._reserved - first:
            raise IndexError(f"frames {first} to {first + count - 1} have no place yet")
        for i in range(count):
            if self._written[first + i]:
                raise ValueError(f"frame {first + i} is already written")
            if space._lengths[i] != self._lengths[first + i]:
                raise ValueError(f"frame {first + i} does not have its reserved length")
        cdef uint8_t *headers = <uint8_t *>malloc(count * ITEM_HEADER)
        cdef iovec *iov = <iovec *>malloc(3 * count * sizeof(iovec))
        cdef int n = 0
        cdef int error = 0
        if headers == NULL or iov == NULL:
            free(headers)
            free(iov)
            raise MemoryError()
        with nogil:
            for i in range(count):
                length = self._lengths[first + i]
                put_item(headers + i * ITEM_HEADER, length + length % 2)
                iov[n].iov_base = headers + i * ITEM_HEADER
                iov[n].iov_len = ITEM_HEADER
                iov[n + 1].iov_base = space._dst + i * space._bound
                iov[n + 1].iov_len = length
                n += 2
                if length % 2:
                    iov[n].iov_base = ZERO_PAD
                    iov[n].iov_len = 1
                    n += 1
            error = pwrite_all(
                self._fd, iov, n, self._file_start + self._offsets[first]
            )
        free(headers)
        free(iov)
        if error:
            raise OSError(error, os_strerror(error))
        for i in range(count):
            self._written[first + i] = 1

    def needs_extended(self) -> bool:
        """True if the Basic Offset Table cannot hold the last frame's offset."""
        return self._reserved > 0 and self._offsets[self._reserved - 1] > MAX_OFFSET

    def finish(self):
        """Return ``(data_length, offsets, lengths)`` once every frame is
        written: the bytes of the items, each item's offset from the first,
        and each item's value length (even)."""
        cdef size_t i
        for i in range(self._count):
            if not self._written[i]:
                raise RuntimeError(f"frame {i} of {self._count} is not written")
        offsets = [self._offsets[i] for i in range(self._count)]
        lengths = [self._lengths[i] + self._lengths[i] % 2 for i in range(self._count)]
        return self._end, offsets, lengths


def os_strerror(int code) -> str:
    import os

    return os.strerror(code)
