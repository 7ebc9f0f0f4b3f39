/*
 * libFuzzer harness for the element walker, csrc/dcm_walk.h.
 *
 * The input is a file's bytes. The walker is run on copies of exactly
 * `available` bytes in their own allocation (AddressSanitizer catches a
 * read past them) and the harness checks the contract:
 *
 * - the status is one the header lists, with a message;
 * - DCMWALK_NEED_MORE only when bytes are missing, asking for more than it
 *   had and no more than the file has; feeding it what it asks for, again
 *   and again, ends in the same status and the same report as the whole
 *   file at once (a prefix never changes the answer);
 * - on DCMWALK_OK: every reported value lies inside the file, after its
 *   header; the File Meta Information ends after the preamble and before
 *   the dataset elements; the Pixel Data is OB or OW, even, and after_pixel
 *   is its end; the Transfer Syntax UID is Explicit VR Little Endian;
 * - dcmwalk_tail() on the bytes after the Pixel Data, and on the whole
 *   input, returns a listed status and an error offset inside them.
 *
 * Any mismatch aborts with a message.
 */
#include "dcm_walk.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAIL(...)                                                  \
    do {                                                           \
        fprintf(stderr, "fuzz_walk: %s:%d: ", __FILE__, __LINE__); \
        fprintf(stderr, __VA_ARGS__);                              \
        fputc('\n', stderr);                                       \
        abort();                                                   \
    } while (0)

#define CHECK(cond, ...)       \
    do {                       \
        if (!(cond)) {         \
            FAIL(__VA_ARGS__); \
        }                      \
    } while (0)

static uint8_t *copy_of(const uint8_t *data, size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    if (p == NULL) {
        abort();
    }
    if (n) {
        memcpy(p, data, n);
    }
    return p;
}

static dcmwalk_status walk_prefix(const uint8_t *data, size_t available,
                                  size_t size, dcmwalk_info *info)
{
    uint8_t *buf = copy_of(data, available);
    dcmwalk_status status =
        dcmwalk_file(available ? buf : NULL, available, size, info);
    CHECK(memcmp(buf, data, available) == 0, "the walker wrote to its input");
    free(buf);
    CHECK(status <= DCMWALK_NULL, "status %d is not listed", (int)status);
    CHECK(dcmwalk_status_message(status) != NULL, "no message");
    return status;
}

static void check_ok(const uint8_t *data, size_t size, const dcmwalk_info *info)
{
    int i;
    const dcmwalk_value *pixel = &info->values[DCMWALK_PIXEL_DATA];
    const dcmwalk_value *ts = &info->values[DCMWALK_TRANSFER_SYNTAX];
    CHECK(info->meta_end >= DCMWALK_META_START && info->meta_end <= size,
          "meta_end %zu", info->meta_end);
    for (i = 0; i < DCMWALK_ELEMENTS; i++) {
        const dcmwalk_value *v = &info->values[i];
        if (!v->present) {
            continue;
        }
        CHECK(v->header >= DCMWALK_META_START && v->header < v->offset &&
                  v->offset - v->header <= 12,
              "value %d: header %zu, offset %zu", i, v->header, v->offset);
        CHECK(v->offset <= size && v->length <= size - v->offset,
              "value %d runs past the file", i);
        CHECK((v->length & 1u) == 0, "value %d has odd length", i);
        if (i <= DCMWALK_IMPLEMENTATION_CLASS) {
            CHECK(v->offset + v->length <= info->meta_end, "meta value %d", i);
        } else {
            CHECK(v->header >= info->meta_end, "dataset value %d", i);
        }
    }
    CHECK(ts->present && ts->length == 20 &&
              memcmp(data + ts->offset, "1.2.840.10008.1.2.1", 19) == 0,
          "transfer syntax");
    CHECK(pixel->present, "no Pixel Data on OK");
    CHECK((pixel->vr[0] == 'O' && (pixel->vr[1] == 'B' || pixel->vr[1] == 'W')),
          "Pixel Data VR %c%c", pixel->vr[0], pixel->vr[1]);
    CHECK(info->after_pixel == pixel->offset + pixel->length,
          "after_pixel %zu", info->after_pixel);
    CHECK(memcmp(data + 128, "DICM", 4) == 0, "no DICM");
}

static void check_tail(const uint8_t *data, size_t n)
{
    size_t where = (size_t)-1;
    uint8_t *buf = copy_of(data, n);
    dcmwalk_status status = dcmwalk_tail(n ? buf : NULL, n, &where);
    free(buf);
    CHECK(status <= DCMWALK_NULL && status != DCMWALK_NEED_MORE,
          "tail status %d", (int)status);
    CHECK(where <= n, "tail error offset %zu of %zu", where, n);
    CHECK(status != DCMWALK_OK || where == 0, "tail OK with an offset");
}

/* dcmwalk_file_rle() on the whole file: a listed status, and the same
   walk as dcmwalk_file() unless the transfer syntax is RLE Lossless. */
static void check_rle(const uint8_t *data, size_t size, dcmwalk_status plain,
                      const dcmwalk_info *info)
{
    dcmwalk_info rle;
    uint8_t *buf = copy_of(data, size);
    const dcmwalk_value *pixel = &rle.values[DCMWALK_PIXEL_DATA];
    dcmwalk_status status = dcmwalk_file_rle(size ? buf : NULL, size, size, &rle);
    CHECK(memcmp(buf, data, size) == 0, "the RLE walker wrote to its input");
    free(buf);
    CHECK(status <= DCMWALK_NULL && status != DCMWALK_NEED_MORE,
          "RLE walk status %d", (int)status);
    if (plain != DCMWALK_SYNTAX) {
        CHECK(status == plain, "RLE walk %d, plain walk %d", (int)status,
              (int)plain);
        CHECK(status != DCMWALK_OK ||
                  memcmp(&rle.values, &info->values, sizeof rle.values) == 0,
              "the RLE walk gave another report");
    }
    if (status == DCMWALK_ENCAPSULATED) {
        CHECK(pixel->present && pixel->offset <= size && pixel->length == 0,
              "encapsulated Pixel Data at %zu of %zu", pixel->offset, size);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dcmwalk_info whole, part;
    dcmwalk_status status, again;
    size_t available;
    int rounds = 0;

    status = walk_prefix(data, size, size, &whole);
    CHECK(status != DCMWALK_NEED_MORE, "NEED_MORE with the whole file");
    check_rle(data, size, status, &whole);
    if (status == DCMWALK_OK) {
        check_ok(data, size, &whole);
        check_tail(data + whole.after_pixel, size - whole.after_pixel);
    }
    check_tail(data, size);

    /* From a short prefix, give the walker what it asks for each time. */
    available = size < 64 ? size : (size_t)(data[size - 1]) * 2;
    if (available > size) {
        available = size;
    }
    for (;;) {
        again = walk_prefix(data, available, size, &part);
        if (again != DCMWALK_NEED_MORE) {
            break;
        }
        CHECK(part.need > available && part.need <= size,
              "need %zu with %zu of %zu bytes", part.need, available, size);
        available = part.need;
        CHECK(++rounds < 1000000, "no progress");
    }
    CHECK(again == status, "a prefix gave status %d, the whole file %d",
          (int)again, (int)status);
    if (status == DCMWALK_OK) {
        CHECK(memcmp(&part.values, &whole.values, sizeof whole.values) == 0 &&
                  part.meta_end == whole.meta_end &&
                  part.after_pixel == whole.after_pixel,
              "a prefix gave another report");
    } else {
        CHECK(part.error_offset == whole.error_offset,
              "a prefix stopped at %zu, the whole file at %zu",
              part.error_offset, whole.error_offset);
    }
    return 0;
}
