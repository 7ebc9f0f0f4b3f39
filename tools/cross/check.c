/*
 * The C core on one target, every instruction set it has against the
 * scalar reference, byte for byte: the encoder and decoder on generated
 * frames, the PackBits row encoder alone, the corpus and malformed frames
 * of the vectors file (tools/cross/make_vectors.py, expectations made in
 * Python), damaged copies of those, and the status of every bad parameter.
 *
 *     check VECTORS_FILE
 *
 * Prints "<target>: N checks, D differences" and a digest of everything
 * the scalar reference produced (the same on every target); exits 1 on any
 * difference. Plain C99, built with csrc/ (see tools/cross/run.sh).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rle.h"
#include "rle_internal.h"

#define GUARD 64
#define GUARD_BYTE 0xA5
#define MAX_REPORTED 20

static unsigned long checks, differences;
static uint64_t digest = 0xcbf29ce484222325u; /* FNV-1a 64 */
static dicomrle_isa isas[8];
static size_t isa_count;

static void fail(const char *fmt, ...)
{
    va_list ap;

    if (++differences > MAX_REPORTED) {
        return;
    }
    va_start(ap, fmt);
    fputs("DIFFERENCE: ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
}

#define CHECK(cond, ...)          \
    do {                          \
        checks++;                 \
        if (!(cond)) {            \
            fail(__VA_ARGS__);    \
        }                         \
    } while (0)

static void hash(const void *data, size_t n)
{
    const uint8_t *p = data;
    size_t i;

    for (i = 0; i < n; i++) {
        digest = (digest ^ p[i]) * 0x100000001b3u;
    }
}

static void hash_u32(uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
                    (uint8_t)(v >> 24)};
    hash(b, 4);
}

static uint64_t rng_state;

static uint64_t rng(void) /* splitmix64 */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) {
        fprintf(stderr, "out of memory (%lu bytes)\n", (unsigned long)n);
        exit(2);
    }
    return p;
}

/* A buffer of n bytes followed by GUARD guard bytes. */
static uint8_t *guarded(size_t n)
{
    uint8_t *p = xmalloc(n + GUARD);
    memset(p, 0x5A, n);
    memset(p + n, GUARD_BYTE, GUARD);
    return p;
}

static int guard_intact(const uint8_t *p, size_t n)
{
    size_t i;
    for (i = 0; i < GUARD; i++) {
        if (p[n + i] != GUARD_BYTE) {
            return 0;
        }
    }
    return 1;
}

static const char *describe(const dicomrle_frame *f)
{
    static char text[160];
    sprintf(text, "%lux%lu s%lu ba%lu bps%lu be%d pl%d se%d",
            (unsigned long)f->rows, (unsigned long)f->columns,
            (unsigned long)f->samples_per_pixel,
            (unsigned long)f->bytes_allocated,
            (unsigned long)f->bytes_per_sample, f->big_endian, f->planar,
            f->sign_extend);
    return text;
}

/* ------------------------------------------------ samples and layouts */

/* The samples of a frame as the decoder gives them: canon[(p * samples +
   s) * ba + b] is byte b (0 = most significant) of sample s of pixel p,
   widened from src as the encoder widens it (zero or sign). */
static void canon_from_src(const dicomrle_frame *f, const uint8_t *src,
                           uint8_t *canon)
{
    size_t plane = f->rows * f->columns, ns = f->samples_per_pixel;
    size_t ba = f->bytes_allocated, bps = f->bytes_per_sample;
    size_t missing = ba - bps, p, s, b;

    for (p = 0; p < plane; p++) {
        for (s = 0; s < ns; s++) {
            const uint8_t *in =
                src + (f->planar ? s * plane + p : p * ns + s) * bps;
            uint8_t *out = canon + (p * ns + s) * ba;
            uint8_t sign = in[f->big_endian ? 0 : bps - 1] & 0x80 ? 0xFF : 0;
            for (b = 0; b < ba; b++) {
                size_t bb = b - missing;
                out[b] = b < missing ? (f->sign_extend ? sign : 0)
                         : in[f->big_endian ? bb : bps - 1 - bb];
            }
        }
    }
}

/* The decoder's output of canon in the byte order and planar
   configuration of f (bytes_per_sample == bytes_allocated). */
static void layout_from_canon(const dicomrle_frame *f, const uint8_t *canon,
                              uint8_t *out)
{
    size_t plane = f->rows * f->columns, ns = f->samples_per_pixel;
    size_t ba = f->bytes_allocated, p, s, b;

    for (p = 0; p < plane; p++) {
        for (s = 0; s < ns; s++) {
            uint8_t *o = out + (f->planar ? s * plane + p : p * ns + s) * ba;
            for (b = 0; b < ba; b++) {
                o[f->big_endian ? b : ba - 1 - b] = canon[(p * ns + s) * ba + b];
            }
        }
    }
}

/* ------------------------------------------------------------ decode */

typedef struct expectation {
    dicomrle_status status;
    uint32_t numbers[3]; /* see make_vectors.py: what the error names */
    int extra;
    const uint8_t *canon; /* the samples when status is OK, else NULL */
} expectation;

static int same_report(const dicomrle_decode_report *a,
                       const dicomrle_decode_report *b)
{
    return a->segment == b->segment && a->expected == b->expected &&
           a->decoded == b->decoded && a->segments == b->segments &&
           a->offset == b->offset && a->extra == b->extra;
}

/* Decode rle into every output layout with every instruction set: the
   same status, report and bytes as the scalar reference, and, when want
   is given, what it says. */
static void check_decode(const char *name, const dicomrle_frame *shape,
                         const uint8_t *rle, size_t rle_length,
                         const expectation *want)
{
    dicomrle_frame f = *shape;
    size_t length = f.rows * f.columns * f.samples_per_pixel *
                    f.bytes_allocated;
    uint8_t *ref = guarded(length), *got = guarded(length);
    uint8_t *expected = want && want->canon ? xmalloc(length) : NULL;
    int layout, lsb_first, last_layout = f.samples_per_pixel > 1 ? 3 : 1;
    size_t i;

    f.bytes_per_sample = f.bytes_allocated;
    f.sign_extend = 0;
    for (layout = 0; layout <= last_layout; layout++) {
        f.big_endian = layout & 1;
        f.planar = layout >> 1;
        if (expected) {
            layout_from_canon(&f, want->canon, expected);
        }
        /* lsb_first only for the first layout: the same paths otherwise. */
        for (lsb_first = 0; lsb_first <= (layout == 0); lsb_first++) {
            dicomrle_decode_report rr, gr;
            dicomrle_status rs = dicomrle_decode_isa(
                &f, rle, rle_length, ref, length, lsb_first, &rr,
                DICOMRLE_ISA_SCALAR);

            hash_u32((uint32_t)rs);
            hash_u32((uint32_t)rr.segment);
            hash_u32((uint32_t)rr.decoded);
            hash_u32((uint32_t)rr.extra);
            if (rs == DICOMRLE_OK) {
                hash(ref, length);
            }
            CHECK(guard_intact(ref, length), "%s: scalar decode wrote past dst",
                  name);
            if (want && !lsb_first) {
                CHECK(rs == want->status, "%s: scalar decode status %d, want %d",
                      name, (int)rs, (int)want->status);
                if (rs == DICOMRLE_OK && want->status == DICOMRLE_OK) {
                    CHECK(rr.extra == want->extra, "%s: extra %d, want %d", name,
                          rr.extra, want->extra);
                    CHECK(memcmp(ref, expected, length) == 0,
                          "%s: decoded bytes (be%d planar%d) differ from the "
                          "expected ones", name, f.big_endian, f.planar);
                } else if (rs == want->status) {
                    const uint32_t *n = want->numbers;
                    int ok = 1;
                    if (rs == DICOMRLE_ERR_SEGMENT_COUNT) {
                        ok = rr.segments == n[0];
                    } else if (rs == DICOMRLE_ERR_OFFSET) {
                        ok = rr.segment == (int)n[0] && rr.offset == n[1];
                    } else if (rs == DICOMRLE_ERR_SHORT) {
                        ok = rr.segment == (int)n[0] && rr.decoded == n[1] &&
                             rr.expected == n[2];
                    }
                    CHECK(ok, "%s: the report names another error than the "
                          "policy's", name);
                }
            }
            for (i = 0; i < isa_count; i++) {
                dicomrle_status gs;
                memset(got, 0x5A, length);
                gs = dicomrle_decode_isa(&f, rle, rle_length, got, length,
                                         lsb_first, &gr, isas[i]);
                CHECK(guard_intact(got, length), "%s: %s decode wrote past dst",
                      name, dicomrle_isa_name(isas[i]));
                CHECK(gs == rs && same_report(&gr, &rr),
                      "%s (be%d planar%d lsb%d): %s decode status %d, scalar %d "
                      "(or another report)", name, f.big_endian, f.planar,
                      lsb_first, dicomrle_isa_name(isas[i]), (int)gs, (int)rs);
                if (gs == DICOMRLE_OK && rs == DICOMRLE_OK) {
                    CHECK(memcmp(got, ref, length) == 0,
                          "%s (be%d planar%d lsb%d): %s decode differs from "
                          "scalar", name, f.big_endian, f.planar, lsb_first,
                          dicomrle_isa_name(isas[i]));
                }
            }
        }
    }
    free(ref);
    free(got);
    free(expected);
}

/* ------------------------------------------------------------ encode */

/* Encode src with every instruction set; the scalar one must give
   `expected` when given. Then decode what was encoded. */
static void check_encode(const char *name, const dicomrle_frame *f,
                         const uint8_t *src, const uint8_t *expected,
                         size_t expected_length)
{
    size_t length = dicomrle_frame_length(f);
    size_t bound = dicomrle_encode_bound(f);
    size_t scratch_size = dicomrle_scratch_size(f);
    uint8_t *ref = guarded(bound), *got = guarded(bound);
    uint8_t *scratch = guarded(scratch_size);
    uint8_t *canon = xmalloc(f->rows * f->columns * f->samples_per_pixel *
                             f->bytes_allocated);
    size_t ref_length, got_length, i;
    dicomrle_status s;
    expectation want;

    s = dicomrle_encode_isa(f, src, length, ref, bound, scratch, scratch_size,
                            &ref_length, DICOMRLE_ISA_SCALAR);
    CHECK(s == DICOMRLE_OK, "%s [%s]: scalar encode status %d", name,
          describe(f), (int)s);
    CHECK(guard_intact(ref, bound) && guard_intact(scratch, scratch_size),
          "%s [%s]: scalar encode wrote past its buffers", name, describe(f));
    hash(ref, ref_length);
    if (expected) {
        CHECK(ref_length == expected_length &&
                  memcmp(ref, expected, ref_length) == 0,
              "%s: the scalar encoding differs from the expected one", name);
    }
    for (i = 0; i < isa_count; i++) {
        s = dicomrle_encode_isa(f, src, length, got, bound, scratch,
                                scratch_size, &got_length, isas[i]);
        CHECK(guard_intact(got, bound) && guard_intact(scratch, scratch_size),
              "%s [%s]: %s encode wrote past its buffers", name, describe(f),
              dicomrle_isa_name(isas[i]));
        CHECK(s == DICOMRLE_OK && got_length == ref_length &&
                  memcmp(got, ref, ref_length) == 0,
              "%s [%s]: %s encode differs from scalar", name, describe(f),
              dicomrle_isa_name(isas[i]));
    }
    canon_from_src(f, src, canon);
    want.status = DICOMRLE_OK;
    want.extra = 0;
    want.canon = canon;
    check_decode(name, f, ref, ref_length, &want);
    free(ref);
    free(got);
    free(scratch);
    free(canon);
}

/* ------------------------------------------------- generated frames */

enum { ZEROS, CONSTANT, RAMP, RANDOM, RUNS, CONTENTS };
static const char *const CONTENT_NAMES[] = {"zeros", "constant", "ramp",
                                            "random", "runs"};

/* n bytes of a content; runs: runs of 2, 3, 127, 128, 129 (and others)
   equal bytes between literals. */
static void fill(uint8_t *p, size_t n, int content)
{
    static const size_t lengths[] = {1, 2, 3, 2, 127, 1, 128, 129, 2, 130,
                                     256, 257, 3, 1, 1, 64, 65};
    size_t i = 0;

    while (i < n) {
        switch (content) {
        case ZEROS:
            p[i++] = 0;
            break;
        case CONSTANT:
            p[i++] = 0x9C;
            break;
        case RAMP:
            p[i] = (uint8_t)(i * 7 + i / 256);
            i++;
            break;
        case RANDOM:
            p[i++] = (uint8_t)rng();
            break;
        default: {
            size_t len = lengths[rng() % (sizeof lengths / sizeof *lengths)];
            uint8_t v = (uint8_t)rng();
            if (i > 0 && p[i - 1] == v) {
                v ^= 0x80;
            }
            while (len-- && i < n) {
                p[i++] = v;
            }
        }
        }
    }
}

static unsigned long generated;

static void check_generated(size_t rows, size_t columns, size_t samples,
                            size_t ba, size_t bps, int sign, int be,
                            int planar, int content)
{
    dicomrle_frame f;
    size_t length, plane, k, p, b, s;
    uint8_t *src, *bytes;
    char name[200];

    f.rows = rows;
    f.columns = columns;
    f.samples_per_pixel = samples;
    f.bytes_allocated = ba;
    f.bytes_per_sample = bps;
    f.big_endian = be;
    f.planar = planar;
    f.sign_extend = sign;
    length = dicomrle_frame_length(&f);
    plane = rows * columns;
    src = xmalloc(length);
    bytes = xmalloc(plane);
    /* Each source byte plane gets the content on its own, so that the
       runs reach the segments. */
    for (s = 0; s < samples; s++) {
        for (b = 0; b < bps; b++) {
            fill(bytes, plane, content);
            if (content == CONSTANT) {
                memset(bytes, (int)(0x31 * (s * bps + b + 1)), plane);
            }
            for (p = 0; p < plane; p++) {
                k = (planar ? s * plane + p : p * samples + s) * bps + b;
                src[k] = bytes[p];
            }
        }
    }
    sprintf(name, "generated %s", CONTENT_NAMES[content]);
    check_encode(name, &f, src, NULL, 0);
    generated++;
    free(src);
    free(bytes);
}

static void generated_frames(void)
{
    static const size_t widths[] = {1, 2, 63, 64, 65, 127, 128, 129, 130,
                                    65535};
    static const size_t sample_counts[] = {1, 2, 3, 4, 5, 7, 15};
    static const size_t allocated[] = {1, 2, 4, 8};
    size_t w, a, n, bps;
    int sign, be, planar, content;

    rng_state = 20;
    for (w = 0; w < sizeof widths / sizeof *widths; w++) {
        size_t columns = widths[w];
        size_t rows = columns >= 1000 ? 2 : 5;
        for (a = 0; a < 4; a++) {
            size_t ba = allocated[a];
            for (n = 0; n < sizeof sample_counts / sizeof *sample_counts; n++) {
                size_t samples = sample_counts[n];
                if (samples * ba > DICOMRLE_MAX_SEGMENTS) {
                    continue;
                }
                /* The widest rows: 1 or 3 samples, whole or 1-byte. */
                if (columns > 1000 && samples != 1 && samples != 3) {
                    continue;
                }
                for (bps = 1; bps <= ba; bps++) {
                    /* Some of the 8-byte widths only. */
                    if ((ba == 8 && bps != 1 && bps != 2 && bps != 3 &&
                         bps != 7 && bps != 8) ||
                        (columns > 1000 && bps != 1 && bps != ba)) {
                        continue;
                    }
                    for (sign = 0; sign <= (bps < ba); sign++) {
                        for (be = 0; be <= (bps > 1 || ba > 1); be++) {
                            for (planar = 0; planar <= (samples > 1);
                                 planar++) {
                                for (content = 0; content < CONTENTS;
                                     content++) {
                                    /* The widest rows: runs, and random
                                       for one layout of each width. */
                                    if (columns > 1000 && content != RUNS &&
                                        !(content == RANDOM && samples == 1 &&
                                          bps == ba && !be)) {
                                        continue;
                                    }
                                    check_generated(rows, columns, samples, ba,
                                                    bps, sign, be, planar,
                                                    content);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/* ---------------------------------------------------------- row encoder */

/* PackBits decode of one encoded row: 1 if it gives exactly src. */
static int row_decodes_to(const uint8_t *enc, size_t n, const uint8_t *src,
                          size_t length)
{
    size_t i = 0, have = 0;

    while (i < n) {
        unsigned h = enc[i++];
        size_t count = h < 128 ? h + 1 : 257 - h;
        if (h == 128 || have + count > length ||
            i + (h < 128 ? count : 1) > n) {
            return 0;
        }
        if (h < 128) {
            if (memcmp(src + have, enc + i, count) != 0) {
                return 0;
            }
            i += count;
        } else {
            size_t j;
            for (j = 0; j < count; j++) {
                if (src[have + j] != enc[i]) {
                    return 0;
                }
            }
            i++;
        }
        have += count;
    }
    return have == length;
}

static unsigned long rows_checked;

static void check_row(const uint8_t *src, size_t length)
{
    size_t bound = length + (length + 127) / 128;
    uint8_t *ref = guarded(bound), *got = guarded(bound);
    size_t ref_length, got_length, i;

    ref_length = dicomrle_encode_row_isa(src, length, ref, DICOMRLE_ISA_SCALAR);
    hash(ref, ref_length);
    CHECK(ref_length > 0 && ref_length <= bound && guard_intact(ref, bound) &&
              row_decodes_to(ref, ref_length, src, length),
          "row of %lu: the scalar encoding is wrong", (unsigned long)length);
    for (i = 0; i < isa_count; i++) {
        got_length = dicomrle_encode_row_isa(src, length, got, isas[i]);
        CHECK(guard_intact(got, bound), "row of %lu: %s wrote past its bound",
              (unsigned long)length, dicomrle_isa_name(isas[i]));
        CHECK(got_length == ref_length && memcmp(got, ref, ref_length) == 0,
              "row of %lu: %s differs from scalar", (unsigned long)length,
              dicomrle_isa_name(isas[i]));
    }
    rows_checked++;
    free(ref);
    free(got);
}

static void rows(void)
{
    static const size_t lengths[] = {1, 2, 3, 4, 15, 16, 17, 31, 32, 33,
                                     63, 64, 65, 66, 127, 128, 129, 130,
                                     191, 192, 193, 255, 256, 257, 258,
                                     383, 384, 385, 1000, 4096, 65535};
    uint8_t *src = xmalloc(65535);
    size_t l, k;
    int content;

    rng_state = 7;
    for (l = 0; l < sizeof lengths / sizeof *lengths; l++) {
        for (content = 0; content < CONTENTS; content++) {
            for (k = 0; k < (content >= RANDOM ? 8u : 1u); k++) {
                fill(src, lengths[l], content);
                check_row(src, lengths[l]);
            }
        }
    }
    /* Every length to 300, and runs of every length to 300 inside a
       literal, at every offset modulo 128 of that literal. */
    for (l = 1; l <= 300; l++) {
        fill(src, l, RUNS);
        check_row(src, l);
    }
    for (l = 2; l <= 300; l++) {
        for (k = 0; k < 130; k += 3) {
            size_t j;
            for (j = 0; j < k; j++) {
                src[j] = (uint8_t)(j & 1 ? 0x11 : 0x22);
            }
            memset(src + k, 0x33, l);
            src[k + l] = 0x44;
            src[k + l + 1] = 0x55;
            check_row(src, k + l + 2);
        }
    }
    free(src);
}

/* ------------------------------------------------------------ vectors */

typedef struct reader {
    const uint8_t *p, *end;
} reader;

static uint32_t get_u32(reader *r)
{
    const uint8_t *p = r->p;
    if (r->end - p < 4) {
        fprintf(stderr, "vectors file truncated\n");
        exit(2);
    }
    r->p += 4;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static const uint8_t *get_blob(reader *r, size_t *length)
{
    const uint8_t *p;
    *length = get_u32(r);
    if ((size_t)(r->end - r->p) < *length) {
        fprintf(stderr, "vectors file truncated\n");
        exit(2);
    }
    p = r->p;
    r->p += *length;
    return p;
}

static uint8_t *read_file(const char *path, size_t *length)
{
    FILE *fp = fopen(path, "rb");
    uint8_t *data;
    long n;

    if (fp == NULL || fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 ||
        fseek(fp, 0, SEEK_SET) != 0) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(2);
    }
    data = xmalloc((size_t)n);
    if (fread(data, 1, (size_t)n, fp) != (size_t)n) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(2);
    }
    fclose(fp);
    *length = (size_t)n;
    return data;
}

/* Damaged copies of an RLE frame: scalar and every instruction set must
   agree on each (status, report, bytes). */
static unsigned long damaged;

static void damage(const char *name, const dicomrle_frame *shape,
                   const uint8_t *rle, size_t length, int copies)
{
    uint8_t *copy = xmalloc(length + 1);
    int c, k;

    for (c = 0; c < copies; c++) {
        size_t n = length;
        memcpy(copy, rle, length);
        for (k = (int)(rng() % 4); k >= 0; k--) {
            copy[rng() % length] = (uint8_t)rng();
        }
        if (rng() % 2) {
            n = (size_t)(rng() % (length + 1));
        }
        check_decode(name, shape, copy, n, NULL);
        damaged++;
    }
    free(copy);
}

static const dicomrle_status OUTCOME[] = {
    DICOMRLE_OK, DICOMRLE_ERR_HEADER, DICOMRLE_ERR_SEGMENT_COUNT,
    DICOMRLE_ERR_OFFSET, DICOMRLE_ERR_SHORT};

static unsigned long raw_vectors, rle_vectors;

static void vectors(const char *path)
{
    size_t file_length;
    uint8_t *data = read_file(path, &file_length);
    reader r;

    r.p = data;
    r.end = data + file_length;
    if (file_length < 8 || memcmp(data, "DRLEVEC1", 8) != 0) {
        fprintf(stderr, "%s is not a vectors file\n", path);
        exit(2);
    }
    r.p += 8;
    rng_state = 99;
    while (r.p < r.end) {
        uint32_t kind = get_u32(&r);
        size_t name_length, src_length, length;
        const uint8_t *name_bytes = get_blob(&r, &name_length);
        char name[256];
        dicomrle_frame f;
        const uint8_t *src, *expected;

        sprintf(name, "%.*s", (int)(name_length < 200 ? name_length : 200),
                (const char *)name_bytes);
        f.rows = get_u32(&r);
        f.columns = get_u32(&r);
        f.samples_per_pixel = get_u32(&r);
        f.bytes_allocated = get_u32(&r);
        f.bytes_per_sample = get_u32(&r);
        f.big_endian = (int)get_u32(&r);
        f.planar = (int)get_u32(&r);
        f.sign_extend = (int)get_u32(&r);
        src = get_blob(&r, &src_length);
        if (kind == 1) {
            expected = get_blob(&r, &length);
            CHECK(src_length == dicomrle_frame_length(&f),
                  "%s: the source is not one frame", name);
            check_encode(name, &f, src, expected, length);
            f.bytes_per_sample = f.bytes_allocated;
            f.sign_extend = 0;
            damage(name, &f, expected, length, 3);
            raw_vectors++;
        } else {
            expectation want;
            uint32_t outcome = get_u32(&r);
            uint8_t *canon = NULL;
            want.status = OUTCOME[outcome < 5 ? outcome : 0];
            want.numbers[0] = get_u32(&r);
            want.numbers[1] = get_u32(&r);
            want.numbers[2] = get_u32(&r);
            want.extra = (int)get_u32(&r);
            expected = get_blob(&r, &length);
            if (want.status == DICOMRLE_OK) {
                /* The expectation is planar, little-endian. */
                canon = xmalloc(length);
                canon_from_src(&f, expected, canon);
            }
            want.canon = canon;
            check_decode(name, &f, src, src_length, &want);
            if (src_length > 0) {
                damage(name, &f, src, src_length, 20);
            }
            free(canon);
            rle_vectors++;
        }
    }
    free(data);
}

/* ------------------------------------------------------ bad parameters */

static unsigned long statuses;

static void expect_status(const char *what, dicomrle_status got,
                          dicomrle_status want)
{
    statuses++;
    CHECK(got == want, "%s: status %d (%s), want %d", what, (int)got,
          dicomrle_status_message(got), (int)want);
}

static dicomrle_frame frame_of(size_t rows, size_t columns, size_t samples,
                               size_t ba, size_t bps)
{
    dicomrle_frame f;
    f.rows = rows;
    f.columns = columns;
    f.samples_per_pixel = samples;
    f.bytes_allocated = ba;
    f.bytes_per_sample = bps;
    f.big_endian = 0;
    f.planar = 0;
    f.sign_extend = 0;
    return f;
}

/* Encode with every instruction set (each must give want, and *dst_length
   0 on error); the frame, src, dst and scratch as given. */
static void bad_encode(const char *what, const dicomrle_frame *f,
                       const uint8_t *src, size_t src_length, uint8_t *dst,
                       size_t dst_capacity, uint8_t *scratch,
                       size_t scratch_capacity, dicomrle_status want)
{
    size_t i, dst_length = 123;
    char text[200];

    expect_status(what,
                  dicomrle_encode(f, src, src_length, dst, dst_capacity,
                                  scratch, scratch_capacity, &dst_length),
                  want);
    CHECK(want == DICOMRLE_OK || dst_length == 0,
          "%s: *dst_length not 0 on error", what);
    for (i = 0; i < isa_count; i++) {
        sprintf(text, "%s (%s)", what, dicomrle_isa_name(isas[i]));
        expect_status(text,
                      dicomrle_encode_isa(f, src, src_length, dst, dst_capacity,
                                          scratch, scratch_capacity,
                                          &dst_length, isas[i]),
                      want);
    }
}

static void bad_decode(const char *what, const dicomrle_frame *f,
                       const uint8_t *src, size_t src_length, uint8_t *dst,
                       size_t dst_capacity, dicomrle_status want)
{
    dicomrle_decode_report report;
    size_t i;
    char text[200];

    expect_status(what,
                  dicomrle_decode(f, src, src_length, dst, dst_capacity, 0,
                                  NULL),
                  want);
    for (i = 0; i < isa_count; i++) {
        sprintf(text, "%s (%s)", what, dicomrle_isa_name(isas[i]));
        expect_status(text,
                      dicomrle_decode_isa(f, src, src_length, dst,
                                          dst_capacity, 0, &report, isas[i]),
                      want);
    }
}

static void bad_parameters(void)
{
    static uint8_t src[4096], dst[8192], scratch[256], rle[4096];
    dicomrle_frame good = frame_of(4, 16, 3, 2, 2), f;
    size_t length = dicomrle_frame_length(&good);
    size_t bound = dicomrle_encode_bound(&good);
    size_t scratch_size = dicomrle_scratch_size(&good);
    size_t rle_length = 0, i;
    int s;

    CHECK(length == 384 && bound == 64 + 6 * (4 * 17 + 1) &&
              scratch_size == 16,
          "sizes of a 4x16 RGB 16-bit frame: %lu %lu %lu",
          (unsigned long)length, (unsigned long)bound,
          (unsigned long)scratch_size);
    fill(src, sizeof src, RUNS);

    /* The frame checks, through every function that takes a frame. */
    {
        struct {
            const char *what;
            dicomrle_frame f;
            dicomrle_status want;
        } cases[] = {
            {"rows 0", frame_of(0, 16, 1, 1, 1), DICOMRLE_ERR_SIZE},
            {"columns 0", frame_of(4, 0, 1, 1, 1), DICOMRLE_ERR_SIZE},
            {"samples 0", frame_of(4, 16, 0, 1, 1), DICOMRLE_ERR_SIZE},
            {"bytes_allocated 0", frame_of(4, 16, 1, 0, 1), DICOMRLE_ERR_BYTES},
            {"bytes_allocated 3", frame_of(4, 16, 1, 3, 3), DICOMRLE_ERR_BYTES},
            {"bytes_allocated 16", frame_of(4, 16, 1, 16, 16),
             DICOMRLE_ERR_BYTES},
            {"bytes_per_sample 0", frame_of(4, 16, 1, 2, 0), DICOMRLE_ERR_BYTES},
            {"bytes_per_sample 3 > 2", frame_of(4, 16, 1, 2, 3),
             DICOMRLE_ERR_BYTES},
            {"16 segments (16 x 1)", frame_of(4, 16, 16, 1, 1),
             DICOMRLE_ERR_SEGMENTS},
            {"16 segments (8 x 2)", frame_of(4, 16, 8, 2, 2),
             DICOMRLE_ERR_SEGMENTS},
            {"16 segments (2 x 8)", frame_of(4, 16, 2, 8, 8),
             DICOMRLE_ERR_SEGMENTS},
            {"16 segments (4 x 4)", frame_of(4, 16, 4, 4, 4),
             DICOMRLE_ERR_SEGMENTS},
            {"columns SIZE_MAX", frame_of(1, SIZE_MAX, 1, 1, 1),
             DICOMRLE_ERR_OVERFLOW},
            {"rows x columns overflow", frame_of(SIZE_MAX / 2, 3, 1, 1, 1),
             DICOMRLE_ERR_OVERFLOW},
            {"65536 x 65536 (bound > 4 GiB)", frame_of(65536, 65536, 1, 1, 1),
             DICOMRLE_ERR_TOO_LARGE},
            {"65535 x 65535 x 15 segments", frame_of(65535, 65535, 15, 1, 1),
             DICOMRLE_ERR_TOO_LARGE},
            {"15 segments, 1 x 1", frame_of(1, 1, 15, 1, 1), DICOMRLE_OK},
            {"1 x 1 x 8 bytes", frame_of(1, 1, 1, 8, 8), DICOMRLE_OK},
        };
        for (i = 0; i < sizeof cases / sizeof *cases; i++) {
            dicomrle_frame *c = &cases[i].f;
            dicomrle_status want = cases[i].want;
            char text[200];
            expect_status(cases[i].what, dicomrle_check(c), want);
            CHECK((dicomrle_frame_length(c) == 0) == (want != DICOMRLE_OK) &&
                      (dicomrle_encode_bound(c) == 0) == (want != DICOMRLE_OK) &&
                      (dicomrle_scratch_size(c) == 0) == (want != DICOMRLE_OK),
                  "%s: the sizes are not 0 exactly when the frame is invalid",
                  cases[i].what);
            if (want == DICOMRLE_OK) {
                continue;
            }
            sprintf(text, "encode, %s", cases[i].what);
            bad_encode(text, c, src, sizeof src, dst, sizeof dst, scratch,
                       sizeof scratch, want);
            sprintf(text, "decode, %s", cases[i].what);
            bad_decode(text, c, rle, sizeof rle, dst, sizeof dst, want);
        }
    }

    /* The encoder's pointers and capacities. */
    {
        size_t dst_length = 7;
        expect_status("encode, dst_length NULL",
                      dicomrle_encode(&good, src, length, dst, bound, scratch,
                                      scratch_size, NULL),
                      DICOMRLE_ERR_NULL);
        expect_status("encode, frame NULL",
                      dicomrle_encode(NULL, src, length, dst, bound, scratch,
                                      scratch_size, &dst_length),
                      DICOMRLE_ERR_NULL);
        CHECK(dst_length == 0, "encode, frame NULL: *dst_length not 0");
    }
    bad_encode("encode, src NULL", &good, NULL, length, dst, bound, scratch,
               scratch_size, DICOMRLE_ERR_NULL);
    bad_encode("encode, dst NULL", &good, src, length, NULL, bound, scratch,
               scratch_size, DICOMRLE_ERR_NULL);
    bad_encode("encode, scratch NULL", &good, src, length, dst, bound, NULL,
               scratch_size, DICOMRLE_ERR_NULL);
    f = frame_of(0, 1, 1, 1, 1);
    bad_encode("encode, src NULL and rows 0", &f, NULL, length, dst, bound, scratch, scratch_size,
               DICOMRLE_ERR_NULL);
    bad_encode("encode, src one byte short", &good, src, length - 1, dst, bound,
               scratch, scratch_size, DICOMRLE_ERR_SRC_LENGTH);
    bad_encode("encode, src short and dst too small", &good, src, length - 1,
               dst, bound - 1, scratch, scratch_size, DICOMRLE_ERR_SRC_LENGTH);
    bad_encode("encode, dst one byte below the bound", &good, src, length, dst,
               bound - 1, scratch, scratch_size, DICOMRLE_ERR_DST_CAPACITY);
    bad_encode("encode, dst too small and scratch too small", &good, src,
               length, dst, bound - 1, scratch, scratch_size - 1,
               DICOMRLE_ERR_DST_CAPACITY);
    bad_encode("encode, scratch one byte short", &good, src, length, dst, bound,
               scratch, scratch_size - 1, DICOMRLE_ERR_SCRATCH);
    bad_encode("encode, exact capacities", &good, src, length, dst, bound,
               scratch, scratch_size, DICOMRLE_OK);
    f = good;
    f.bytes_per_sample = 1;
    f.sign_extend = 1;
    bad_encode("encode, 1 of 2 bytes, sign extended, src of 192", &f, src, 192,
               dst, bound, scratch, scratch_size, DICOMRLE_OK);
    bad_encode("encode, 1 of 2 bytes, src of 191", &f, src, 191, dst, bound,
               scratch, scratch_size, DICOMRLE_ERR_SRC_LENGTH);
    {
        size_t dst_length = 9;
        expect_status("encode, instruction set 99",
                      dicomrle_encode_isa(&good, src, length, dst, bound,
                                          scratch, scratch_size, &dst_length,
                                          (dicomrle_isa)99),
                      DICOMRLE_ERR_ISA);
        CHECK(dst_length == 0, "encode, instruction set 99: *dst_length not 0");
        CHECK(dicomrle_encode_row_isa(src, 16, dst, (dicomrle_isa)99) == 0,
              "row, instruction set 99: not 0");
        CHECK(!dicomrle_isa_available((dicomrle_isa)99) &&
                  strcmp(dicomrle_isa_name((dicomrle_isa)99), "unknown") == 0,
              "instruction set 99 is available or named");
    }

    /* A good encoding of `good` for the decoder's cases. */
    CHECK(dicomrle_encode(&good, src, length, rle, sizeof rle, scratch,
                          scratch_size, &rle_length) == DICOMRLE_OK,
          "encode of the good frame");

    /* The decoder's parameters and frame description. */
    expect_status("decode, frame NULL",
                  dicomrle_decode(NULL, rle, rle_length, dst, length, 0, NULL),
                  DICOMRLE_ERR_NULL);
    bad_decode("decode, dst NULL", &good, rle, rle_length, NULL, length,
               DICOMRLE_ERR_NULL);
    bad_decode("decode, src NULL with a length", &good, NULL, rle_length, dst,
               length, DICOMRLE_ERR_NULL);
    bad_decode("decode, src NULL, length 0", &good, NULL, 0, dst, length,
               DICOMRLE_ERR_HEADER);
    bad_decode("decode, dst one byte short", &good, rle, rle_length, dst,
               length - 1, DICOMRLE_ERR_DST_CAPACITY);
    bad_decode("decode, dst short and src NULL", &good, NULL, 5, dst,
               length - 1, DICOMRLE_ERR_NULL);
    f = good;
    f.bytes_per_sample = 1;
    bad_decode("decode, bytes_per_sample 1 of 2", &f, rle, rle_length, dst,
               length, DICOMRLE_ERR_BYTES);
    f = good;
    f.sign_extend = 1;
    bad_decode("decode, sign_extend", &f, rle, rle_length, dst, length,
               DICOMRLE_ERR_BYTES);
    f = frame_of(4, 16, 2, 8, 8);
    bad_decode("decode, 16 segments and dst NULL", &f, rle, rle_length, NULL,
               length, DICOMRLE_ERR_SEGMENTS);
    bad_decode("decode, src of 63 bytes", &good, rle, 63, dst, length,
               DICOMRLE_ERR_HEADER);
    bad_decode("decode, src of 0 bytes", &good, rle, 0, dst, length,
               DICOMRLE_ERR_HEADER);
    bad_decode("decode, src of 64 bytes", &good, rle, 64, dst, length,
               DICOMRLE_ERR_OFFSET);
    f = good;
    f.samples_per_pixel = 1;
    bad_decode("decode, 6 segments for 2", &f, rle, rle_length, dst, length,
               DICOMRLE_ERR_SEGMENT_COUNT);
    bad_decode("decode, exact capacity", &good, rle, rle_length, dst, length,
               DICOMRLE_OK);
    expect_status("decode, instruction set 99",
                  dicomrle_decode_isa(&good, rle, rle_length, dst, length, 0,
                                      NULL, (dicomrle_isa)99),
                  DICOMRLE_ERR_ISA);

    /* Every status has its own message; an unknown one a message too. */
    for (s = DICOMRLE_OK; s <= DICOMRLE_ERR_SHORT; s++) {
        int t;
        const char *m = dicomrle_status_message((dicomrle_status)s);
        hash(m, strlen(m));
        for (t = DICOMRLE_OK; t < s; t++) {
            CHECK(strcmp(m, dicomrle_status_message((dicomrle_status)t)) != 0,
                  "statuses %d and %d share a message", t, s);
        }
    }
    CHECK(strcmp(dicomrle_status_message((dicomrle_status)99),
                 "unknown status") == 0,
          "the message of status 99");
}

/* --------------------------------------------------------------- main */

static double seconds(clock_t since)
{
    return (double)(clock() - since) / CLOCKS_PER_SEC;
}

static const char *target(void)
{
#if defined(_WIN32)
    return "x86-64 Windows";
#elif defined(__aarch64__)
    return "aarch64";
#elif defined(__s390x__)
    return "s390x";
#elif defined(__x86_64__)
    return "x86-64";
#else
    return "unknown target";
#endif
}

int main(int argc, char **argv)
{
    dicomrle_isa isa;
    unsigned long before;
    clock_t start;

    if (argc != 2) {
        fprintf(stderr, "usage: %s VECTORS_FILE\n", argv[0]);
        return 2;
    }
    /* Every instruction set but the reference: AUTO too, what
       dicomrle_encode() and dicomrle_decode() use. */
    isas[isa_count++] = DICOMRLE_ISA_AUTO;
    for (isa = DICOMRLE_ISA_PORTABLE; isa <= DICOMRLE_ISA_AVX2; isa++) {
        if (dicomrle_isa_available(isa)) {
            isas[isa_count++] = isa;
        }
    }
    printf("%s: instruction sets scalar", target());
    for (isa = DICOMRLE_ISA_PORTABLE; isa <= DICOMRLE_ISA_AVX2; isa++) {
        printf(" %s%s", dicomrle_isa_name(isa),
               dicomrle_isa_available(isa) ? "" : " (absent)");
    }
    printf("; auto is %s\n", dicomrle_simd());
    CHECK(dicomrle_isa_available(DICOMRLE_ISA_SCALAR) &&
              dicomrle_isa_available(DICOMRLE_ISA_PORTABLE),
          "scalar or portable missing");

    before = checks;
    start = clock();
    bad_parameters();
    printf("  bad parameters: %lu statuses, %lu checks, %.1f s\n", statuses,
           checks - before, seconds(start));
    before = checks;
    start = clock();
    rows();
    printf("  row encoder: %lu rows, %lu checks, %.1f s\n", rows_checked,
           checks - before, seconds(start));
    before = checks;
    start = clock();
    generated_frames();
    printf("  generated frames: %lu frames, %lu checks, %.1f s\n", generated,
           checks - before, seconds(start));
    before = checks;
    start = clock();
    vectors(argv[1]);
    printf("  vectors: %lu raw frames, %lu RLE frames, %lu damaged copies, "
           "%lu checks, %.1f s\n", raw_vectors, rle_vectors, damaged,
           checks - before, seconds(start));
    printf("  digest %08lx%08lx\n", (unsigned long)(digest >> 32),
           (unsigned long)(digest & 0xFFFFFFFFu));
    printf("%s: %lu checks, %lu differences\n", target(), checks, differences);
    return differences ? 1 : 0;
}
