"""Cython binding of the C element walker (csrc/dcm_walk.h): bytes in,
offsets out. No pydicom import."""

from libc.stdint cimport uint8_t


cdef extern from "dcm_walk.h" nogil:
    ctypedef enum dcmwalk_status:
        DCMWALK_OK
        DCMWALK_NEED_MORE
        DCMWALK_NOT_PART10
        DCMWALK_META
        DCMWALK_SYNTAX
        DCMWALK_TRUNCATED
        DCMWALK_ORDER
        DCMWALK_VR
        DCMWALK_ODD_LENGTH
        DCMWALK_UNDEFINED
        DCMWALK_ITEM
        DCMWALK_DEPTH
        DCMWALK_NO_PIXEL_DATA
        DCMWALK_ENCAPSULATED
        DCMWALK_PIXEL_VR
        DCMWALK_NULL

    ctypedef enum dcmwalk_element:
        DCMWALK_ELEMENTS

    ctypedef struct dcmwalk_value:
        size_t header
        size_t offset
        size_t length
        char vr[2]
        int present

    ctypedef struct dcmwalk_info:
        size_t meta_end
        size_t after_pixel
        size_t need
        size_t error_offset
        dcmwalk_value values[<int>DCMWALK_ELEMENTS]

    int DCMWALK_MAX_DEPTH
    dcmwalk_status dcmwalk_file(
        const uint8_t *buf, size_t available, size_t file_size, dcmwalk_info *info
    ) noexcept
    dcmwalk_status dcmwalk_file_rle(
        const uint8_t *buf, size_t available, size_t file_size, dcmwalk_info *info
    ) noexcept
    dcmwalk_status dcmwalk_tail(
        const uint8_t *buf, size_t length, size_t *error_offset
    ) noexcept
    const char *dcmwalk_status_message(dcmwalk_status status) noexcept


OK = DCMWALK_OK
NEED_MORE = DCMWALK_NEED_MORE
ENCAPSULATED = DCMWALK_ENCAPSULATED
SYNTAX = DCMWALK_SYNTAX
MAX_DEPTH = DCMWALK_MAX_DEPTH
STATUS_NAMES = {
    DCMWALK_OK: "ok",
    DCMWALK_NEED_MORE: "need_more",
    DCMWALK_NOT_PART10: "not_part10",
    DCMWALK_META: "meta",
    DCMWALK_SYNTAX: "syntax",
    DCMWALK_TRUNCATED: "truncated",
    DCMWALK_ORDER: "order",
    DCMWALK_VR: "vr",
    DCMWALK_ODD_LENGTH: "odd_length",
    DCMWALK_UNDEFINED: "undefined",
    DCMWALK_ITEM: "item",
    DCMWALK_DEPTH: "depth",
    DCMWALK_NO_PIXEL_DATA: "no_pixel_data",
    DCMWALK_ENCAPSULATED: "encapsulated",
    DCMWALK_PIXEL_VR: "pixel_vr",
    DCMWALK_NULL: "null",
}
# The order of dcmwalk_element in dcm_walk.h.
ELEMENTS = (
    "FileMetaInformationVersion",
    "MediaStorageSOPClassUID",
    "MediaStorageSOPInstanceUID",
    "TransferSyntaxUID",
    "ImplementationClassUID",
    "SamplesPerPixel",
    "PhotometricInterpretation",
    "PlanarConfiguration",
    "NumberOfFrames",
    "Rows",
    "Columns",
    "BitsAllocated",
    "BitsStored",
    "PixelRepresentation",
    "PixelDataGroupLength",
    "ExtendedOffsetTable",
    "ExtendedOffsetTableLengths",
    "FloatPixelData",
    "DoubleFloatPixelData",
    "PixelData",
)
assert len(ELEMENTS) == DCMWALK_ELEMENTS


def message(int status) -> str:
    """The English message of a walk status."""
    return dcmwalk_status_message(<dcmwalk_status>status).decode("ascii")


def walk_file(const uint8_t[::1] buf not None, size_t file_size, bint rle=False):
    """Walk a file whose first ``len(buf)`` bytes `buf` holds, up to its
    top-level Pixel Data; see ``dcmwalk_file`` in dcm_walk.h (with `rle`,
    ``dcmwalk_file_rle``: RLE Lossless files too).

    Returns ``(status, info)``: `info` maps "meta_end", "after_pixel",
    "need" and "error_offset" to ints, and the name of each element the
    walk saw (``ELEMENTS``) to ``(header, offset, length, vr)``.
    """
    cdef dcmwalk_info info
    cdef dcmwalk_status status
    cdef size_t available = <size_t>buf.shape[0]
    cdef const uint8_t *ptr = &buf[0] if available else NULL
    with nogil:
        if rle:
            status = dcmwalk_file_rle(ptr, available, file_size, &info)
        else:
            status = dcmwalk_file(ptr, available, file_size, &info)
    out = {
        "meta_end": info.meta_end,
        "after_pixel": info.after_pixel,
        "need": info.need,
        "error_offset": info.error_offset,
    }
    cdef int i
    cdef dcmwalk_value *v
    for i in range(DCMWALK_ELEMENTS):
        v = &info.values[i]
        if v.present:
            out[ELEMENTS[i]] = (
                v.header, v.offset, v.length, (<bytes>v.vr[:2]).decode("latin-1")
            )
    return <int>status, out


def walk_tail(const uint8_t[::1] buf not None):
    """Walk the top-level elements after the Pixel Data, all of `buf`;
    return ``(status, error_offset)``."""
    cdef size_t where = 0
    cdef size_t length = <size_t>buf.shape[0]
    cdef const uint8_t *ptr = &buf[0] if length else NULL
    cdef dcmwalk_status status
    with nogil:
        status = dcmwalk_tail(ptr, length, &where)
    return <int>status, where
