/*
 * dicomrle: the decoder's segment unpackers and byte-plane zips, one per
 * instruction set (rle_isa.c picks among them).
 *
 * - unpack (rle_unpack.template.h): PackBits operations (PS3.5 G.3.2) as
 *   wide stores: a literal is copied in blocks of 8, 16 or 32 bytes, a
 *   replicate run filled with a splatted block, both rounded up to whole
 *   blocks inside the caller's slack (rle_kernels.h); near the end of src a
 *   literal is copied exactly.
 * - zip: the byte interleave of g planes into samples of the output
 *   order: unpacklo/hi for 2, 4 and 8 planes, a byte shuffle for 3
 *   (AVX2 only: SSE2 has no byte shuffle), a plain loop otherwise.
 *
 * The instruction sets are those of the encoder (rle_encode_fast.c):
 * portable (64-bit words) always, SSE2 on x86 unless DICOMRLE_NO_SIMD,
 * AVX2 through a target attribute when the CPU has it.
 */
#include "rle_kernels.h"

#define MAX_RUN DICOMRLE_MAX_RUN

/* out[g * i + j] = planes[j][i] for from <= i < count. */
static void zip_tail(const uint8_t *const *planes, size_t g, size_t from,
                     size_t count, uint8_t *out)
{
    size_t i, j;

    for (j = 0; j < g; j++) {
        const uint8_t *p = planes[j];
        uint8_t *o = out + j;
        for (i = from; i < count; i++) {
            o[g * i] = p[i];
        }
    }
}

/* ------------------------------------------------------------ portable */
static void op128_portable(uint8_t *out, const uint8_t *in)
{
    if (in[0] < 128) {
        memcpy(out, in + 1, 128);
    } else {
        memset(out, in[1], 128);
    }
}

#define RLE_FN(name) name##_portable
#define RLE_TARGET
#include "rle_unpack.template.h"
#undef RLE_FN
#undef RLE_TARGET

void dicomrle_zip_portable(const uint8_t *const *planes, size_t g, size_t count,
                         uint8_t *out)
{
    if (g == 2) {
        const uint8_t *a = planes[0];
        const uint8_t *b = planes[1];
        size_t i;
        for (i = 0; i < count; i++) {
            out[2 * i] = a[i];
            out[2 * i + 1] = b[i];
        }
        return;
    }
    zip_tail(planes, g, 0, count, out);
}

#if defined(RLE_SSE2)
/* ---------------------------------------------------------------- sse2 */
static void op128_sse2(uint8_t *out, const uint8_t *in)
{
    int k;

    if (in[0] < 128) {
        for (k = 0; k < 128; k += 16) {
            _mm_storeu_si128((__m128i *)(out + k),
                             _mm_loadu_si128((const __m128i *)(in + 1 + k)));
        }
    } else {
        const __m128i v = _mm_set1_epi8((char)in[1]);
        for (k = 0; k < 128; k += 16) {
            _mm_storeu_si128((__m128i *)(out + k), v);
        }
    }
}

#define RLE_FN(name) name##_sse2
#define RLE_TARGET
#include "rle_unpack.template.h"
#undef RLE_FN
#undef RLE_TARGET

#define LOAD(p) _mm_loadu_si128((const __m128i *)(p))
#define STORE(p, v) _mm_storeu_si128((__m128i *)(p), (v))

static void zip2_sse2(const uint8_t *a, const uint8_t *b, size_t count,
                      uint8_t *out, size_t *done)
{
    size_t i;

    for (i = 0; i + 16 <= count; i += 16) {
        __m128i x = LOAD(a + i);
        __m128i y = LOAD(b + i);
        STORE(out + 2 * i, _mm_unpacklo_epi8(x, y));
        STORE(out + 2 * i + 16, _mm_unpackhi_epi8(x, y));
    }
    *done = i;
}

static void zip4_sse2(const uint8_t *const *p, size_t count, uint8_t *out,
                      size_t *done)
{
    size_t i;

    for (i = 0; i + 16 <= count; i += 16) {
        __m128i a = LOAD(p[0] + i), b = LOAD(p[1] + i);
        __m128i c = LOAD(p[2] + i), d = LOAD(p[3] + i);
        __m128i ab_lo = _mm_unpacklo_epi8(a, b), ab_hi = _mm_unpackhi_epi8(a, b);
        __m128i cd_lo = _mm_unpacklo_epi8(c, d), cd_hi = _mm_unpackhi_epi8(c, d);
        uint8_t *o = out + 4 * i;
        STORE(o, _mm_unpacklo_epi16(ab_lo, cd_lo));
        STORE(o + 16, _mm_unpackhi_epi16(ab_lo, cd_lo));
        STORE(o + 32, _mm_unpacklo_epi16(ab_hi, cd_hi));
        STORE(o + 48, _mm_unpackhi_epi16(ab_hi, cd_hi));
    }
    *done = i;
}

static void zip8_sse2(const uint8_t *const *p, size_t count, uint8_t *out,
                      size_t *done)
{
    size_t i;

    for (i = 0; i + 16 <= count; i += 16) {
        __m128i e[8], f[8];
        uint8_t *o = out + 8 * i;
        int k;
        /* Bytes to pairs (e: 01 lo, 01 hi, 23 lo, ...), pairs to quads
           (f: 0123 of positions 0-3, 4-7, 8-11, 12-15, then 4567). */
        for (k = 0; k < 4; k++) {
            __m128i x = LOAD(p[2 * k] + i), y = LOAD(p[2 * k + 1] + i);
            e[2 * k] = _mm_unpacklo_epi8(x, y);
            e[2 * k + 1] = _mm_unpackhi_epi8(x, y);
        }
        for (k = 0; k < 2; k++) {
            __m128i *q = f + 4 * k;
            q[0] = _mm_unpacklo_epi16(e[4 * k], e[4 * k + 2]);
            q[1] = _mm_unpackhi_epi16(e[4 * k], e[4 * k + 2]);
            q[2] = _mm_unpacklo_epi16(e[4 * k + 1], e[4 * k + 3]);
            q[3] = _mm_unpackhi_epi16(e[4 * k + 1], e[4 * k + 3]);
        }
        for (k = 0; k < 4; k++) {
            STORE(o + 32 * k, _mm_unpacklo_epi32(f[k], f[k + 4]));
            STORE(o + 32 * k + 16, _mm_unpackhi_epi32(f[k], f[k + 4]));
        }
    }
    *done = i;
}

void dicomrle_zip_sse2(const uint8_t *const *planes, size_t g, size_t count,
                     uint8_t *out)
{
    size_t done = 0;

    if (g == 2) {
        zip2_sse2(planes[0], planes[1], count, out, &done);
    } else if (g == 4) {
        zip4_sse2(planes, count, out, &done);
    } else if (g == 8) {
        zip8_sse2(planes, count, out, &done);
    }
    zip_tail(planes, g, done, count, out);
}
#undef LOAD
#undef STORE
#endif /* RLE_SSE2 */

#if defined(RLE_AVX2)
/* ---------------------------------------------------------------- avx2 */
#define AVX2 RLE_AVX2_TARGET

static AVX2 void op128_avx2(uint8_t *out, const uint8_t *in)
{
    int k;

    if (in[0] < 128) {
        for (k = 0; k < 128; k += 32) {
            _mm256_storeu_si256(
                (__m256i *)(out + k),
                _mm256_loadu_si256((const __m256i *)(in + 1 + k)));
        }
    } else {
        const __m256i v = _mm256_set1_epi8((char)in[1]);
        for (k = 0; k < 128; k += 32) {
            _mm256_storeu_si256((__m256i *)(out + k), v);
        }
    }
}

#define RLE_FN(name) name##_avx2
#define RLE_TARGET AVX2
#include "rle_unpack.template.h"
#undef RLE_FN
#undef RLE_TARGET

static AVX2 void zip2_avx2(const uint8_t *a, const uint8_t *b, size_t count,
                           uint8_t *out, size_t *done)
{
    size_t i;

    /* unpack works within 128-bit lanes: lo holds positions 0-7 and
       16-23, hi 8-15 and 24-31; the permutes put the halves in order. */
    for (i = 0; i + 32 <= count; i += 32) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(a + i));
        __m256i y = _mm256_loadu_si256((const __m256i *)(b + i));
        __m256i lo = _mm256_unpacklo_epi8(x, y);
        __m256i hi = _mm256_unpackhi_epi8(x, y);
        _mm256_storeu_si256((__m256i *)(out + 2 * i),
                            _mm256_permute2x128_si256(lo, hi, 0x20));
        _mm256_storeu_si256((__m256i *)(out + 2 * i + 32),
                            _mm256_permute2x128_si256(lo, hi, 0x31));
    }
    *done = i;
}

/* Three planes (8-bit RGB): each output vector ORs one byte shuffle of
   each plane; SHUF3[plane][vector] picks its bytes, 0x80 a zero. */
static const uint8_t SHUF3[3][3][16] = {
    {{0x00, 0x80, 0x80, 0x01, 0x80, 0x80, 0x02, 0x80, 0x80, 0x03, 0x80, 0x80, 0x04, 0x80, 0x80, 0x05},
     {0x80, 0x80, 0x06, 0x80, 0x80, 0x07, 0x80, 0x80, 0x08, 0x80, 0x80, 0x09, 0x80, 0x80, 0x0A, 0x80},
     {0x80, 0x0B, 0x80, 0x80, 0x0C, 0x80, 0x80, 0x0D, 0x80, 0x80, 0x0E, 0x80, 0x80, 0x0F, 0x80, 0x80}},
    {{0x80, 0x00, 0x80, 0x80, 0x01, 0x80, 0x80, 0x02, 0x80, 0x80, 0x03, 0x80, 0x80, 0x04, 0x80, 0x80},
     {0x05, 0x80, 0x80, 0x06, 0x80, 0x80, 0x07, 0x80, 0x80, 0x08, 0x80, 0x80, 0x09, 0x80, 0x80, 0x0A},
     {0x80, 0x80, 0x0B, 0x80, 0x80, 0x0C, 0x80, 0x80, 0x0D, 0x80, 0x80, 0x0E, 0x80, 0x80, 0x0F, 0x80}},
    {{0x80, 0x80, 0x00, 0x80, 0x80, 0x01, 0x80, 0x80, 0x02, 0x80, 0x80, 0x03, 0x80, 0x80, 0x04, 0x80},
     {0x80, 0x05, 0x80, 0x80, 0x06, 0x80, 0x80, 0x07, 0x80, 0x80, 0x08, 0x80, 0x80, 0x09, 0x80, 0x80},
     {0x0A, 0x80, 0x80, 0x0B, 0x80, 0x80, 0x0C, 0x80, 0x80, 0x0D, 0x80, 0x80, 0x0E, 0x80, 0x80, 0x0F}},
};

static AVX2 void zip3_avx2(const uint8_t *const *p, size_t count,
                           uint8_t *out, size_t *done)
{
    __m128i m[3][3];
    size_t i;
    int k, v;

    for (k = 0; k < 3; k++) {
        for (v = 0; v < 3; v++) {
            m[k][v] = _mm_loadu_si128((const __m128i *)SHUF3[k][v]);
        }
    }
    for (i = 0; i + 16 <= count; i += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(p[0] + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(p[1] + i));
        __m128i c = _mm_loadu_si128((const __m128i *)(p[2] + i));
        for (v = 0; v < 3; v++) {
            __m128i r = _mm_or_si128(
                _mm_or_si128(_mm_shuffle_epi8(a, m[0][v]),
                             _mm_shuffle_epi8(b, m[1][v])),
                _mm_shuffle_epi8(c, m[2][v]));
            _mm_storeu_si128((__m128i *)(out + 3 * i + 16 * v), r);
        }
    }
    *done = i;
}

AVX2 void dicomrle_zip_avx2(const uint8_t *const *planes, size_t g,
                          size_t count, uint8_t *out)
{
    size_t done = 0;

    if (g == 2) {
        zip2_avx2(planes[0], planes[1], count, out, &done);
    } else if (g == 3) {
        zip3_avx2(planes, count, out, &done);
    } else if (g == 4) {
        zip4_sse2(planes, count, out, &done);
    } else if (g == 8) {
        zip8_sse2(planes, count, out, &done);
    }
    zip_tail(planes, g, done, count, out);
}
#endif /* RLE_AVX2 */
