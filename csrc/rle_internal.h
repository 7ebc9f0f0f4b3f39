/*
 * dicomrle: the entry points that choose an instruction set, for tests,
 * benchmarks, fuzzers and the binding's test entry points. Not part of
 * the contract (rle.h); not installed.
 *
 * Every instruction set gives the same output byte for byte (and the
 * decoder the same status and report) as the scalar reference, which
 * tests and fuzzers compare them with.
 */
#ifndef DICOMRLE_RLE_INTERNAL_H
#define DICOMRLE_RLE_INTERNAL_H

#include "rle.h"

#ifdef __cplusplus
extern "C" {
#endif

/* AUTO is what dicomrle_encode() and dicomrle_decode() use: AVX2 when the
   CPU has it (checked at run time, never assumed at build time), else SSE2
   on x86, else the portable path. */
typedef enum dicomrle_isa {
    DICOMRLE_ISA_AUTO = 0,
    DICOMRLE_ISA_SCALAR,      /* the reference, run by run, byte by byte */
    DICOMRLE_ISA_PORTABLE,    /* 8 bytes in a 64-bit word (byte by byte on
                                 big-endian hosts); always built */
    DICOMRLE_ISA_SSE2,        /* x86 unless built with -Dsimd=disabled */
    DICOMRLE_ISA_AVX2         /* x86 with GCC or Clang, if the CPU has it */
} dicomrle_isa;

/* 1 when isa can be used in this build on this CPU. */
int dicomrle_isa_available(dicomrle_isa isa);

/* A static name of an instruction set: "auto", "scalar", "swar64" or
   "bytewise" (the portable path), "sse2", "avx2"; "unknown" otherwise. */
const char *dicomrle_isa_name(dicomrle_isa isa);

/* The static name of the instruction set AUTO is on this CPU. */
const char *dicomrle_simd(void);

/* dicomrle_encode() with the instruction set isa; DICOMRLE_ERR_ISA
   (nothing read, *dst_length 0) when it is not available. */
dicomrle_status dicomrle_encode_isa(const dicomrle_frame *frame,
                                    const uint8_t *src, size_t src_length,
                                    uint8_t *dst, size_t dst_capacity,
                                    uint8_t *scratch, size_t scratch_capacity,
                                    size_t *dst_length, dicomrle_isa isa);

/* dicomrle_decode() with the instruction set isa; DICOMRLE_ERR_ISA
   (nothing read or written) when it is not available. */
dicomrle_status dicomrle_decode_isa(const dicomrle_frame *frame,
                                    const uint8_t *src, size_t src_length,
                                    uint8_t *dst, size_t dst_capacity,
                                    int lsb_first,
                                    dicomrle_decode_report *report,
                                    dicomrle_isa isa);

/* Encode one row with PackBits as PS3.5 G.3.1 describes, in the fewest
   bytes PackBits allows (see rle_scalar.c for the policy and the proof),
   with the instruction set isa; returns the number of bytes of the
   encoding, 0 (nothing written) when isa is not available. dst holds at
   least length + (length + 127) / 128 bytes, all of which may be
   overwritten. Reads src[0 .. length) only. length must be > 0. */
size_t dicomrle_encode_row_isa(const uint8_t *src, size_t length,
                               uint8_t *dst, dicomrle_isa isa);

#ifdef __cplusplus
}
#endif

#endif /* DICOMRLE_RLE_INTERNAL_H */
