/*
 * libFuzzer harness for the public API of csrc/rle.h and the row encoder
 * of rle_internal.h (nothing else is used, so the kernel can change behind
 * it).
 *
 * Input: an 8-byte header, then pixel bytes.
 *
 *   byte 0  flags: 0x01 big_endian, 0x02 planar, 0x04 sign_extend,
 *           0x10 encode twice, 0x20 raw parameters (invalid values allowed),
 *           0x40 huge mode, 0x80 row mode (dicomrle_encode_row_isa)
 *   byte 1-2  rows, little-endian, modulo 301 (0 is invalid)
 *   byte 3-4  columns, little-endian, modulo 1025 (0 is invalid)
 *   byte 5  samples_per_pixel: 1 + b % (15 / bytes_allocated); raw: b % 16
 *   byte 6  bytes_allocated {1, 2, 4, 8}[b & 3], bytes_per_sample
 *           1 + (b >> 2) % bytes_allocated; raw: b & 15 and b >> 4
 *   byte 7  stretch: each pixel byte is repeated this many times (0: 1)
 *   rest    pixel bytes, stretched, then repeated to fill the frame
 *
 * Frame mode encodes a frame with src, dst and scratch allocated at exactly
 * the sizes the API asks for, then checks the status against the contract,
 * the header (PS3.5 G.5), each row's length, and that a PackBits decoder of
 * its own (PS3.5 G.3.1), decoding row by row, rebuilds byte planes that this
 * file extracts from the source itself. Row mode does the same for
 * dicomrle_encode_row_isa. Huge mode feeds 64-bit rows and columns to the
 * size functions and checks that frames too large are refused. Any
 * mismatch aborts.
 */
#include "rle_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_BYTES 8
#define MAX_ROWS 300
#define MAX_COLUMNS 1024
/* Keep one run fast: at most this many bytes of byte planes per frame. */
#define MAX_PLANE_BYTES (1u << 16)
#define MAX_ROW_LENGTH 4096
#define CANARY 0xA5
/* How far past *dst_length rle.h lets dicomrle_encode write. */
#define DST_SLACK 64

#define FLAG_BIG_ENDIAN 0x01
#define FLAG_PLANAR 0x02
#define FLAG_SIGN_EXTEND 0x04
#define FLAG_TWICE 0x10
#define FLAG_RAW 0x20
#define FLAG_HUGE 0x40
#define FLAG_ROW 0x80

#define FAIL(...)                                                   \
    do {                                                            \
        fprintf(stderr, "fuzz_encode: %s:%d: ", __FILE__, __LINE__); \
        fprintf(stderr, __VA_ARGS__);                               \
        fputc('\n', stderr);                                        \
        abort();                                                    \
    } while (0)

#define CHECK(cond, ...)      \
    do {                      \
        if (!(cond)) {        \
            FAIL(__VA_ARGS__); \
        }                     \
    } while (0)

typedef unsigned __int128 u128;

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void *xmalloc(size_t n)
{
    /* malloc(0) under ASan returns a unique pointer to zero usable bytes. */
    void *p = malloc(n);
    if (p == NULL && n != 0) {
        FAIL("out of memory for %zu bytes", n);
    }
    return p;
}

/* Fill out[0..n) with the pixel bytes, each repeated `stretch` times,
   cycling; zeros when there are none. */
static void fill(uint8_t *out, size_t n, const uint8_t *pixels, size_t count,
                 size_t stretch)
{
    size_t i;

    if (count == 0) {
        memset(out, 0, n);
        return;
    }
    for (i = 0; i < n; i++) {
        out[i] = pixels[(i / stretch) % count];
    }
}

static int all_bytes(const uint8_t *p, size_t n, uint8_t value)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (p[i] != value) {
            return 0;
        }
    }
    return 1;
}

/*
 * PS3.5 G.3.1: decode exactly `length` bytes of PackBits from
 * in[*pos .. end) into out. A header byte n in 0..127 copies the next n + 1
 * bytes, n in 129..255 (-127..-1) repeats the next byte 257 - n times, and
 * 128 (-128) is never written by an encoder. A run that would go past
 * `length` crosses the row boundary.
 */
static void unpack_row(const uint8_t *in, size_t *pos, size_t end,
                       uint8_t *out, size_t length, const char *what)
{
    size_t i = *pos;
    size_t o = 0;

    while (o < length) {
        size_t n;
        CHECK(i < end, "%s: encoding ends after %zu of %zu bytes", what, o,
              length);
        n = in[i++];
        if (n < 128) {
            n += 1;
            CHECK(o + n <= length,
                  "%s: literal run of %zu at %zu crosses the row end %zu",
                  what, n, o, length);
            CHECK(n <= end - i, "%s: literal run of %zu past the data", what,
                  n);
            memcpy(out + o, in + i, n);
            i += n;
        } else if (n > 128) {
            n = 257 - n;
            CHECK(o + n <= length,
                  "%s: replicate run of %zu at %zu crosses the row end %zu",
                  what, n, o, length);
            CHECK(i < end, "%s: replicate run without its byte", what);
            memset(out + o, in[i], n);
            i += 1;
        } else {
            FAIL("%s: header byte -128 at offset %zu", what, i - 1);
        }
        o += n;
    }
    *pos = i;
}

/* The frame as this harness reads the contract. */
typedef struct params {
    uint64_t rows;
    uint64_t columns;
    uint64_t spp;
    uint64_t ba;
    uint64_t bps;
    int big_endian;
    int planar;
    int sign_extend;
} params;

static int params_valid(const params *p)
{
    return p->rows > 0 && p->columns > 0 && p->spp > 0 &&
           (p->ba == 1 || p->ba == 2 || p->ba == 4 || p->ba == 8) &&
           p->bps >= 1 && p->bps <= p->ba && p->spp * p->ba <= 15;
}

static dicomrle_frame to_frame(const params *p)
{
    dicomrle_frame f;

    f.rows = (size_t)p->rows;
    f.columns = (size_t)p->columns;
    f.samples_per_pixel = (size_t)p->spp;
    f.bytes_allocated = (size_t)p->ba;
    f.bytes_per_sample = (size_t)p->bps;
    f.big_endian = p->big_endian;
    f.planar = p->planar;
    f.sign_extend = p->sign_extend;
    return f;
}

/* Per-row worst case of G.3.1 PackBits: one header byte per 128 literals. */
static u128 row_worst(u128 n)
{
    return n + (n + 127) / 128;
}

/*
 * Byte `byte` (0 = most significant) of sample `sample` of pixel (row,
 * column) of the frame as written: bytes_allocated bytes, big-endian, the
 * source's bytes_per_sample bytes at the bottom, the rest zero or copies of
 * the sign bit.
 */
static uint8_t expected_byte(const params *p, const uint8_t *src, size_t row,
                             size_t column, size_t sample, size_t byte)
{
    size_t bps = (size_t)p->bps;
    size_t missing = (size_t)(p->ba - p->bps);
    size_t index;
    const uint8_t *s;
    uint8_t msb;

    if (p->planar) {
        index = (sample * (size_t)p->rows + row) * (size_t)p->columns + column;
    } else {
        index = (row * (size_t)p->columns + column) * (size_t)p->spp + sample;
    }
    s = src + index * bps;
    msb = p->big_endian ? s[0] : s[bps - 1];
    if (byte < missing) {
        return (p->sign_extend && (msb & 0x80)) ? 0xFF : 0x00;
    }
    byte -= missing; /* 0 = the most significant byte in src */
    return p->big_endian ? s[byte] : s[bps - 1 - byte];
}

/*
 * rle.h: "On error nothing is read and *dst_length is 0." Built with
 * -DFUZZ_ALLOW_STALE_LENGTH_ON_NULL, the harness lets a NULL src, dst or
 * scratch leave *dst_length as it was (fuzz/crashes/null-src-dst-length,
 * a known deviation), so that a long run can look past it.
 */
#ifdef FUZZ_ALLOW_STALE_LENGTH_ON_NULL
#define NULL_LENGTH_OK(written) 1
#else
#define NULL_LENGTH_OK(written) ((written) == 0)
#endif

/* Encoding with a buffer one byte short, or a NULL pointer, must fail
   before touching anything. */
static void check_refusals(const dicomrle_frame *f, const uint8_t *src,
                           size_t src_len, uint8_t *dst, size_t dst_len,
                           uint8_t *scratch, size_t scratch_len)
{
    size_t written = 12345;
    dicomrle_status st;

    memset(dst, CANARY, dst_len);
    if (src_len > 0) {
        st = dicomrle_encode(f, src, src_len - 1, dst, dst_len, scratch,
                             scratch_len, &written);
        CHECK(st == DICOMRLE_ERR_SRC_LENGTH && written == 0,
              "src one byte short: status %d, length %zu", st, written);
    }
    written = 12345;
    st = dicomrle_encode(f, src, src_len, dst, dst_len - 1, scratch,
                         scratch_len, &written);
    CHECK(st == DICOMRLE_ERR_DST_CAPACITY && written == 0,
          "dst one byte short: status %d, length %zu", st, written);
    if (scratch_len > 0) {
        written = 12345;
        st = dicomrle_encode(f, src, src_len, dst, dst_len, scratch,
                             scratch_len - 1, &written);
        CHECK(st == DICOMRLE_ERR_SCRATCH && written == 0,
              "scratch one byte short: status %d, length %zu", st, written);
    }
    written = 12345;
    st = dicomrle_encode(f, NULL, src_len, dst, dst_len, scratch, scratch_len,
                         &written);
    CHECK(st == DICOMRLE_ERR_NULL && NULL_LENGTH_OK(written),
          "NULL src: status %d, *dst_length %zu (not reset to 0)", st,
          written);
    written = 12345;
    st = dicomrle_encode(f, src, src_len, NULL, dst_len, scratch, scratch_len,
                         &written);
    CHECK(st == DICOMRLE_ERR_NULL && NULL_LENGTH_OK(written),
          "NULL dst: status %d, *dst_length %zu (not reset to 0)", st,
          written);
    written = 12345;
    st = dicomrle_encode(f, src, src_len, dst, dst_len, NULL, scratch_len,
                         &written);
    CHECK(st == DICOMRLE_ERR_NULL && NULL_LENGTH_OK(written),
          "NULL scratch: status %d, *dst_length %zu (not reset to 0)", st,
          written);
    st = dicomrle_encode(f, src, src_len, dst, dst_len, scratch, scratch_len,
                         NULL);
    CHECK(st == DICOMRLE_ERR_NULL, "NULL dst_length: status %d", st);
    st = dicomrle_encode(NULL, src, src_len, dst, dst_len, scratch,
                         scratch_len, &written);
    CHECK(st == DICOMRLE_ERR_NULL && written == 0, "NULL frame: status %d", st);
    CHECK(all_bytes(dst, dst_len, CANARY), "a refused encode wrote to dst");
}

/* Statuses the header allows for invalid parameters; a frame too large
   may be refused for that first. */
static int status_explains(const params *p, dicomrle_status st)
{
    int size_bad = p->rows == 0 || p->columns == 0 || p->spp == 0;
    int bytes_bad = !(p->ba == 1 || p->ba == 2 || p->ba == 4 || p->ba == 8) ||
                    p->bps == 0 || p->bps > p->ba;
    int segments_bad = p->spp * p->ba > 15;
    int huge = (u128)p->rows * p->columns * p->spp * p->ba >
               DICOMRLE_MAX_ENCODED;

    return (st == DICOMRLE_ERR_SIZE && size_bad) ||
           (st == DICOMRLE_ERR_BYTES && bytes_bad) ||
           (st == DICOMRLE_ERR_SEGMENTS && segments_bad) ||
           ((st == DICOMRLE_ERR_OVERFLOW || st == DICOMRLE_ERR_TOO_LARGE) &&
            huge);
}

static void check_invalid(const params *p)
{
    dicomrle_frame f = to_frame(p);
    dicomrle_status st = dicomrle_check(&f);
    uint8_t src[16] = {0};
    uint8_t dst[128];
    uint8_t scratch[16];
    size_t written = 12345;

    CHECK(st != DICOMRLE_OK, "invalid frame accepted: rows %llu columns %llu "
          "spp %llu ba %llu bps %llu", (unsigned long long)p->rows,
          (unsigned long long)p->columns, (unsigned long long)p->spp,
          (unsigned long long)p->ba, (unsigned long long)p->bps);
    CHECK(status_explains(p, st), "status %d (%s) does not fit rows %llu "
          "columns %llu spp %llu ba %llu bps %llu", st,
          dicomrle_status_message(st), (unsigned long long)p->rows,
          (unsigned long long)p->columns, (unsigned long long)p->spp,
          (unsigned long long)p->ba, (unsigned long long)p->bps);
    CHECK(dicomrle_status_message(st) != NULL &&
          dicomrle_status_message(st)[0] != '\0', "no message for status %d",
          st);
    CHECK(dicomrle_frame_length(&f) == 0 && dicomrle_encode_bound(&f) == 0 &&
          dicomrle_scratch_size(&f) == 0,
          "size functions of an invalid frame are not 0");
    memset(dst, CANARY, sizeof dst);
    st = dicomrle_encode(&f, src, sizeof src, dst, sizeof dst, scratch,
                         sizeof scratch, &written);
    CHECK(st != DICOMRLE_OK && written == 0 && status_explains(p, st),
          "encode of an invalid frame: status %d, length %zu", st, written);
    CHECK(all_bytes(dst, sizeof dst, CANARY), "encode of an invalid frame "
          "wrote to dst");
}

static void check_frame(const params *p, const uint8_t *pixels, size_t count,
                        size_t stretch, int twice)
{
    dicomrle_frame f = to_frame(p);
    dicomrle_status st = dicomrle_check(&f);
    size_t rows = (size_t)p->rows;
    size_t columns = (size_t)p->columns;
    size_t segments = (size_t)(p->spp * p->ba);
    size_t src_len, dst_len, scratch_len, written = 12345;
    size_t seg, row, x, pos;
    uint8_t *src, *src_copy, *dst, *scratch, *decoded;
    uint32_t offsets[DICOMRLE_MAX_SEGMENTS + 1];
    size_t row_limit = (size_t)row_worst(columns);

    CHECK(st == DICOMRLE_OK, "valid frame refused: status %d (%s)", st,
          dicomrle_status_message(st));
    src_len = dicomrle_frame_length(&f);
    dst_len = dicomrle_encode_bound(&f);
    scratch_len = dicomrle_scratch_size(&f);
    CHECK(src_len == rows * columns * p->spp * p->bps,
          "frame length %zu, expected %llu", src_len,
          (unsigned long long)(rows * columns * p->spp * p->bps));
    /* Worst case: every row all literals, each segment padded to even. */
    {
        size_t seg_worst = rows * row_limit;
        seg_worst += seg_worst % 2;
        CHECK(dst_len >= DICOMRLE_HEADER_SIZE + segments * seg_worst &&
              dst_len <= DICOMRLE_MAX_ENCODED,
              "encode bound %zu below the worst case %zu", dst_len,
              DICOMRLE_HEADER_SIZE + segments * seg_worst);
    }

    src = xmalloc(src_len);
    src_copy = xmalloc(src_len);
    dst = xmalloc(dst_len);
    scratch = xmalloc(scratch_len);
    decoded = xmalloc(columns);
    fill(src, src_len, pixels, count, stretch);
    memcpy(src_copy, src, src_len);

    check_refusals(&f, src, src_len, dst, dst_len, scratch, scratch_len);

    memset(dst, CANARY, dst_len);
    st = dicomrle_encode(&f, src, src_len, dst, dst_len, scratch, scratch_len,
                         &written);
    CHECK(st == DICOMRLE_OK, "encode failed: status %d (%s)", st,
          dicomrle_status_message(st));
    CHECK(written >= DICOMRLE_HEADER_SIZE && written <= dst_len,
          "encoded length %zu outside [64, bound %zu]", written, dst_len);
    CHECK(written % 2 == 0, "encoded length %zu is odd", written);
    /* rle.h: bytes up to 64 past *dst_length may be overwritten (block
       copies of literals), none further. */
    CHECK(dst_len - written <= DST_SLACK ||
              all_bytes(dst + written + DST_SLACK,
                        dst_len - written - DST_SLACK, CANARY),
          "encode wrote %zu or more bytes past *dst_length", (size_t)DST_SLACK);
    CHECK(memcmp(src, src_copy, src_len) == 0, "encode changed src");

    /* The output may not depend on what dst and scratch held before. */
    if (twice) {
        uint8_t *again = xmalloc(dst_len);
        size_t written_again = 0;
        memset(again, (uint8_t)~CANARY, dst_len);
        memset(scratch, (uint8_t)(stretch * 37 + count), scratch_len);
        st = dicomrle_encode(&f, src, src_len, again, dst_len, scratch,
                             scratch_len, &written_again);
        CHECK(st == DICOMRLE_OK && written_again == written &&
              memcmp(again, dst, written) == 0,
              "a second encode with other dst and scratch contents differs");
        free(again);
    }

    /* PS3.5 G.5: segment count, offsets from the start of the header,
       the first 64, unused ones 0. */
    CHECK(le32(dst) == segments, "header says %u segments, expected %zu",
          le32(dst), segments);
    for (seg = 0; seg < DICOMRLE_MAX_SEGMENTS; seg++) {
        uint32_t off = le32(dst + 4 + 4 * seg);
        if (seg >= segments) {
            CHECK(off == 0, "unused offset %zu is %u", seg, off);
        } else {
            offsets[seg] = off;
        }
    }
    offsets[segments] = (uint32_t)written;
    CHECK(offsets[0] == DICOMRLE_HEADER_SIZE, "first offset %u", offsets[0]);
    for (seg = 0; seg < segments; seg++) {
        size_t start = offsets[seg];
        size_t end = offsets[seg + 1];
        char what[64];

        CHECK(end > start && end <= written,
              "offset %zu: %zu, next %zu, length %zu", seg, start, end,
              written);
        CHECK((end - start) % 2 == 0, "segment %zu has odd length %zu", seg,
              end - start);
        pos = start;
        for (row = 0; row < rows; row++) {
            size_t row_start = pos;
            size_t sample = seg / (size_t)p->ba;
            size_t byte = seg % (size_t)p->ba;

            snprintf(what, sizeof what, "segment %zu row %zu", seg, row);
            unpack_row(dst, &pos, end, decoded, columns, what);
            CHECK(pos - row_start <= row_limit,
                  "%s: %zu bytes for %zu columns, more than %zu", what,
                  pos - row_start, columns, row_limit);
            for (x = 0; x < columns; x++) {
                uint8_t want = expected_byte(p, src, row, x, sample, byte);
                CHECK(decoded[x] == want,
                      "%s column %zu: decoded 0x%02x, expected 0x%02x", what,
                      x, decoded[x], want);
            }
        }
        /* At most one pad byte, zero, to make the segment even. */
        CHECK(end - pos <= 1, "segment %zu: %zu bytes after the last row",
              seg, end - pos);
        CHECK(end == pos || dst[pos] == 0, "segment %zu: pad byte 0x%02x",
              seg, dst[pos]);
    }

    free(decoded);
    free(scratch);
    free(dst);
    free(src_copy);
    free(src);
}

static void check_row(size_t length, const uint8_t *pixels, size_t count,
                      size_t stretch)
{
    size_t capacity = length + (length + 127) / 128;
    uint8_t *src = xmalloc(length);
    uint8_t *copy = xmalloc(length);
    uint8_t *dst = xmalloc(capacity);
    uint8_t *decoded = xmalloc(length);
    size_t n, pos = 0;

    fill(src, length, pixels, count, stretch);
    memcpy(copy, src, length);
    n = dicomrle_encode_row_isa(src, length, dst, DICOMRLE_ISA_AUTO);
    CHECK(n >= 2 && n <= capacity, "row of %zu encoded to %zu bytes", length,
          n);
    CHECK(memcmp(src, copy, length) == 0, "encode_row changed src");
    unpack_row(dst, &pos, n, decoded, length, "row");
    CHECK(pos == n, "row: %zu of %zu encoded bytes left over", n - pos, n);
    CHECK(memcmp(decoded, src, length) == 0, "row does not round-trip");
    free(decoded);
    free(dst);
    free(copy);
    free(src);
}

/* 64-bit sizes: the size functions must agree with each other and refuse
   what does not fit; encode must refuse buffers that are too small. */
static void check_huge(params *p)
{
    dicomrle_frame f = to_frame(p);
    dicomrle_status st = dicomrle_check(&f);
    uint8_t src[16] = {0};
    uint8_t dst[64];
    uint8_t scratch[16];
    size_t written = 12345;
    size_t length = dicomrle_frame_length(&f);
    size_t bound = dicomrle_encode_bound(&f);

    if (!params_valid(p)) {
        check_invalid(p);
        return;
    }
    if (st == DICOMRLE_OK) {
        u128 segments = (u128)(p->spp * p->ba);
        u128 seg_worst = (u128)p->rows * row_worst(p->columns);
        u128 want = (u128)p->rows * p->columns * p->spp * p->bps;

        seg_worst += seg_worst % 2;
        CHECK(want == length, "frame length %zu is not rows x columns x spp x "
              "bps", length);
        CHECK(bound <= DICOMRLE_MAX_ENCODED &&
              (u128)bound >= DICOMRLE_HEADER_SIZE + segments * seg_worst,
              "bound %zu for rows %llu columns %llu", bound,
              (unsigned long long)p->rows, (unsigned long long)p->columns);
    } else {
        CHECK(st == DICOMRLE_ERR_OVERFLOW || st == DICOMRLE_ERR_TOO_LARGE,
              "valid parameters refused with status %d", st);
        CHECK(length == 0 && bound == 0 && dicomrle_scratch_size(&f) == 0,
              "size functions of a refused frame are not 0");
    }
    memset(dst, CANARY, sizeof dst);
    st = dicomrle_encode(&f, src, sizeof src, dst, sizeof dst, scratch,
                         sizeof scratch, &written);
    CHECK(st != DICOMRLE_OK && written == 0, "a frame with a 64-byte dst "
          "was encoded: status %d", st);
    CHECK(all_bytes(dst, sizeof dst, CANARY), "a refused encode wrote to dst");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint64_t allocated[4] = {1, 2, 4, 8};
    params p;
    uint8_t flags;
    size_t stretch;
    const uint8_t *pixels;
    size_t count;

    if (size < HEADER_BYTES) {
        return 0;
    }
    flags = data[0];
    stretch = data[7] ? data[7] : 1;
    pixels = data + HEADER_BYTES;
    count = size - HEADER_BYTES;

    if (flags & FLAG_ROW) {
        size_t length = (size_t)(data[1] | data[2] << 8) % (MAX_ROW_LENGTH + 1);
        if (length == 0) {
            length = count * stretch;
        }
        if (length == 0 || length > MAX_ROW_LENGTH) {
            length = length ? MAX_ROW_LENGTH : 1;
        }
        check_row(length, pixels, count, stretch);
        return 0;
    }

    memset(&p, 0, sizeof p);
    p.big_endian = (flags & FLAG_BIG_ENDIAN) != 0;
    p.planar = (flags & FLAG_PLANAR) != 0;
    p.sign_extend = (flags & FLAG_SIGN_EXTEND) != 0;

    if (flags & FLAG_HUGE) {
        if (count < 16) {
            return 0;
        }
        p.rows = le64(pixels);
        p.columns = le64(pixels + 8);
        p.spp = data[5] & 15;
        p.ba = data[6] & 15;
        p.bps = data[6] >> 4;
        check_huge(&p);
        return 0;
    }

    p.rows = (uint64_t)(data[1] | data[2] << 8) % (MAX_ROWS + 1);
    p.columns = (uint64_t)(data[3] | data[4] << 8) % (MAX_COLUMNS + 1);
    if (flags & FLAG_RAW) {
        p.spp = data[5] & 15;
        p.ba = data[6] & 15;
        p.bps = data[6] >> 4;
    } else {
        p.ba = allocated[data[6] & 3];
        p.bps = 1 + (uint64_t)(data[6] >> 2) % p.ba;
        p.spp = 1 + (uint64_t)data[5] % (15 / p.ba);
    }
    if (!params_valid(&p)) {
        check_invalid(&p);
        return 0;
    }
    /* Fewer rows rather than a slow run. */
    if (p.rows * p.columns * p.spp * p.ba > MAX_PLANE_BYTES) {
        p.rows = MAX_PLANE_BYTES / (p.columns * p.spp * p.ba);
        if (p.rows == 0) {
            p.rows = 1;
        }
    }
    check_frame(&p, pixels, count, stretch, (flags & FLAG_TWICE) != 0);
    return 0;
}
