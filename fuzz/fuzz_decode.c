/*
 * libFuzzer harness for the decoder of csrc/rle.h (dicomrle_decode, and
 * dicomrle_decode_isa of rle_internal.h; nothing of the kernel's
 * internals). See fuzz/README.md.
 *
 * Input: 8 bytes that describe the output frame, then the encoded frame
 * given to the decoder as it is:
 *
 *   byte 0     flags: 0x01 big-endian output, 0x02 planar output,
 *              0x04 lsb_first, 0x08 patch the header's segment count to the
 *              right one (so mutations reach the segments more often)
 *   bytes 1-2  rows, little-endian, 1 + value % MAX_ROWS
 *   bytes 3-4  columns, 1 + value % MAX_COLUMNS
 *   byte 5     samples per pixel: 1 + value % (15 / bytes allocated)
 *   byte 6     bytes allocated: 1, 2, 4, 8 by value & 3
 *   byte 7     unused
 *
 * For every instruction set the build and CPU have (and "auto" and the
 * scalar reference), the frame is decoded from a copy of the input of
 * exactly its size into a dst of exactly dicomrle_frame_length() bytes,
 * both on the heap, so that AddressSanitizer reports a read or write one
 * byte past either. All must agree with the scalar reference: the status,
 * every field of the report and, on success, every byte of dst (each
 * instruction set's dst starts with other bytes, so a byte left unwritten
 * shows). A decoded frame must also survive a round trip through the
 * encoder. dst one byte short and NULL pointers must be refused without a
 * write. Any mismatch prints what differs and aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rle_internal.h"

#define HEADER_BYTES 8
#define MAX_ROWS 256
#define MAX_COLUMNS 512
#define MAX_FRAME_BYTES (1u << 18)
#define ROUNDTRIP_BYTES (1u << 16)

#define CHECK(cond, ...)                                                    \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "fuzz_decode: %s:%d: ", __FILE__, __LINE__);    \
            fprintf(stderr, __VA_ARGS__);                                   \
            fprintf(stderr, "\n");                                          \
            abort();                                                        \
        }                                                                   \
    } while (0)

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) {
        abort();
    }
    return p;
}

static int same_report(const dicomrle_decode_report *a,
                       const dicomrle_decode_report *b)
{
    return a->segment == b->segment && a->expected == b->expected &&
           a->decoded == b->decoded && a->segments == b->segments &&
           a->offset == b->offset && a->extra == b->extra;
}

static void print_report(const char *what, dicomrle_status st,
                         const dicomrle_decode_report *r)
{
    fprintf(stderr, "  %s: status %d (%s) segment %d expected %zu decoded "
            "%zu segments %u offset %u extra %d\n", what, st,
            dicomrle_status_message(st), r->segment, r->expected, r->decoded,
            r->segments, r->offset, r->extra);
}

/* The instruction sets to compare with the scalar reference; AUTO stands
   for dicomrle_decode() itself. */
static const dicomrle_isa ISAS[] = {
    DICOMRLE_ISA_AUTO, DICOMRLE_ISA_PORTABLE, DICOMRLE_ISA_SSE2,
    DICOMRLE_ISA_AVX2,
};

static void check_refusals(const dicomrle_frame *f, int lsb_first,
                           const uint8_t *src, size_t src_len, uint8_t *dst,
                           size_t dst_len)
{
    dicomrle_decode_report r;
    dicomrle_status st;

    memset(dst, 0xA5, dst_len);
    st = dicomrle_decode(f, src, src_len, dst, dst_len - 1, lsb_first, &r);
    CHECK(st == DICOMRLE_ERR_DST_CAPACITY, "dst one byte short: status %d", st);
    st = dicomrle_decode(f, src, src_len, NULL, dst_len, lsb_first, &r);
    CHECK(st == DICOMRLE_ERR_NULL, "NULL dst: status %d", st);
    st = dicomrle_decode(NULL, src, src_len, dst, dst_len, lsb_first, &r);
    CHECK(st == DICOMRLE_ERR_NULL && r.segment == -1, "NULL frame: status %d",
          st);
    if (src_len > 0) {
        st = dicomrle_decode(f, NULL, src_len, dst, dst_len, lsb_first, &r);
        CHECK(st == DICOMRLE_ERR_NULL, "NULL src: status %d", st);
    }
    st = dicomrle_decode(f, NULL, 0, dst, dst_len, lsb_first, &r);
    CHECK(st == DICOMRLE_ERR_HEADER, "NULL src of length 0: status %d", st);
    st = dicomrle_decode_isa(f, src, src_len, dst, dst_len, lsb_first, &r,
                             (dicomrle_isa)99);
    CHECK(st == DICOMRLE_ERR_ISA, "unknown isa: status %d", st);
    {
        size_t i;
        for (i = 0; i < dst_len; i++) {
            CHECK(dst[i] == 0xA5, "a refused decode wrote dst[%zu]", i);
        }
    }
}

/* Encode the decoded frame again and decode that: the same bytes. */
static void check_roundtrip(const dicomrle_frame *f, const uint8_t *frame,
                            size_t length)
{
    dicomrle_frame e = *f;
    size_t bound = dicomrle_encode_bound(&e);
    size_t scratch_len = dicomrle_scratch_size(&e);
    uint8_t *enc = xmalloc(bound);
    uint8_t *scratch = xmalloc(scratch_len);
    uint8_t *again = xmalloc(length);
    dicomrle_decode_report r;
    size_t written = 0;
    dicomrle_status st;

    st = dicomrle_encode(&e, frame, length, enc, bound, scratch, scratch_len,
                         &written);
    CHECK(st == DICOMRLE_OK, "re-encode failed: status %d", st);
    st = dicomrle_decode(f, enc, written, again, length, 0, &r);
    CHECK(st == DICOMRLE_OK && r.extra == 0 &&
              memcmp(again, frame, length) == 0,
          "decode(encode(decoded)) differs: status %d extra %d", st, r.extra);
    free(again);
    free(scratch);
    free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t allocated[4] = {1, 2, 4, 8};
    dicomrle_frame f;
    dicomrle_decode_report ref_report;
    dicomrle_status ref;
    uint8_t flags;
    int lsb_first;
    size_t src_len, length, k;
    uint8_t *src, *expected, *dst;

    if (size < HEADER_BYTES) {
        return 0;
    }
    flags = data[0];
    memset(&f, 0, sizeof f);
    f.rows = 1 + (size_t)(data[1] | data[2] << 8) % MAX_ROWS;
    f.columns = 1 + (size_t)(data[3] | data[4] << 8) % MAX_COLUMNS;
    f.bytes_allocated = allocated[data[6] & 3];
    f.bytes_per_sample = f.bytes_allocated;
    f.samples_per_pixel = 1 + data[5] % (15 / f.bytes_allocated);
    f.big_endian = (flags & 0x01) != 0;
    f.planar = (flags & 0x02) != 0;
    lsb_first = (flags & 0x04) != 0;
    /* Fewer rows rather than a slow run. */
    while (f.rows > 1 && f.rows * f.columns * f.samples_per_pixel *
                             f.bytes_allocated > MAX_FRAME_BYTES) {
        f.rows /= 2;
    }
    CHECK(dicomrle_check(&f) == DICOMRLE_OK, "frame refused");
    length = dicomrle_frame_length(&f);

    src_len = size - HEADER_BYTES;
    src = xmalloc(src_len);
    memcpy(src, data + HEADER_BYTES, src_len);
    if ((flags & 0x08) && src_len >= 4) {
        uint32_t count = (uint32_t)(f.samples_per_pixel * f.bytes_allocated);
        src[0] = (uint8_t)count;
        src[1] = src[2] = src[3] = 0;
    }

    expected = xmalloc(length);
    dst = xmalloc(length);
    memset(expected, 0x5A, length);
    ref = dicomrle_decode_isa(&f, src_len ? src : NULL, src_len, expected,
                              length, lsb_first, &ref_report,
                              DICOMRLE_ISA_SCALAR);
    CHECK(ref == DICOMRLE_OK || ref == DICOMRLE_ERR_HEADER ||
              ref == DICOMRLE_ERR_SEGMENT_COUNT ||
              ref == DICOMRLE_ERR_OFFSET || ref == DICOMRLE_ERR_SHORT,
          "scalar: unexpected status %d (%s)", ref,
          dicomrle_status_message(ref));
    CHECK(ref_report.expected == f.rows * f.columns,
          "scalar: report.expected %zu", ref_report.expected);
    CHECK(ref != DICOMRLE_ERR_SHORT ||
              (ref_report.segment >= 0 &&
               ref_report.decoded < ref_report.expected),
          "scalar: a short segment with a report that says otherwise");

    for (k = 0; k < sizeof ISAS / sizeof ISAS[0]; k++) {
        dicomrle_decode_report r;
        dicomrle_status st;
        if (!dicomrle_isa_available(ISAS[k])) {
            continue;
        }
        memset(dst, (int)(0x11 * (k + 1)), length);
        st = dicomrle_decode_isa(&f, src_len ? src : NULL, src_len, dst,
                                 length, lsb_first, &r, ISAS[k]);
        if (st != ref || !same_report(&r, &ref_report)) {
            print_report("scalar", ref, &ref_report);
            print_report(dicomrle_isa_name(ISAS[k]), st, &r);
            CHECK(0, "%s disagrees with the scalar reference",
                  dicomrle_isa_name(ISAS[k]));
        }
        if (st == DICOMRLE_OK) {
            size_t i;
            for (i = 0; i < length; i++) {
                CHECK(dst[i] == expected[i], "%s: dst[%zu] = 0x%02x, scalar "
                      "0x%02x", dicomrle_isa_name(ISAS[k]), i, dst[i],
                      expected[i]);
            }
        }
    }

    check_refusals(&f, lsb_first, src, src_len, dst, length);
    if (ref == DICOMRLE_OK && length <= ROUNDTRIP_BYTES) {
        check_roundtrip(&f, expected, length);
    }
    free(dst);
    free(expected);
    free(src);
    return 0;
}
