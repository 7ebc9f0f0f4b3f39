/*
 * dicomrle: the interface between the frame drivers (rle_encode.c,
 * rle_decode.c) and the kernels: the scalar reference (rle_scalar.c), one
 * row encoder, gather, segment unpacker and zip per instruction set
 * (rle_encode_fast.c, rle_decode_fast.c), and dicomrle_resolve_isa()
 * (rle_isa.c), which picks among them. Not installed.
 */
#ifndef DICOMRLE_RLE_KERNELS_H
#define DICOMRLE_RLE_KERNELS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "rle_internal.h"

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
/* Every Windows target is little-endian; MSVC defines no __BYTE_ORDER__. */
#if (defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && \
     __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) ||                   \
    defined(_WIN32)
#define RLE_SWAR 1
#endif

#if defined(RLE_AVX2)
#define RLE_AVX2_TARGET __attribute__((target("avx2")))
#endif

/* PS3.5 G.3.1: a row of n bytes never grows by more than one header byte
   per 128 literal bytes (see rle_scalar.c). */
static inline size_t dicomrle_row_bound(size_t columns)
{
    return columns + (columns + DICOMRLE_MAX_RUN - 1) / DICOMRLE_MAX_RUN;
}

/* PS3.5 G.3.1 literal runs: packets of 128 bytes, then the rest. */
static inline uint8_t *dicomrle_put_literal(uint8_t *out, const uint8_t *src,
                                            size_t length)
{
    while (length > DICOMRLE_MAX_RUN) {
        *out++ = DICOMRLE_MAX_RUN - 1;
        memcpy(out, src, DICOMRLE_MAX_RUN);
        out += DICOMRLE_MAX_RUN;
        src += DICOMRLE_MAX_RUN;
        length -= DICOMRLE_MAX_RUN;
    }
    *out++ = (uint8_t)(length - 1);
    memcpy(out, src, length);
    return out + length;
}

/* PS3.5 G.3.1 replicate runs: 128 bytes each, then the rest (never 1). */
static inline uint8_t *dicomrle_put_replicate(uint8_t *out, uint8_t value,
                                              size_t length)
{
    while (length >= DICOMRLE_MAX_RUN) {
        *out++ = (uint8_t)(257 - DICOMRLE_MAX_RUN);
        *out++ = value;
        length -= DICOMRLE_MAX_RUN;
    }
    if (length) {
        *out++ = (uint8_t)(257 - length);
        *out++ = value;
    }
    return out;
}

/* ---------------------------------------------------- scalar reference */

/* The contract of dicomrle_encode_row_isa(), run by run. */
size_t dicomrle_row_scalar(const uint8_t *src, size_t length, uint8_t *dst);

/* PS3.5 G.3.2, byte by byte: decode operations from *in, never reading one
   at or past end, writing out[i * stride] for have <= i < want; an
   operation that ends past want is cut there and sets *extra. Leaves *in
   after the last operation read and returns the count, at most want. */
size_t dicomrle_unpack_scalar(const uint8_t **in, const uint8_t *end,
                              uint8_t *out, size_t stride, size_t have,
                              size_t want, int *extra);

/* ------------------------------------------------------------- kernels */

/* Bytes an unpack may write past `want` (an operation starts before it and
   gives at most 128 bytes, written in whole blocks of at most 32 bytes
   that divide 128). */
#define DICOMRLE_UNPACK_SLACK 128

/* The kernels of one instruction set, both directions.

   row: the contract of dicomrle_encode_row_isa() and the same output byte
   for byte as dicomrle_row_scalar(); it may also write scratch bytes past
   the encoded row, up to dst_end (exclusive), which must be at least
   dst + dicomrle_row_bound(length). Reads src[0 .. length) only.

   gather2: out[x] = pairs[2 * x + which] for x < count; which is 0 or 1.
   Reads pairs[0 .. 2 * count). NULL for the scalar reference.

   unpack: decode PackBits operations (PS3.5 G.3.2) from *in, never reading
   an operation at or past `end`, appending to out[have ..) until at least
   `want` bytes are there or the segment ends; return the new count (which
   may exceed want by up to 127) and leave *in after the last operation.
   A literal cut by `end` gives the bytes before it, a replicate header at
   `end - 1` nothing. Writes out[have .. want + DICOMRLE_UNPACK_SLACK) at
   most, so the caller gives that much room; reads src[*in .. src_end)
   only (src_end >= end; the bytes between end and src_end may be read
   for wide copies but never decoded). NULL for the scalar reference.

   zip: out[g * i + j] = planes[j][i] for i < count, j < g (g 2..15). NULL
   for the scalar reference. */
typedef struct dicomrle_kernels {
    dicomrle_isa isa;
    size_t (*row)(const uint8_t *src, size_t length, uint8_t *dst,
                  const uint8_t *dst_end);
    void (*gather2)(const uint8_t *pairs, size_t count, size_t which,
                    uint8_t *out);
    size_t (*unpack)(const uint8_t **in, const uint8_t *end,
                     const uint8_t *src_end, uint8_t *out, size_t have,
                     size_t want);
    void (*zip)(const uint8_t *const *planes, size_t g, size_t count,
                uint8_t *out);
} dicomrle_kernels;

/* The one place that picks an instruction set, for both directions: the
   kernels of isa (DICOMRLE_ISA_AUTO: the best this build and CPU have), or
   NULL when isa is not built in or the CPU lacks it. No state is kept:
   the CPU is asked on every call (a few loads). */
const dicomrle_kernels *dicomrle_resolve_isa(dicomrle_isa isa);

/* The kernels of each instruction set (rle_encode_fast.c,
   rle_decode_fast.c), as dicomrle_kernels describes them. */
#define DICOMRLE_KERNELS(suffix, target)                                     \
    target size_t dicomrle_row_##suffix(const uint8_t *src, size_t length,  \
                                        uint8_t *dst,                       \
                                        const uint8_t *dst_end);            \
    target void dicomrle_gather2_##suffix(const uint8_t *pairs,             \
                                          size_t count, size_t which,       \
                                          uint8_t *out);                    \
    target size_t dicomrle_unpack_##suffix(                                 \
        const uint8_t **in, const uint8_t *end, const uint8_t *src_end,     \
        uint8_t *out, size_t have, size_t want);                            \
    target void dicomrle_zip_##suffix(const uint8_t *const *planes,         \
                                      size_t g, size_t count, uint8_t *out)

DICOMRLE_KERNELS(portable, );
#if defined(RLE_SSE2)
DICOMRLE_KERNELS(sse2, );
#endif
#if defined(RLE_AVX2)
DICOMRLE_KERNELS(avx2, RLE_AVX2_TARGET);
#endif

#endif /* DICOMRLE_RLE_KERNELS_H */
