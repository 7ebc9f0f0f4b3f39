/*
 * dicomrle: internal interface between the frame drivers (rle.c,
 * rle_decode.c) and the per-instruction-set kernels (rle_fast.c,
 * rle_decode_fast.c). Not installed.
 */
#ifndef DICOMRLE_RLE_IMPL_H
#define DICOMRLE_RLE_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "rle.h"

#define DICOMRLE_MAX_RUN 128

/* The instruction sets this build has: SSE2 on x86 (unless
   DICOMRLE_NO_SIMD, meson -Dsimd=disabled), AVX2 through target
   attributes with GCC or Clang, used only if the CPU has it; the 64-bit
   word (SWAR) path on little-endian hosts. */
#if !defined(DICOMRLE_NO_SIMD) && \
    (defined(__SSE2__) || defined(_M_X64) || \
     (defined(_M_IX86_FP) && _M_IX86_FP >= 2))
#define RLE_SSE2 1
#include <emmintrin.h>
#if (defined(__GNUC__) || defined(__clang__)) && \
    (defined(__x86_64__) || defined(__i386__))
#define RLE_AVX2 1
#include <immintrin.h>
#endif
#endif
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define RLE_SWAR 1
#endif

#if defined(RLE_AVX2)
/* 1 when the CPU has AVX2 and the OS saves its state (XGETBV). */
static inline int dicomrle_avx2_usable(void)
{
    return __builtin_cpu_supports("avx2") != 0;
}
#endif

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

/* ------------------------------------------------------------ decoder */

/* Bytes an unpack may write past `want` (an operation starts before it and
   gives at most 128 bytes, written in whole blocks of at most 32 bytes
   that divide 128). */
#define DICOMRLE_UNPACK_SLACK 128

/* One instruction set's decoder pieces.

   unpack: decode PackBits operations (PS3.5 G.3.2) from *in, never reading
   an operation at or past `end`, appending to out[have ..) until at least
   `want` bytes are there or the segment ends; return the new count (which
   may exceed want by up to 127) and leave *in after the last operation.
   A literal cut by `end` gives the bytes before it, a replicate header at
   `end - 1` nothing. Writes out[have .. want + DICOMRLE_UNPACK_SLACK) at
   most, so the caller gives that much room; reads src[*in .. src_end)
   only (src_end >= end; the bytes between end and src_end may be read
   for wide copies but never decoded). NULL for the scalar reference.

   zip: out[g * i + j] = planes[j][i] for i < count, j < g (g 2..15). */
typedef struct dicomrle_decoder {
    dicomrle_isa isa;
    size_t (*unpack)(const uint8_t **in, const uint8_t *end,
                     const uint8_t *src_end, uint8_t *out, size_t have,
                     size_t want);
    void (*zip)(const uint8_t *const *planes, size_t g, size_t count,
                uint8_t *out);
} dicomrle_decoder;

/* As dicomrle_kernel_get(), for the decoder. */
int dicomrle_decoder_get(dicomrle_isa isa, dicomrle_decoder *decoder);

#endif /* DICOMRLE_RLE_IMPL_H */
