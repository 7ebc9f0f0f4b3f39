/*
 * dicomrle: internal interface between the frame driver (rle.c) and the
 * fast row encoder and byte-plane gather (rle_fast.c). Not installed.
 */
#ifndef DICOMRLE_RLE_IMPL_H
#define DICOMRLE_RLE_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "rle.h"

#define DICOMRLE_MAX_RUN 128

/* The scalar reference row encoder (rle.c): the contract of
   dicomrle_encode_row(). */
size_t dicomrle_row_scalar(const uint8_t *src, size_t length, uint8_t *dst);

/* One instruction set's row encoder and 16-bit byte-plane gather.

   row: the contract of dicomrle_encode_row() and the same output byte for
   byte as dicomrle_row_scalar(); it may also write scratch bytes past the
   encoded row, up to dst_end (exclusive), which must be at least
   dst + length + (length + 127) / 128. Reads src[0 .. length) only.

   gather2: out[x] = pairs[2 * x + which] for x < count; which is 0 or 1.
   Reads pairs[0 .. 2 * count). NULL for the scalar reference. */
typedef struct dicomrle_kernel {
    dicomrle_isa isa;
    size_t (*row)(const uint8_t *src, size_t length, uint8_t *dst,
                  const uint8_t *dst_end);
    void (*gather2)(const uint8_t *pairs, size_t count, size_t which,
                    uint8_t *out);
} dicomrle_kernel;

/* The one place that chooses an instruction set: fill *kernel for isa
   (DICOMRLE_ISA_AUTO: the best this build and CPU have) and return 1, or
   return 0 when isa is not built in or the CPU lacks it. No state is kept:
   the CPU is asked on every call (a few loads). */
int dicomrle_kernel_get(dicomrle_isa isa, dicomrle_kernel *kernel);

#endif /* DICOMRLE_RLE_IMPL_H */
