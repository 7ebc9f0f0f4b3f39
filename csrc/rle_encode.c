/*
 * dicomrle: DICOM RLE Lossless frame encoder, PS3.5 Annex G: the byte
 * planes of a frame, row by row, through the row encoder of the
 * instruction set dicomrle_resolve_isa() picks.
 */
#include "rle_kernels.h"

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
                       uint8_t *row_out, const dicomrle_kernels *kernel)
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
dicomrle_status dicomrle_encode_isa(const dicomrle_frame *frame,
                                    const uint8_t *src, size_t src_length,
                                    uint8_t *dst, size_t dst_capacity,
                                    uint8_t *scratch, size_t scratch_capacity,
                                    size_t *dst_length, dicomrle_isa isa)
{
    const dicomrle_kernels *kernel;
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
        return DICOMRLE_ERR_DST_CAPACITY;
    }
    if (scratch_capacity < dicomrle_scratch_size(frame)) {
        return DICOMRLE_ERR_SCRATCH;
    }
    /* The instruction set, chosen once per frame. */
    kernel = dicomrle_resolve_isa(isa);
    if (kernel == NULL) {
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
                               kernel);
                    row_src = scratch;
                }
                offset += kernel->row(row_src, frame->columns, dst + offset,
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
                                uint8_t *scratch, size_t scratch_capacity,
                                size_t *dst_length)
{
    return dicomrle_encode_isa(frame, src, src_length, dst, dst_capacity,
                               scratch, scratch_capacity, dst_length,
                               DICOMRLE_ISA_AUTO);
}

size_t dicomrle_encode_row_isa(const uint8_t *src, size_t length,
                               uint8_t *dst, dicomrle_isa isa)
{
    const dicomrle_kernels *kernel = dicomrle_resolve_isa(isa);

    if (kernel == NULL) {
        return 0;
    }
    return kernel->row(src, length, dst, dst + dicomrle_row_bound(length));
}
