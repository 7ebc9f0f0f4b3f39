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

#if defined(RLE_SWAR) || !defined(RLE_SSE2)
static uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}
#endif

/*
 * Bit masks of one 64-byte word of the row, made on demand and kept while
 * the encoder stays in that word: bit k of `eq` is set when
 * p[64 w + k] == p[64 w + k + 1], bit k of `triple` when a repeat of three
 * starts there (both bytes after it equal it). Bits past the row are 0.
 */
typedef struct scan {
    const uint8_t *p;
    size_t n;
    size_t w;
    uint64_t eq;
    uint64_t triple;
} scan;

static void scan_word(scan *s, size_t w)
{
    const uint8_t *p = s->p;
    size_t base = 64 * w;
    size_t n = s->n;
    uint64_t eq = 0;
    uint64_t next = 0; /* bit 0: p[base + 64] == p[base + 65] */
    size_t k;

    s->w = w;
#if defined(RLE_SSE2)
    if (n >= 17) {
        /* 16 positions per compare; the last compare of the row is moved
           back to end at p[n - 1] and its mask shifted into place. */
        for (k = 0; k < 64; k += 16) {
            size_t pos = base + k;
            const uint8_t *q = p + pos;
            uint64_t m;
            if (pos + 17 <= n) {
                __m128i a = _mm_loadu_si128((const __m128i *)q);
                __m128i b = _mm_loadu_si128((const __m128i *)(q + 1));
                m = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(a, b));
            } else {
                __m128i a, b;
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
        if (base + 65 < n) {
            next = p[base + 64] == p[base + 65];
        }
        s->eq = eq;
        s->triple = eq & ((eq >> 1) | (next << 63));
        return;
    }
#elif defined(RLE_SWAR)
    if (base + 66 <= n) {
        const uint8_t *q = p + base;
        for (k = 0; k < 64; k += 8) {
            uint64_t v = load64(q + k) ^ load64(q + k + 1);
            /* 0x80 in each byte of v that is zero, exactly. */
            uint64_t z = ~(((v & 0x7F7F7F7F7F7F7F7Fu) + 0x7F7F7F7F7F7F7F7Fu) | v) &
                         0x8080808080808080u;
            /* Gather the eight flags into a byte. */
            eq |= ((z >> 7) * 0x0102040810204080u >> 56) << k;
        }
        next = q[64] == q[65];
        s->eq = eq;
        s->triple = eq & ((eq >> 1) | (next << 63));
        return;
    }
#endif
    for (k = 0; k < 64 && base + k + 1 < n; k++) {
        eq |= (uint64_t)(p[base + k] == p[base + k + 1]) << k;
    }
    if (base + 65 < n) {
        next = p[base + 64] == p[base + 65];
    }
    s->eq = eq;
    s->triple = eq & ((eq >> 1) | (next << 63));
}

/* The first t >= i where a repeat of three or more bytes starts, or n. */
static size_t next_triple(scan *s, size_t i)
{
    size_t w = i / 64;
    uint64_t m;

    if (i >= s->n) {
        return s->n;
    }
    if (w != s->w) {
        scan_word(s, w);
    }
    m = s->triple >> (i % 64);
    if (m) {
        return i + ctz64(m);
    }
    for (w++; 64 * w < s->n; w++) {
        scan_word(s, w);
        if (s->triple) {
            return 64 * w + ctz64(s->triple);
        }
    }
    return s->n;
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

size_t dicomrle_row_fast(const uint8_t *src, size_t n, uint8_t *dst,
                         const uint8_t *dst_end)
{
    const uint8_t *src_end = src + n;
    uint8_t *out = dst;
    size_t i = 0;
    size_t lit_start = 0;
    size_t lit_len = 0; /* the open literal is src[lit_start, i) */
    size_t t;
    scan s;

    s.p = src;
    s.n = n;
    scan_word(&s, 0);
    t = next_triple(&s, 0);

    for (;;) {
        /* src[i, t) holds runs of one or two bytes. */
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
               room (offset k - 1) or none (offset k); k steps by 128
               while the literal grows. */
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
        if (t >= n) {
            break;
        }
        /* A repeat of three or more bytes at t == i: replicate runs. */
        {
            /* next_triple() left the word holding i in s. */
            uint64_t ones = ~s.eq >> (i % 64);
            size_t run = ones ? ctz64(ones) + 1 : run_length(src, i, n);
            int tail = 0;

            if (run > MAX_RUN && run % MAX_RUN == 1) {
                if (lit_len % MAX_RUN) {
                    lit_len++; /* its first byte ends the literal */
                    i++;
                } else {
                    tail = 1; /* its last byte starts the next one */
                }
                run--;
            }
            if (lit_len) {
                out = put_literal(out, src + lit_start, lit_len, src_end, dst_end);
                lit_len = 0;
            }
            out = put_replicate(out, src[i], run);
            i += run;
            if (tail) {
                lit_start = i;
                lit_len = 1;
                i++;
            }
            t = next_triple(&s, i);
        }
    }
    if (lit_len) {
        out = put_literal(out, src + lit_start, lit_len, src_end, dst_end);
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
