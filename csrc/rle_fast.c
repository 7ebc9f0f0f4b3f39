/*
 * dicomrle: the fast row encoder and byte-plane gather.
 *
 * It makes exactly the choices of the scalar reference encoder in rle.c
 * (dicomrle_row_scalar), and so writes the same bytes; the tests compare
 * the two byte for byte. What differs is how the runs are found:
 *
 * - The reference walks the row run by run. This encoder looks only for
 *   repeats of three or more bytes ("triples"), many bytes at a time: it
 *   compares a block with itself shifted by one and by two bytes and jumps
 *   to the first set bit of the mask. Between two triples every run is one
 *   or two bytes long, and the policy (see rle.c) puts all of them into the
 *   open literal, except a two-byte repeat met while no literal is open or
 *   where the literal's current 128-byte packet has fewer than two bytes of
 *   room. Those places are one per 128 bytes, so a stretch between triples
 *   costs one vector scan and a couple of byte compares per 128 bytes.
 * - Literals are copied with memcpy, replicate runs measured with wide
 *   compares.
 *
 * Instruction sets: SSE2, which every x86-64 CPU has, so no run-time check
 * is needed; elsewhere (Arm, or a build with -Dsimd=disabled) a portable
 * path that compares 8 bytes at a time in a 64-bit word on little-endian
 * hosts, and byte by byte otherwise.
 */
#include "rle_impl.h"

#include <string.h>

#if !defined(DICOMRLE_NO_SIMD) && \
    (defined(__SSE2__) || defined(_M_X64) || \
     (defined(_M_IX86_FP) && _M_IX86_FP >= 2))
#define RLE_SSE2 1
#include <emmintrin.h>
#elif defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define RLE_SWAR 1
#endif

#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
static unsigned ctz32(uint32_t x)
{
    unsigned long i;
    _BitScanForward(&i, x);
    return (unsigned)i;
}
#if defined(RLE_SWAR)
static unsigned ctz64(uint64_t x)
{
    unsigned long i;
    _BitScanForward64(&i, x);
    return (unsigned)i;
}
#endif
#else
#define ctz32(x) ((unsigned)__builtin_ctz(x))
#define ctz64(x) ((unsigned)__builtin_ctzll(x))
#endif

#define MAX_RUN DICOMRLE_MAX_RUN

const char *dicomrle_fast_isa(void)
{
#if defined(RLE_SSE2)
    return "sse2";
#elif defined(RLE_SWAR)
    return "swar64";
#else
    return "bytewise";
#endif
}

#if defined(RLE_SWAR)
static uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}
#endif

/* The first i' >= i with p[i'] == p[i' + 1] == p[i' + 2] and i' + 2 < n,
   or n if there is none. */
static size_t find_triple(const uint8_t *p, size_t i, size_t n)
{
#if defined(RLE_SSE2)
    while (i + 34 <= n) {
        __m128i a0 = _mm_loadu_si128((const __m128i *)(p + i));
        __m128i a1 = _mm_loadu_si128((const __m128i *)(p + i + 1));
        __m128i a2 = _mm_loadu_si128((const __m128i *)(p + i + 2));
        __m128i b0 = _mm_loadu_si128((const __m128i *)(p + i + 16));
        __m128i b1 = _mm_loadu_si128((const __m128i *)(p + i + 17));
        __m128i b2 = _mm_loadu_si128((const __m128i *)(p + i + 18));
        uint32_t ma = (uint32_t)_mm_movemask_epi8(
            _mm_and_si128(_mm_cmpeq_epi8(a0, a1), _mm_cmpeq_epi8(a1, a2)));
        uint32_t mb = (uint32_t)_mm_movemask_epi8(
            _mm_and_si128(_mm_cmpeq_epi8(b0, b1), _mm_cmpeq_epi8(b1, b2)));
        uint32_t m = ma | (mb << 16);
        if (m) {
            return i + ctz32(m);
        }
        i += 32;
    }
    if (i + 18 <= n) {
        __m128i a0 = _mm_loadu_si128((const __m128i *)(p + i));
        __m128i a1 = _mm_loadu_si128((const __m128i *)(p + i + 1));
        __m128i a2 = _mm_loadu_si128((const __m128i *)(p + i + 2));
        uint32_t m = (uint32_t)_mm_movemask_epi8(
            _mm_and_si128(_mm_cmpeq_epi8(a0, a1), _mm_cmpeq_epi8(a1, a2)));
        if (m) {
            return i + ctz32(m);
        }
        i += 16;
    }
#elif defined(RLE_SWAR)
    /* Byte k of v is zero iff a triple starts at i + k; the lowest set bit
       of the zero-byte test is exact (borrows only move upwards). */
    while (i + 10 <= n) {
        uint64_t x = load64(p + i);
        uint64_t y = load64(p + i + 1);
        uint64_t z = load64(p + i + 2);
        uint64_t v = (x ^ y) | (y ^ z);
        uint64_t zero = (v - 0x0101010101010101u) & ~v & 0x8080808080808080u;
        if (zero) {
            return i + ctz64(zero) / 8;
        }
        i += 8;
    }
#endif
    for (; i + 2 < n; i++) {
        if (p[i] == p[i + 1] && p[i] == p[i + 2]) {
            return i;
        }
    }
    return n;
}

/* The number of bytes from p[i] on equal to p[i], at most n - i. */
static size_t run_length(const uint8_t *p, size_t i, size_t n)
{
    const uint8_t v = p[i];
    size_t j = i + 1;
#if defined(RLE_SSE2)
    const __m128i vv = _mm_set1_epi8((char)v);
    while (j + 16 <= n) {
        uint32_t m = (uint32_t)_mm_movemask_epi8(
            _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + j)), vv));
        if (m != 0xFFFFu) {
            return j + ctz32(~m) - i;
        }
        j += 16;
    }
#elif defined(RLE_SWAR)
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

/* PS3.5 G.3.1 literal runs: packets of 128 bytes, then the rest. */
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

/* PS3.5 G.3.1 replicate runs: 128 bytes each, then the rest (never 1). */
static uint8_t *put_replicate(uint8_t *out, uint8_t value, size_t length)
{
    while (length >= MAX_RUN) {
        *out++ = (uint8_t)(257 - MAX_RUN);
        *out++ = value;
        length -= MAX_RUN;
    }
    if (length) {
        *out++ = (uint8_t)(257 - length);
        *out++ = value;
    }
    return out;
}

size_t dicomrle_row_fast(const uint8_t *src, size_t n, uint8_t *dst)
{
    uint8_t *out = dst;
    size_t i = 0;
    size_t lit_start = 0;
    size_t lit_len = 0; /* the open literal is src[lit_start, i) */
    size_t t = find_triple(src, 0, n);

    while (i < n) {
        if (i == t) {
            /* A repeat of three or more bytes: replicate runs. */
            size_t run = run_length(src, i, n);
            size_t room = lit_len % MAX_RUN ? MAX_RUN - lit_len % MAX_RUN : 0;
            int tail = 0;

            if (run > MAX_RUN && run % MAX_RUN == 1) {
                if (room) {
                    lit_len++; /* its first byte ends the literal */
                    i++;
                } else {
                    tail = 1; /* its last byte starts the next one */
                }
                run--;
            }
            if (lit_len) {
                out = put_literal(out, src + lit_start, lit_len);
                lit_len = 0;
            }
            out = put_replicate(out, src[i], run);
            i += run;
            if (tail) {
                lit_start = i;
                lit_len = 1;
                i++;
            }
            t = find_triple(src, i, n);
            continue;
        }
        if (lit_len == 0) {
            /* No literal open: a two-byte repeat is a replicate run. */
            if (i + 1 < n && src[i] == src[i + 1]) {
                *out++ = (uint8_t)(257 - 2);
                *out++ = src[i];
                i += 2;
                continue;
            }
            lit_start = i;
            lit_len = 1;
            i++;
            continue;
        }
        /* A literal is open and src[i, t) holds runs of one or two bytes.
           They all join the literal, but for a two-byte repeat that starts
           where the current packet has one byte of room (offset k - 1) or
           none (offset k); k steps by 128 while the literal grows. */
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
                out = put_literal(out, src + lit_start, lit_len);
                lit_len = 0;
                *out++ = (uint8_t)(257 - 2);
                *out++ = src[x];
                i += 2;
            }
        }
    }
    if (lit_len) {
        out = put_literal(out, src + lit_start, lit_len);
    }
    return (size_t)(out - dst);
}

void dicomrle_gather2_fast(const uint8_t *pairs, size_t count, size_t which,
                           uint8_t *out)
{
    size_t x = 0;
#if defined(RLE_SSE2)
    const __m128i low = _mm_set1_epi16(0x00FF);
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
#endif
    pairs += which;
    for (; x < count; x++) {
        out[x] = pairs[2 * x];
    }
}
