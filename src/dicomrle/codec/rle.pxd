cimport cython
from libc.stdint cimport uint8_t, uint32_t


cdef extern from "rle.h" nogil:
    ctypedef enum dicomrle_status:
        DICOMRLE_OK
        DICOMRLE_ERR_SIZE
        DICOMRLE_ERR_BYTES
        DICOMRLE_ERR_SEGMENTS
        DICOMRLE_ERR_OVERFLOW
        DICOMRLE_ERR_TOO_LARGE
        DICOMRLE_ERR_SRC_LENGTH
        DICOMRLE_ERR_DST_CAPACITY
        DICOMRLE_ERR_SCRATCH
        DICOMRLE_ERR_NULL
        DICOMRLE_ERR_ISA
        DICOMRLE_ERR_HEADER
        DICOMRLE_ERR_SEGMENT_COUNT
        DICOMRLE_ERR_OFFSET
        DICOMRLE_ERR_SHORT

    ctypedef struct dicomrle_frame:
        size_t rows
        size_t columns
        size_t samples_per_pixel
        size_t bytes_allocated
        size_t bytes_per_sample
        int big_endian
        int planar
        int sign_extend

    ctypedef struct dicomrle_decode_report:
        int segment
        size_t expected
        size_t decoded
        uint32_t segments
        uint32_t offset
        int extra

    size_t dicomrle_frame_length(const dicomrle_frame *frame) noexcept
    size_t dicomrle_encode_bound(const dicomrle_frame *frame) noexcept
    size_t dicomrle_scratch_size(const dicomrle_frame *frame) noexcept
    dicomrle_status dicomrle_check(const dicomrle_frame *frame) noexcept
    dicomrle_status dicomrle_encode(
        const dicomrle_frame *frame,
        const uint8_t *src, size_t src_length,
        uint8_t *dst, size_t dst_capacity,
        uint8_t *scratch, size_t scratch_capacity,
        size_t *dst_length,
    ) noexcept
    dicomrle_status dicomrle_decode(
        const dicomrle_frame *frame,
        const uint8_t *src, size_t src_length,
        uint8_t *dst, size_t dst_capacity,
        int lsb_first,
        dicomrle_decode_report *report,
    ) noexcept
    const char *dicomrle_status_message(dicomrle_status status) noexcept


# The entry points that choose an instruction set, for the test entries.
cdef extern from "rle_internal.h" nogil:
    ctypedef enum dicomrle_isa:
        DICOMRLE_ISA_AUTO
        DICOMRLE_ISA_SCALAR
        DICOMRLE_ISA_PORTABLE
        DICOMRLE_ISA_SSE2
        DICOMRLE_ISA_AVX2

    int dicomrle_isa_available(dicomrle_isa isa) noexcept
    const char *dicomrle_isa_name(dicomrle_isa isa) noexcept
    const char *dicomrle_simd() noexcept
    dicomrle_status dicomrle_encode_isa(
        const dicomrle_frame *frame,
        const uint8_t *src, size_t src_length,
        uint8_t *dst, size_t dst_capacity,
        uint8_t *scratch, size_t scratch_capacity,
        size_t *dst_length, dicomrle_isa isa,
    ) noexcept
    dicomrle_status dicomrle_decode_isa(
        const dicomrle_frame *frame,
        const uint8_t *src, size_t src_length,
        uint8_t *dst, size_t dst_capacity,
        int lsb_first,
        dicomrle_decode_report *report, dicomrle_isa isa,
    ) noexcept
    size_t dicomrle_encode_row_isa(
        const uint8_t *src, size_t length, uint8_t *dst, dicomrle_isa isa
    ) noexcept


cdef extern from *:
    """
    #define DICOMRLE_BYTES_RESIZE(b, n) _PyBytes_Resize(&(b), (n))
    """
    # Shrink a bytes object this code alone holds, in place.
    int DICOMRLE_BYTES_RESIZE(object b, Py_ssize_t n) except -1


cdef extern from *:
    """
    #if defined(__linux__)
    #include <stdint.h>
    #include <sys/mman.h>
    #endif
    /* For a fresh buffer of 4 MiB or more, ask Linux for 2 MiB pages
       inside [p, p + n): one page fault then maps 512 times as much. A
       hint only; smaller buffers are left alone. */
    static void dicomrle_advise_huge_pages(void *p, size_t n)
    {
    #if defined(__linux__) && defined(MADV_HUGEPAGE)
        const uintptr_t huge = (uintptr_t)1 << 21;
        if (n < ((size_t)4 << 20)) {
            return;
        }
        uintptr_t start = ((uintptr_t)p + huge - 1) & ~(huge - 1);
        uintptr_t end = ((uintptr_t)p + n) & ~(huge - 1);
        if (end > start) {
            (void)madvise((void *)start, end - start, MADV_HUGEPAGE);
        }
    #else
        (void)p;
        (void)n;
    #endif
    }
    """
    void dicomrle_advise_huge_pages(void *p, size_t n) noexcept nogil


cdef inline dicomrle_frame make_frame(
    size_t rows,
    size_t columns,
    size_t samples_per_pixel,
    size_t bytes_allocated,
    size_t bytes_per_sample,
    bint big_endian,
    bint planar,
    bint sign_extend,
) noexcept:
    cdef dicomrle_frame frame
    frame.rows = rows
    frame.columns = columns
    frame.samples_per_pixel = samples_per_pixel
    frame.bytes_allocated = bytes_allocated
    frame.bytes_per_sample = bytes_per_sample
    frame.big_endian = big_endian
    frame.planar = planar
    frame.sign_extend = sign_extend
    return frame


cdef class Frame:
    cdef dicomrle_frame c
    cdef readonly Py_ssize_t rows, columns, samples_per_pixel
    cdef readonly Py_ssize_t bits_allocated, bytes_allocated, bytes_per_sample
    cdef readonly str byteorder
    cdef readonly bint planar, sign_extend, lsb_first
    cdef readonly Py_ssize_t segments
    cdef readonly size_t frame_length, source_length
    # What dicomrle_check said: a frame too large for RLE Lossless is
    # described all the same, and refused when it is encoded or decoded.
    cdef dicomrle_status status
    cdef int usable(self) except -1


cdef class Workspace:
    cdef dicomrle_frame _frame
    cdef dicomrle_isa _code
    cdef size_t _bound
    cdef size_t _capacity
    cdef size_t _src_length
    cdef uint8_t *_dst
    cdef uint8_t *_scratch
    cdef size_t _scratch_length
    # The encoded lengths of the last encode's `_count` frames; frame i is
    # at _dst + i * _bound.
    cdef size_t *_lengths
    cdef size_t _count
    cdef Py_ssize_t _exports


cdef class FrameDecoder:
    cdef dicomrle_frame _frame
    cdef bint _lsb_first
    cdef size_t _frame_length
    cdef size_t _count
    # The frames' buffers, the first `_held` of them acquired.
    cdef Py_buffer *_views
    cdef size_t _held
    # _done[i]: frame i is decoded.
    cdef uint8_t *_done
    # The output: `_out` (a new bytes, until handed over) or `_dst_view`.
    cdef object _out
    cdef Py_buffer _dst_view
    cdef bint _has_dst_view
    cdef uint8_t *_dst
    cdef size_t _dst_length
    # Guards `_active` (decode calls running) and `_finished`.
    cdef cython.pymutex _lock
    cdef size_t _active
    cdef bint _finished
