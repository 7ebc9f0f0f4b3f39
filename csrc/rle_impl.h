/*
 * dicomrle: internal interface between the frame driver (rle.c) and the
 * fast row encoder and byte-plane gather (rle_fast.c). Not installed.
 */
#ifndef DICOMRLE_RLE_IMPL_H
#define DICOMRLE_RLE_IMPL_H

#include <stddef.h>
#include <stdint.h>

#define DICOMRLE_MAX_RUN 128

/* The scalar reference row encoder (rle.c) and the fast one
   (rle_fast.c): same contract as dicomrle_encode_row(), same output
   byte for byte. The fast one may also write scratch bytes past the
   encoded row, up to dst_end (exclusive), which must be at least
   dst + length + (length + 127) / 128. */
size_t dicomrle_row_scalar(const uint8_t *src, size_t length, uint8_t *dst);
size_t dicomrle_row_fast(const uint8_t *src, size_t length, uint8_t *dst,
                         const uint8_t *dst_end);

/* out[x] = pairs[2 * x + which] for x < count; which is 0 or 1. Reads
   pairs[0 .. 2 * count). */
void dicomrle_gather2_fast(const uint8_t *pairs, size_t count, size_t which,
                           uint8_t *out);

/* Name of the instruction set the fast path was built for. */
const char *dicomrle_fast_isa(void);

#endif /* DICOMRLE_RLE_IMPL_H */
