/*
 * dicomrle: the one place that picks an instruction set, for the encoder
 * and the decoder alike, and the names of the instruction sets.
 */
#include "rle_kernels.h"

/* The scalar reference behind the row signature of the kernels. */
static size_t row_scalar(const uint8_t *src, size_t length, uint8_t *dst,
                         const uint8_t *dst_end)
{
    (void)dst_end;
    return dicomrle_row_scalar(src, length, dst);
}

/* Every instruction set built in, the best last. */
static const dicomrle_kernels KERNELS[] = {
    {DICOMRLE_ISA_SCALAR, row_scalar, NULL, NULL, NULL},
    {DICOMRLE_ISA_PORTABLE, dicomrle_row_portable, dicomrle_gather2_portable,
     dicomrle_unpack_portable, dicomrle_zip_portable},
#if defined(RLE_SSE2)
    {DICOMRLE_ISA_SSE2, dicomrle_row_sse2, dicomrle_gather2_sse2,
     dicomrle_unpack_sse2, dicomrle_zip_sse2},
#endif
#if defined(RLE_AVX2)
    {DICOMRLE_ISA_AVX2, dicomrle_row_avx2, dicomrle_gather2_avx2,
     dicomrle_unpack_avx2, dicomrle_zip_avx2},
#endif
};

#define COUNT (sizeof KERNELS / sizeof KERNELS[0])

/* 1 when the CPU can run k: only AVX2 needs asking (CPUID and XGETBV, which
   says the OS saves its state). */
static int cpu_has(const dicomrle_kernels *k)
{
#if defined(RLE_AVX2)
    if (k->isa == DICOMRLE_ISA_AVX2) {
        return __builtin_cpu_supports("avx2") != 0;
    }
#endif
    (void)k;
    return 1;
}

const dicomrle_kernels *dicomrle_resolve_isa(dicomrle_isa isa)
{
    size_t i;

    for (i = COUNT; i-- > 0;) {
        const dicomrle_kernels *k = &KERNELS[i];
        if ((isa == DICOMRLE_ISA_AUTO || isa == k->isa) && cpu_has(k)) {
            return k;
        }
        if (isa == k->isa) {
            return NULL;
        }
    }
    return NULL;
}

int dicomrle_isa_available(dicomrle_isa isa)
{
    return dicomrle_resolve_isa(isa) != NULL;
}

const char *dicomrle_isa_name(dicomrle_isa isa)
{
    static const char *const names[] = {
        "auto", "scalar",
#if defined(RLE_SWAR)
        "swar64",
#else
        "bytewise",
#endif
        "sse2", "avx2",
    };

    if ((size_t)isa < sizeof names / sizeof names[0]) {
        return names[isa];
    }
    return "unknown";
}

const char *dicomrle_simd(void)
{
    return dicomrle_isa_name(dicomrle_resolve_isa(DICOMRLE_ISA_AUTO)->isa);
}
