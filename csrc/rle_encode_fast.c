/*
 * dicomrle: the fast row encoders and byte-plane gathers, one per
 * instruction set (rle_isa.c picks among them).
 *
 * They make exactly the choices of the scalar reference encoder in
 * rle_scalar.c (dicomrle_row_scalar), and so write the same bytes; the tests compare
 * every instruction set with it byte for byte. What differs is how the
 * runs are found:
 *
 * - The reference walks the row run by run. These encoders look only for
 *   repeats of three or more bytes ("triples"), many bytes at a time: they
 *   compare a 64-byte word of the row with itself shifted by one byte,
 *   which gives a mask `eq` of equal neighbours, and the triples from it.
 *   Between two triples every run is one or two bytes long, and the policy
 *   (see rle_scalar.c) puts all of them into the open literal, except a two-byte
 *   repeat met while no literal is open or where the literal's current
 *   128-byte packet has fewer than two bytes of room. The row loop itself
 *   is in rle_row.template.h.
 * - Literals are copied in blocks, replicate runs measured from the masks
 *   or with wide compares.
 *
 * Instruction sets, each compiled from the same template:
 * - portable: 8 bytes at a time in a 64-bit word on little-endian hosts,
 *   byte by byte otherwise; always built.
 * - sse2: every x86-64 CPU has it; built unless -Dsimd=disabled.
 * - avx2: built on x86 with GCC or Clang through a target attribute (the
 *   rest of the library keeps the baseline flags), and used only when the
 *   CPU reports AVX2 at run time (dicomrle_resolve_isa).
 */
#include "rle_kernels.h"

#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
static unsigned ctz32(uint32_t x)
{
    unsigned long i;
    _BitScanForward(&i, x);
    return (unsigned)i;
}
static unsigned ctz64(uint64_t x)
{
    unsigned long i;
    _BitScanForward64(&i, x);
    return (unsigned)i;
}
#else
#define ctz32(x) ((unsigned)__builtin_ctz(x))
#define ctz64(x) ((unsigned)__builtin_ctzll(x))
#endif

#define MAX_RUN DICOMRLE_MAX_RUN

/*
 * Bit masks of one 64-byte word of the row: bit k of `eq` is set when
 * p[64 w + k] == p[64 w + k + 1], bit k of `triple` when a repeat of three
 * starts there (both bytes after it equal it). Bits past the row are 0.
 */
typedef struct scan {
    const uint8_t *p;
    size_t n;
    uint64_t eq;
    uint64_t triple;
} scan;

static void set_masks(scan *s, size_t base, uint64_t eq)
{
    uint64_t next = base + 65 < s->n && s->p[base + 64] == s->p[base + 65];

    s->eq = eq;
    s->triple = eq & ((eq >> 1) | (next << 63));
}

/* The masks of the word at base, a byte at a time: any row, any host. */
static void scan_bytes(scan *s, size_t base)
{
    const uint8_t *p = s->p;
    uint64_t eq = 0;
    size_t k;

    for (k = 0; k < 64 && base + k + 1 < s->n; k++) {
        eq |= (uint64_t)(p[base + k] == p[base + k + 1]) << k;
    }
    set_masks(s, base, eq);
}

/* ------------------------------------------------------------ portable */
#if defined(RLE_SWAR)
static uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}
#endif

/* Bit k set when q[k] == q[k + 1], for k < 64; reads q[0, 65). */
static uint64_t eq64_portable(const uint8_t *q)
{
    uint64_t eq = 0;
    size_t k;

#if defined(RLE_SWAR)
    for (k = 0; k < 64; k += 8) {
        uint64_t v = load64(q + k) ^ load64(q + k + 1);
        /* 0x80 in each byte of v that is zero, exactly. */
        uint64_t z = ~(((v & 0x7F7F7F7F7F7F7F7Fu) + 0x7F7F7F7F7F7F7F7Fu) | v) &
                     0x8080808080808080u;
        /* Gather the eight flags into a byte. */
        eq |= ((z >> 7) * 0x0102040810204080u >> 56) << k;
    }
#else
    for (k = 0; k < 64; k++) {
        eq |= (uint64_t)(q[k] == q[k + 1]) << k;
    }
#endif
    return eq;
}

#define scan_short_portable scan_bytes

/* dst[0, 64) = src[0, 64). */
static void copy64_portable(uint8_t *dst, const uint8_t *src)
{
    memcpy(dst, src, 64);
}

/* The number of bytes from p[i] on equal to p[i], at most n - i. */
static size_t run_length_portable(const uint8_t *p, size_t i, size_t n)
{
    const uint8_t v = p[i];
    size_t j = i + 1;
#if defined(RLE_SWAR)
    const uint64_t vv = 0x0101010101010101u * v;
    while (j + 8 <= n) {
        uint64_t d = load64(p + j) ^ vv;
        if (d) {
            return j + ctz64(d) / 8 - i;
        }
        j += 8;
    }
#endif
    while (j < n && p[j] == v) {
        j++;
    }
    return j - i;
}

/* ------------------------------------------------- shared byte helpers */

/* PS3.5 G.3.1 literal runs: packets of 128 bytes, then the rest. A
   short literal is copied as one 16-byte block when both buffers have
   room for it (src_end and out_end are one past the readable and the
   writable bytes); the bytes written past it are overwritten later or lie
   past the encoded length. */
static uint8_t *put_literal(uint8_t *out, const uint8_t *src, size_t length,
                            const uint8_t *src_end, const uint8_t *out_end)
{
    if (length <= 16 && src_end - src >= 16 && out_end - out >= 17) {
        *out = (uint8_t)(length - 1);
        memcpy(out + 1, src, 16);
        return out + 1 + length;
    }
    return dicomrle_put_literal(out, src, length);
}

/*
 * A literal opens at src[lit] and src[lit, t) holds runs of one or two
 * bytes: write what the policy ends before t (a two-byte repeat where the
 * literal's current packet has one byte of room or none ends it as a
 * replicate run, and two-byte repeats while no literal is open are
 * replicate runs) and return the start of the literal still open at t
 * (t if none). Its cost is a few byte compares per 128 bytes.
 */
static size_t gap_general(const uint8_t *src, size_t lit, size_t t,
                          uint8_t **outp, const uint8_t *src_end,
                          const uint8_t *dst_end)
{
    uint8_t *out = *outp;
    size_t lit_start = lit;
    size_t lit_len = 1;
    size_t i = lit + 1;

    while (i < t) {
        if (lit_len == 0) {
            /* No literal open: a two-byte repeat is a replicate run. */
            if (i + 1 < t && src[i] == src[i + 1]) {
                *out++ = (uint8_t)(257 - 2);
                *out++ = src[i];
                i += 2;
                continue;
            }
            lit_start = i;
            lit_len = 1;
            if (++i == t) {
                break;
            }
        }
        /* A literal is open: every run joins it, but for a two-byte
           repeat that starts where the current packet has one byte of
           room (offset k - 1) or none (offset k); k steps by 128 while
           the literal grows. */
        {
            size_t k = lit_len % MAX_RUN ? MAX_RUN - lit_len % MAX_RUN : 0;
            size_t x = t;

            while (i + k < t) {
                if (k && src[i + k - 1] == src[i + k]) {
                    x = i + k - 1;
                    break;
                }
                if (i + k + 1 < t && src[i + k] == src[i + k + 1]) {
                    x = i + k;
                    break;
                }
                k += MAX_RUN;
            }
            lit_len += x - i;
            i = x;
            if (x < t) {
                out = put_literal(out, src + lit_start, lit_len, src_end,
                                  dst_end);
                lit_len = 0;
                *out++ = (uint8_t)(257 - 2);
                *out++ = src[x];
                i += 2;
            }
        }
    }
    *outp = out;
    return lit_len ? lit_start : t;
}

/*
 * The general case of a repeat of `run` >= 3 bytes at t with the literal
 * src[lit, t) open before it (none if lit == t): the literal's own splits,
 * then the rule for a run of 128 q + 1 bytes (see rle.c), then the runs.
 * Sets *i past what is written and *lit to the literal left open.
 */
static uint8_t *run_general(const uint8_t *src, size_t lit, size_t t,
                            size_t run, size_t *i, size_t *lit_out,
                            uint8_t *out, const uint8_t *src_end,
                            const uint8_t *dst_end)
{
    size_t lit_len;
    int tail = 0;

    if (lit < t) {
        lit = gap_general(src, lit, t, &out, src_end, dst_end);
    }
    lit_len = t - lit;
    if (run > MAX_RUN && run % MAX_RUN == 1) {
        if (lit_len % MAX_RUN) {
            lit_len++; /* its first byte ends the literal */
            t++;
        } else {
            tail = 1; /* its last byte starts the next one */
        }
        run--;
    }
    if (lit_len) {
        out = put_literal(out, src + lit, lit_len, src_end, dst_end);
    }
    out = dicomrle_put_replicate(out, src[t], run);
    t += run;
    *lit_out = t;
    *i = t + (size_t)tail;
    return out;
}

/* ------------------------------------------------------------- rows */
#define RLE_FN(name) name##_portable
#define RLE_TARGET
#include "rle_row.template.h"
#undef RLE_FN
#undef RLE_TARGET

void dicomrle_gather2_portable(const uint8_t *pairs, size_t count, size_t which,
                             uint8_t *out)
{
    size_t x;

    pairs += which;
    for (x = 0; x < count; x++) {
        out[x] = pairs[2 * x];
    }
}

#if defined(RLE_SSE2)
/* ---------------------------------------------------------------- sse2 */
/* Bit k set when q[k] == q[k + 1], for k < 64; reads q[0, 65). */
static uint64_t eq64_sse2(const uint8_t *q)
{
    uint64_t eq = 0;
    size_t k;

    for (k = 0; k < 64; k += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(q + k));
        __m128i b = _mm_loadu_si128((const __m128i *)(q + k + 1));
        eq |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(a, b)) << k;
    }
    return eq;
}

/* The masks of the last word of a row shorter than 65 bytes. */
static void scan_short_sse2(scan *s, size_t base)
{
    const uint8_t *p = s->p;
    size_t n = s->n;
    uint64_t eq = 0;
    size_t k;

    if (n < 17) {
        scan_bytes(s, base);
        return;
    }
    /* The last word of the row: 16 positions per compare; the last
       compare is moved back to end at p[n - 1] and its mask shifted into
       place. */
    for (k = 0; k < 64; k += 16) {
        size_t pos = base + k;
        uint64_t m;
        __m128i a, b;
        if (pos + 17 <= n) {
            a = _mm_loadu_si128((const __m128i *)(p + pos));
            b = _mm_loadu_si128((const __m128i *)(p + pos + 1));
            m = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(a, b));
        } else {
            if (pos + 1 >= n) {
                break;
            }
            a = _mm_loadu_si128((const __m128i *)(p + n - 17));
            b = _mm_loadu_si128((const __m128i *)(p + n - 16));
            m = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(a, b)) >>
                (pos - (n - 17));
        }
        eq |= m << k;
    }
    set_masks(s, base, eq);
}

static void copy64_sse2(uint8_t *dst, const uint8_t *src)
{
    size_t k;

    for (k = 0; k < 64; k += 16) {
        _mm_storeu_si128((__m128i *)(dst + k),
                         _mm_loadu_si128((const __m128i *)(src + k)));
    }
}

static size_t run_length_sse2(const uint8_t *p, size_t i, size_t n)
{
    const uint8_t v = p[i];
    const __m128i vv = _mm_set1_epi8((char)v);
    size_t j = i + 1;

    while (j + 16 <= n) {
        uint32_t m = (uint32_t)_mm_movemask_epi8(
            _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + j)), vv));
        if (m != 0xFFFFu) {
            return j + ctz32(~m) - i;
        }
        j += 16;
    }
    if (j < n && n >= 16) {
        /* The rest, in the 16 bytes that end the row. */
        uint32_t m = (uint32_t)_mm_movemask_epi8(
            _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + n - 16)), vv));
        uint32_t miss = (~m & 0xFFFFu) >> (j - (n - 16));
        return (miss ? j + ctz32(miss) : n) - i;
    }
    while (j < n && p[j] == v) {
        j++;
    }
    return j - i;
}

#define RLE_FN(name) name##_sse2
#define RLE_TARGET
#include "rle_row.template.h"
#undef RLE_FN
#undef RLE_TARGET

void dicomrle_gather2_sse2(const uint8_t *pairs, size_t count, size_t which,
                         uint8_t *out)
{
    const __m128i low = _mm_set1_epi16(0x00FF);
    size_t x = 0;

    if (which) {
        for (; x + 16 <= count; x += 16) {
            __m128i a = _mm_loadu_si128((const __m128i *)(pairs + 2 * x));
            __m128i b = _mm_loadu_si128((const __m128i *)(pairs + 2 * x + 16));
            _mm_storeu_si128((__m128i *)(out + x),
                             _mm_packus_epi16(_mm_srli_epi16(a, 8),
                                              _mm_srli_epi16(b, 8)));
        }
    } else {
        for (; x + 16 <= count; x += 16) {
            __m128i a = _mm_loadu_si128((const __m128i *)(pairs + 2 * x));
            __m128i b = _mm_loadu_si128((const __m128i *)(pairs + 2 * x + 16));
            _mm_storeu_si128((__m128i *)(out + x),
                             _mm_packus_epi16(_mm_and_si128(a, low),
                                              _mm_and_si128(b, low)));
        }
    }
    pairs += which;
    for (; x < count; x++) {
        out[x] = pairs[2 * x];
    }
}
#endif /* RLE_SSE2 */

#if defined(RLE_AVX2)
/* ---------------------------------------------------------------- avx2 */
#define AVX2 RLE_AVX2_TARGET

static AVX2 uint64_t eq64_avx2(const uint8_t *q)
{
    __m256i a0 = _mm256_loadu_si256((const __m256i *)q);
    __m256i b0 = _mm256_loadu_si256((const __m256i *)(q + 1));
    __m256i a1 = _mm256_loadu_si256((const __m256i *)(q + 32));
    __m256i b1 = _mm256_loadu_si256((const __m256i *)(q + 33));
    uint64_t lo = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a0, b0));
    uint64_t hi = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a1, b1));

    return lo | hi << 32;
}

#define scan_short_avx2 scan_short_sse2

static AVX2 void copy64_avx2(uint8_t *dst, const uint8_t *src)
{
    __m256i a = _mm256_loadu_si256((const __m256i *)src);
    __m256i b = _mm256_loadu_si256((const __m256i *)(src + 32));

    _mm256_storeu_si256((__m256i *)dst, a);
    _mm256_storeu_si256((__m256i *)(dst + 32), b);
}

static AVX2 size_t run_length_avx2(const uint8_t *p, size_t i, size_t n)
{
    const __m256i vv = _mm256_set1_epi8((char)p[i]);
    size_t j = i + 1;

    while (j + 32 <= n) {
        uint32_t m = (uint32_t)_mm256_movemask_epi8(
            _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(p + j)), vv));
        if (m != 0xFFFFFFFFu) {
            return j + ctz32(~m) - i;
        }
        j += 32;
    }
    if (j < n && n >= 32) {
        uint32_t m = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(
            _mm256_loadu_si256((const __m256i *)(p + n - 32)), vv));
        uint32_t miss = ~m >> (j - (n - 32));
        return (miss ? j + ctz32(miss) : n) - i;
    }
    return j - i + run_length_sse2(p, j - 1, n) - 1;
}

#define RLE_FN(name) name##_avx2
#define RLE_TARGET AVX2
#include "rle_row.template.h"
#undef RLE_FN
#undef RLE_TARGET

AVX2 void dicomrle_gather2_avx2(const uint8_t *pairs, size_t count, size_t which,
                              uint8_t *out)
{
    const __m256i low = _mm256_set1_epi16(0x00FF);
    size_t x = 0;

    /* packus works within 128-bit lanes: the permute puts the four
       8-byte pieces back in order. */
    if (which) {
        for (; x + 32 <= count; x += 32) {
            __m256i a = _mm256_loadu_si256((const __m256i *)(pairs + 2 * x));
            __m256i b = _mm256_loadu_si256((const __m256i *)(pairs + 2 * x + 32));
            __m256i v = _mm256_packus_epi16(_mm256_srli_epi16(a, 8),
                                            _mm256_srli_epi16(b, 8));
            _mm256_storeu_si256((__m256i *)(out + x),
                                _mm256_permute4x64_epi64(v, 0xD8));
        }
    } else {
        for (; x + 32 <= count; x += 32) {
            __m256i a = _mm256_loadu_si256((const __m256i *)(pairs + 2 * x));
            __m256i b = _mm256_loadu_si256((const __m256i *)(pairs + 2 * x + 32));
            __m256i v = _mm256_packus_epi16(_mm256_and_si256(a, low),
                                            _mm256_and_si256(b, low));
            _mm256_storeu_si256((__m256i *)(out + x),
                                _mm256_permute4x64_epi64(v, 0xD8));
        }
    }
    dicomrle_gather2_sse2(pairs + 2 * x, count - x, which, out + x);
}
#endif /* RLE_AVX2 */
