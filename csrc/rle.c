/*
 * dicomrle: DICOM RLE Lossless frame encoder, PS3.5 Annex G.
 */
#include "rle.h"
#include "rle_impl.h"

#include <string.h>

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

/*
 * PS3.5 G.3.1 PackBits: a header byte n in 0..127 is followed by n + 1
 * literal bytes; n in -127..-1 (129..255) by one byte repeated 1 - n
 * times; -128 is never written. Each row is encoded on its own.
 *
 * The policy: every repeat of three or more bytes is a replicate run
 * (runs longer than 128 are split into 128-byte runs and the rest); a
 * single byte joins the open literal run; a two-byte repeat joins the open
 * literal when its current 128-byte packet has room for both bytes, and
 * is a replicate run otherwise (no literal open, or one byte of room or
 * none). A run of 128 q + 1 bytes (q >= 1) gives one byte to a literal:
 * its first byte to the open literal when that has room, else its last
 * byte starts the next literal.
 *
 * Why this is a minimum-size encoding of the row. Describe the state
 * after a prefix of the row by its cost c (bytes written so far) and the
 * room s (0..127) left in the open literal packet (0 when none is open).
 * The rest of the row costs at most 1 more from room 0 than from any
 * other room, since only the first header of a literal continuing the
 * open one can differ. So (c, s) is never worse than (c + 1, s') for any
 * s', nor than (c, s') with s' <= s. The policy picks at the end of each
 * run the state of least cost and, among those, most room, over every
 * way of covering the run: for a two-byte repeat, the literal costs
 * c + 2 with room s - 2 when s >= 2 (else c + 3) against c + 2 and room 0
 * for the replicate; for three to 128 bytes the replicate run costs c + 2
 * and anything else at least c + 3; for a longer run, moving d bytes of
 * it into literals only saves a 2-byte replicate run when d is at least
 * its length mod 128, so only a remainder of 1 pays (a remainder of 2
 * ties and stays replicated). Hence the encoding is as small as PackBits
 * with separate rows allows, and in particular no larger than one literal
 * run per 128 bytes: a row of n bytes encodes to at most
 * n + ceil(n / 128) bytes (dicomrle_encode_bound relies on this).
 *
 * This is the scalar reference: it walks the row run by run. The fast
 * encoders (rle_fast.c, one per instruction set) make the same choices
 * with wide compares.
 */
static uint8_t *put_literal(uint8_t *out, const uint8_t *src, size_t length)
{
    while (length > MAX_RUN) {
        *out++ = MAX_RUN - 1;
        memcpy(out, src, MAX_RUN);
        out += MAX_RUN;
        src += MAX_RUN;
        length -= MAX_RUN;
    }
    *out++ = (uint8_t)(length - 1);
    memcpy(out, src, length);
    return out + length;
}

size_t dicomrle_row_scalar(const uint8_t *src, size_t length, uint8_t *dst)
{
    uint8_t *out = dst;
    size_t i = 0;
    size_t lit_start = 0;
    size_t lit_len = 0;

    while (i < length) {
        size_t run = 1;
        size_t room = lit_len % MAX_RUN ? MAX_RUN - lit_len % MAX_RUN : 0;
        int tail = 0;

        while (i + run < length && src[i + run] == src[i]) {
            run++;
        }
        if (run == 1 || (run == 2 && room >= 2)) {
            if (lit_len == 0) {
                lit_start = i;
            }
            lit_len += run;
            i += run;
            continue;
        }
        if (run > MAX_RUN && run % MAX_RUN == 1) {
            if (room) {
                lit_len++;
                i++;
            } else {
                tail = 1;
            }
            run--;
        }
        if (lit_len) {
            out = put_literal(out, src + lit_start, lit_len);
            lit_len = 0;
        }
        for (; run >= MAX_RUN; run -= MAX_RUN, i += MAX_RUN) {
            *out++ = (uint8_t)(257 - MAX_RUN);
            *out++ = src[i];
        }
        if (run) {
            *out++ = (uint8_t)(257 - run);
            *out++ = src[i];
            i += run;
        }
        if (tail) {
            lit_start = i;
            lit_len = 1;
            i++;
        }
    }
    if (lit_len) {
        out = put_literal(out, src + lit_start, lit_len);
    }
    return (size_t)(out - dst);
}

size_t dicomrle_encode_row(const uint8_t *src, size_t length, uint8_t *dst)
{
    return dicomrle_encode_row_isa(src, length, dst, DICOMRLE_ISA_AUTO);
}

size_t dicomrle_encode_row_isa(const uint8_t *src, size_t length,
                               uint8_t *dst, dicomrle_isa isa)
{
    dicomrle_kernel kernel;

    if (!dicomrle_kernel_get(isa, &kernel)) {
        return 0;
    }
    return kernel.row(src, length, dst, dst + row_bound(length));
}

size_t dicomrle_encode_row_scalar(const uint8_t *src, size_t length,
                                  uint8_t *dst)
{
    return dicomrle_row_scalar(src, length, dst);
}

const char *dicomrle_simd(void)
{
    dicomrle_kernel kernel;

    dicomrle_kernel_get(DICOMRLE_ISA_AUTO, &kernel);
    return dicomrle_isa_name(kernel.isa);
}

int dicomrle_isa_available(dicomrle_isa isa)
{
    dicomrle_kernel kernel;

    return dicomrle_kernel_get(isa, &kernel);
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
                       uint8_t *row_out, const dicomrle_kernel *kernel)
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
    if (kernel->gather2 != NULL && stride == 2) {
        /* Byte pairs: 16-bit samples of one plane, or two 1-byte samples.
           Split them wide, reading whole pairs from the first byte of the
           row (not from p, which is one byte into the pair for the second
           1-byte sample: the last pair read would end past src). */
        if (bps == 2) {
            kernel->gather2(p, f->columns,
                            f->big_endian ? byte : bps - 1 - byte, row_out);
        } else {
            kernel->gather2(p - sample, f->columns, sample, row_out);
        }
        return;
    }
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
static dicomrle_status encode(const dicomrle_frame *frame,
                              const uint8_t *src, size_t src_length,
                              uint8_t *dst, size_t dst_capacity,
                              uint8_t *scratch, size_t scratch_length,
                              size_t *dst_length, dicomrle_isa isa)
{
    dicomrle_kernel kernel;
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
    /* The instruction set, chosen once per frame. */
    if (!dicomrle_kernel_get(isa, &kernel)) {
        return DICOMRLE_ERR_ISA;
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
                    gather_row(frame, src, row, sample, byte, scratch,
                               &kernel);
                    row_src = scratch;
                }
                offset += kernel.row(row_src, frame->columns, dst + offset,
                                     dst + dst_capacity);
            }
            if ((offset - start) % 2) {
                dst[offset++] = 0;
            }
        }
    }
    *dst_length = offset;
    return DICOMRLE_OK;
}

dicomrle_status dicomrle_encode(const dicomrle_frame *frame,
                                const uint8_t *src, size_t src_length,
                                uint8_t *dst, size_t dst_capacity,
                                uint8_t *scratch, size_t scratch_length,
                                size_t *dst_length)
{
    return encode(frame, src, src_length, dst, dst_capacity, scratch,
                  scratch_length, dst_length, DICOMRLE_ISA_AUTO);
}

dicomrle_status dicomrle_encode_scalar(const dicomrle_frame *frame,
                                       const uint8_t *src, size_t src_length,
                                       uint8_t *dst, size_t dst_capacity,
                                       uint8_t *scratch, size_t scratch_length,
                                       size_t *dst_length)
{
    return encode(frame, src, src_length, dst, dst_capacity, scratch,
                  scratch_length, dst_length, DICOMRLE_ISA_SCALAR);
}

dicomrle_status dicomrle_encode_isa(const dicomrle_frame *frame,
                                    const uint8_t *src, size_t src_length,
                                    uint8_t *dst, size_t dst_capacity,
                                    uint8_t *scratch, size_t scratch_length,
                                    size_t *dst_length, dicomrle_isa isa)
{
    return encode(frame, src, src_length, dst, dst_capacity, scratch,
                  scratch_length, dst_length, isa);
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
