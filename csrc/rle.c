/*
 * dicomrle: DICOM RLE Lossless frame encoder, PS3.5 Annex G.
 */
#include "rle.h"

#include <string.h>

#define MAX_RUN 128

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

/* PS3.5 G.3.1: a row of n bytes never grows by more than one header byte
   per 128 literal bytes (see dicomrle_encode_row). */
static size_t row_bound(size_t columns)
{
    return columns + (columns + MAX_RUN - 1) / MAX_RUN;
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
    if (mul_overflows(frame->rows, row_bound(frame->columns), &n) ||
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
    return frame->rows * row_bound(frame->columns) + 1;
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

static size_t run_length(const uint8_t *src, size_t length)
{
    size_t i = 1;

    while (i < length && src[i] == src[0]) {
        i++;
    }
    return i;
}

static uint8_t *write_literal(uint8_t *out, const uint8_t *src, size_t length)
{
    *out++ = (uint8_t)(length - 1);
    memcpy(out, src, length);
    return out + length;
}

/*
 * PS3.5 G.3.1 PackBits: a header byte n in 0..127 is followed by n + 1
 * literal bytes; n in -127..-1 (129..255) by one byte repeated 1 - n
 * times; -128 is never written.
 *
 * Every repeat of three or more bytes is a replicate run. A two-byte
 * repeat joins the literal run around it when literal bytes follow it,
 * which saves a header byte, and is a replicate run otherwise (same size
 * or smaller). Between two literal runs there is therefore always a
 * replicate run of three or more bytes, which pays for the second
 * literal's header: a row of n bytes encodes to at most
 * n + ceil(n / 128) bytes.
 */
size_t dicomrle_encode_row(const uint8_t *src, size_t length, uint8_t *dst)
{
    uint8_t *out = dst;
    size_t i = 0;
    size_t literal_start = 0;
    size_t literal = 0;

    while (i < length) {
        size_t run = run_length(src + i, length - i);

        if (run >= 3) {
            if (literal) {
                out = write_literal(out, src + literal_start, literal);
                literal = 0;
            }
            /* A remainder of one or two bytes is handled on the next
               pass as a run of its own. */
            while (run >= 3) {
                size_t take = run < MAX_RUN ? run : MAX_RUN;
                *out++ = (uint8_t)(257 - take);
                *out++ = src[i];
                i += take;
                run -= take;
            }
            continue;
        }

        if (run == 2) {
            size_t next = i + 2 < length ? run_length(src + i + 2, length - i - 2) : 0;
            int join = literal ? (next == 1 || next == 2) : next == 1;
            if (!join) {
                if (literal) {
                    out = write_literal(out, src + literal_start, literal);
                    literal = 0;
                }
                *out++ = (uint8_t)(257 - 2);
                *out++ = src[i];
                i += 2;
                continue;
            }
        }

        if (literal == 0) {
            literal_start = i;
        }
        literal += run;
        i += run;
        if (literal >= MAX_RUN) {
            out = write_literal(out, src + literal_start, MAX_RUN);
            literal_start += MAX_RUN;
            literal -= MAX_RUN;
        }
    }
    if (literal) {
        out = write_literal(out, src + literal_start, literal);
    }
    return (size_t)(out - dst);
}

static void put_le32(uint8_t *dst, uint32_t value)
{
    dst[0] = (uint8_t)(value & 0xFF);
    dst[1] = (uint8_t)((value >> 8) & 0xFF);
    dst[2] = (uint8_t)((value >> 16) & 0xFF);
    dst[3] = (uint8_t)((value >> 24) & 0xFF);
}

/* Copy one row of the byte plane `byte` (0 = most significant) of sample
   `sample` into row_out. */
static void gather_row(const dicomrle_frame *f, const uint8_t *src,
                       size_t row, size_t sample, size_t byte,
                       uint8_t *row_out)
{
    size_t bps = f->bytes_per_sample;
    size_t missing = f->bytes_allocated - bps;
    size_t stride;
    size_t x;
    const uint8_t *p;

    if (f->planar) {
        p = src + ((sample * f->rows + row) * f->columns) * bps;
        stride = bps;
    } else {
        p = src + (row * f->columns * f->samples_per_pixel + sample) * bps;
        stride = bps * f->samples_per_pixel;
    }

    if (byte < missing) {
        /* A byte above the source container: zero or the sign. */
        if (!f->sign_extend) {
            memset(row_out, 0, f->columns);
            return;
        }
        p += f->big_endian ? 0 : bps - 1;
        for (x = 0; x < f->columns; x++) {
            row_out[x] = (p[x * stride] & 0x80) ? 0xFF : 0x00;
        }
        return;
    }
    byte -= missing;
    p += f->big_endian ? byte : bps - 1 - byte;
    for (x = 0; x < f->columns; x++) {
        row_out[x] = p[x * stride];
    }
}

/*
 * PS3.5 G.2 and G.5: one segment per byte of each sample, ordered sample
 * by sample, most significant byte first, each padded to even length and
 * found through the 64-byte header of little-endian 32-bit values: the
 * number of segments, then their offsets from the start of the header,
 * unused offsets zero.
 */
dicomrle_status dicomrle_encode(const dicomrle_frame *frame,
                                const uint8_t *src, size_t src_length,
                                uint8_t *dst, size_t dst_capacity,
                                uint8_t *scratch, size_t scratch_length,
                                size_t *dst_length)
{
    dicomrle_status status;
    size_t segments;
    size_t offset = DICOMRLE_HEADER_SIZE;
    size_t sample;
    size_t byte;
    size_t row;
    size_t row_step;
    int contiguous;

    if (dst_length == NULL) {
        return DICOMRLE_ERR_NULL;
    }
    *dst_length = 0;
    if (src == NULL || dst == NULL || scratch == NULL) {
        return DICOMRLE_ERR_NULL;
    }
    status = dicomrle_check(frame);
    if (status != DICOMRLE_OK) {
        return status;
    }
    if (src_length < dicomrle_frame_length(frame)) {
        return DICOMRLE_ERR_SRC_LENGTH;
    }
    if (dst_capacity < dicomrle_encode_bound(frame)) {
        return DICOMRLE_ERR_DST_LENGTH;
    }
    if (scratch_length < dicomrle_scratch_size(frame)) {
        return DICOMRLE_ERR_SCRATCH;
    }

    segments = frame->samples_per_pixel * frame->bytes_allocated;
    /* One-byte samples of one plane lie row after row in src already. */
    contiguous = frame->bytes_allocated == 1 &&
                 (frame->planar || frame->samples_per_pixel == 1);
    row_step = frame->columns;

    memset(dst, 0, DICOMRLE_HEADER_SIZE);
    put_le32(dst, (uint32_t)segments);

    for (sample = 0; sample < frame->samples_per_pixel; sample++) {
        for (byte = 0; byte < frame->bytes_allocated; byte++) {
            size_t segment = sample * frame->bytes_allocated + byte;
            size_t start = offset;

            put_le32(dst + 4 + 4 * segment, (uint32_t)offset);
            for (row = 0; row < frame->rows; row++) {
                const uint8_t *row_src;
                if (contiguous) {
                    row_src = src + (sample * frame->rows + row) * row_step;
                } else {
                    gather_row(frame, src, row, sample, byte, scratch);
                    row_src = scratch;
                }
                offset += dicomrle_encode_row(row_src, frame->columns, dst + offset);
            }
            if ((offset - start) % 2) {
                dst[offset++] = 0;
            }
        }
    }
    *dst_length = offset;
    return DICOMRLE_OK;
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
    case DICOMRLE_ERR_DST_LENGTH:
        return "the destination buffer is shorter than the encode bound";
    case DICOMRLE_ERR_SCRATCH:
        return "the scratch buffer is shorter than the scratch size";
    case DICOMRLE_ERR_NULL:
        return "a required pointer is NULL";
    }
    return "unknown status";
}
