/*
 * dicomrle: the frame checks and sizes of both directions, and the status
 * messages.
 */
#include "rle_kernels.h"

#define MAX_RUN DICOMRLE_MAX_RUN

static int mul_overflows(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a) {
        return 1;
    }
    *out = a * b;
    return 0;
}

static int add_overflows(size_t a, size_t b, size_t *out)
{
    if (b > SIZE_MAX - a) {
        return 1;
    }
    *out = a + b;
    return 0;
}

dicomrle_status dicomrle_check(const dicomrle_frame *frame)
{
    size_t ba;
    size_t n;

    if (frame == NULL) {
        return DICOMRLE_ERR_NULL;
    }
    if (frame->rows == 0 || frame->columns == 0 ||
        frame->samples_per_pixel == 0) {
        return DICOMRLE_ERR_SIZE;
    }
    ba = frame->bytes_allocated;
    if (!(ba == 1 || ba == 2 || ba == 4 || ba == 8) ||
        frame->bytes_per_sample == 0 || frame->bytes_per_sample > ba) {
        return DICOMRLE_ERR_BYTES;
    }
    if (frame->samples_per_pixel > DICOMRLE_MAX_SEGMENTS / ba) {
        return DICOMRLE_ERR_SEGMENTS;
    }
    /* The frame length must fit in size_t, and the worst-case encoding in
       the 32-bit offsets and item length of PS3.5 G.5 and A.4. */
    if (frame->columns > SIZE_MAX - MAX_RUN ||
        mul_overflows(frame->rows, frame->columns, &n) ||
        mul_overflows(n, frame->samples_per_pixel, &n) ||
        mul_overflows(n, ba, &n)) {
        return DICOMRLE_ERR_OVERFLOW;
    }
    if (mul_overflows(frame->rows, dicomrle_row_bound(frame->columns), &n) ||
        add_overflows(n, 1, &n) ||
        mul_overflows(n, frame->samples_per_pixel * ba, &n) ||
        add_overflows(n, DICOMRLE_HEADER_SIZE, &n) ||
        n > DICOMRLE_MAX_ENCODED) {
        return DICOMRLE_ERR_TOO_LARGE;
    }
    return DICOMRLE_OK;
}

size_t dicomrle_frame_length(const dicomrle_frame *frame)
{
    if (dicomrle_check(frame) != DICOMRLE_OK) {
        return 0;
    }
    return frame->rows * frame->columns * frame->samples_per_pixel *
           frame->bytes_per_sample;
}

/* PS3.5 G.3.1 and G.4: rows encoded one after the other, plus one byte
   to pad the segment to even length. */
static size_t segment_bound(const dicomrle_frame *frame)
{
    return frame->rows * dicomrle_row_bound(frame->columns) + 1;
}

size_t dicomrle_encode_bound(const dicomrle_frame *frame)
{
    if (dicomrle_check(frame) != DICOMRLE_OK) {
        return 0;
    }
    return DICOMRLE_HEADER_SIZE + segment_bound(frame) *
           frame->samples_per_pixel * frame->bytes_allocated;
}

size_t dicomrle_scratch_size(const dicomrle_frame *frame)
{
    if (dicomrle_check(frame) != DICOMRLE_OK) {
        return 0;
    }
    return frame->columns;
}

const char *dicomrle_status_message(dicomrle_status status)
{
    switch (status) {
    case DICOMRLE_OK:
        return "success";
    case DICOMRLE_ERR_SIZE:
        return "rows, columns and samples per pixel must be at least 1";
    case DICOMRLE_ERR_BYTES:
        return "bytes allocated must be 1, 2, 4 or 8 and bytes per sample "
               "between 1 and bytes allocated";
    case DICOMRLE_ERR_SEGMENTS:
        return "samples per pixel times bytes allocated exceeds the 15 "
               "segments RLE Lossless allows";
    case DICOMRLE_ERR_OVERFLOW:
        return "the frame is too large for this platform";
    case DICOMRLE_ERR_TOO_LARGE:
        return "the worst-case encoded frame exceeds the 4 GiB that 32-bit "
               "RLE offsets and item lengths can address";
    case DICOMRLE_ERR_SRC_LENGTH:
        return "the source buffer is shorter than the frame";
    case DICOMRLE_ERR_DST_CAPACITY:
        return "the destination buffer is too small for the frame";
    case DICOMRLE_ERR_SCRATCH:
        return "the scratch buffer is shorter than the scratch size";
    case DICOMRLE_ERR_NULL:
        return "a required pointer is NULL";
    case DICOMRLE_ERR_ISA:
        return "that instruction set is not built in or not supported by "
               "this CPU";
    case DICOMRLE_ERR_HEADER:
        return "the RLE frame is shorter than its 64-byte header";
    case DICOMRLE_ERR_SEGMENT_COUNT:
        return "the RLE header's segment count does not match the samples "
               "per pixel and bits allocated";
    case DICOMRLE_ERR_OFFSET:
        return "an RLE segment offset is inside the header, past the end "
               "of the frame or not after the previous one";
    case DICOMRLE_ERR_SHORT:
        return "an RLE segment decodes to fewer bytes than its byte plane "
               "needs";
    }
    return "unknown status";
}
