/*
 * dicomrle: DICOM RLE Lossless frame decoder, PS3.5 Annex G.
 *
 * The frame is checked before any byte is decoded: the 64-byte header
 * (PS3.5 G.5), the segment count, the offsets. Then each segment is decoded
 * (PS3.5 G.3.2) into its byte plane of the output, bounded by the next
 * offset (the last by the end of src), and the planes are interleaved into
 * the caller's byte order and planar configuration:
 *
 * - the scalar reference (rle_scalar.c) writes byte by byte, segment by
 *   segment, straight to each byte's place in dst;
 * - the fast path (an instruction set of rle_decode_fast.c, picked by
 *   dicomrle_resolve_isa()) decodes a segment straight into dst when its
 *   plane is a contiguous part of the output (1-byte samples, one sample
 *   or planar), and otherwise decodes
 *   the segments of a group (all of them, or those of one sample when
 *   planar) a chunk at a time into a stack buffer, from which a zip
 *   interleaves the chunk into dst. An operation that ends past a chunk
 *   leaves its surplus, at most 127 bytes, at the start of the next one.
 *
 * Both give the same status, report and output (tests and the fuzzer
 * compare them); the fast path finds a short segment's report by counting
 * the segments again in order, so it names the same segment.
 */
#include "rle_kernels.h"

/* Stack for the chunk buffers of the fast path. */
#define DECODE_STACK 16384

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* Where segment k goes: its sample, and the position of its byte within
   an output sample (0 = first in memory). PS3.5 G.2: the segments of a
   sample hold its bytes most significant first. */
static void place(const dicomrle_frame *f, int lsb_first, size_t k,
                  size_t *sample, size_t *pos)
{
    size_t ba = f->bytes_allocated;
    size_t b = k % ba;
    size_t msb_rank = lsb_first ? ba - 1 - b : b;

    *sample = k / ba;
    *pos = f->big_endian ? msb_rank : ba - 1 - msb_rank;
}

/* After a full plane: 1 if the rest of the segment still holds an
   operation that gives a byte (0x80 no-ops skipped; a single byte left,
   such as the pad byte of PS3.5 G.3.1, gives none). */
static int tail_extra(const uint8_t *in, const uint8_t *end)
{
    while (in < end && *in == 0x80) {
        in++;
    }
    return end - in >= 2;
}

/* Count what a segment decodes to without writing it: *decoded is
   min(total, plane); *extra is set if it is longer. */
static void measure(const uint8_t *in, const uint8_t *end, size_t plane,
                    size_t *decoded, int *extra)
{
    size_t total = 0;

    while (total < plane && in < end) {
        unsigned h = *in++;
        if (h < 128) {
            size_t n = h + 1;
            size_t left = (size_t)(end - in);
            if (n > left) {
                n = left;
            }
            in += n;
            total += n;
        } else if (h > 128) {
            if (in == end) {
                break;
            }
            in++;
            total += 257 - h;
        }
    }
    if (total > plane) {
        *extra = 1;
        total = plane;
    }
    if (total == plane && tail_extra(in, end)) {
        *extra = 1;
    }
    *decoded = total;
}

/* The segments of a checked frame. */
typedef struct segments {
    size_t count;
    const uint8_t *start[DICOMRLE_MAX_SEGMENTS];
    const uint8_t *end[DICOMRLE_MAX_SEGMENTS];
} segments;

/* DICOMRLE_ERR_SHORT for the first segment in order that is short (the
   fast path knows only that one of them is). */
static dicomrle_status report_short(const segments *s, size_t plane,
                                    dicomrle_decode_report *report)
{
    size_t k;
    int extra = 0;

    for (k = 0; k < s->count; k++) {
        size_t decoded;
        int seg_extra = 0;
        measure(s->start[k], s->end[k], plane, &decoded, &seg_extra);
        if (decoded < plane) {
            report->segment = (int)k;
            report->decoded = decoded;
            report->extra = extra;
            return DICOMRLE_ERR_SHORT;
        }
        extra |= seg_extra;
    }
    /* Not reached: the caller found a short segment. */
    report->extra = extra;
    return DICOMRLE_ERR_SHORT;
}

static dicomrle_status decode_scalar(const dicomrle_frame *f, int lsb_first,
                                     const segments *s, uint8_t *dst,
                                     dicomrle_decode_report *report)
{
    size_t plane = f->rows * f->columns;
    size_t ba = f->bytes_allocated;
    size_t k;

    for (k = 0; k < s->count; k++) {
        size_t sample, pos, base, stride, decoded;
        const uint8_t *in;

        place(f, lsb_first, k, &sample, &pos);
        if (f->planar) {
            base = sample * plane * ba + pos;
            stride = ba;
        } else {
            base = sample * ba + pos;
            stride = f->samples_per_pixel * ba;
        }
        in = s->start[k];
        decoded = dicomrle_unpack_scalar(&in, s->end[k], dst + base, stride,
                                         0, plane, &report->extra);
        if (decoded < plane) {
            report->segment = (int)k;
            report->decoded = decoded;
            return DICOMRLE_ERR_SHORT;
        }
        if (tail_extra(in, s->end[k])) {
            report->extra = 1;
        }
    }
    return DICOMRLE_OK;
}

/* Planes that are a contiguous part of the output: 1-byte samples, one
   sample per pixel or planar. Segment k is plane k of dst. */
static dicomrle_status decode_direct(const dicomrle_frame *f,
                                     const segments *s, const uint8_t *src_end,
                                     uint8_t *dst, size_t frame_length,
                                     const dicomrle_kernels *d,
                                     dicomrle_decode_report *report)
{
    size_t plane = f->rows * f->columns;
    size_t k;

    for (k = 0; k < s->count; k++) {
        uint8_t *out = dst + k * plane;
        size_t room = frame_length - k * plane;
        const uint8_t *in = s->start[k];
        size_t have = 0;
        /* Wide writes while they stay inside dst; then exact ones. An
           operation may end in the next plane, decoded after this one. */
        size_t wide = room - plane >= DICOMRLE_UNPACK_SLACK ? plane
                      : room > DICOMRLE_UNPACK_SLACK
                          ? room - DICOMRLE_UNPACK_SLACK
                          : 0;

        if (wide) {
            have = d->unpack(&in, s->end[k], src_end, out, 0, wide);
        }
        if (have > plane) {
            report->extra = 1;
        } else if (have < plane) {
            /* The rest exactly: the scalar reference. */
            have = dicomrle_unpack_scalar(&in, s->end[k], out, 1, have,
                                          plane, &report->extra);
            if (have < plane) {
                return report_short(s, plane, report);
            }
        }
        if (tail_extra(in, s->end[k])) {
            report->extra = 1;
        }
    }
    return DICOMRLE_OK;
}

/* Groups of segments interleaved into dst a chunk at a time: all of them
   (planar 0), or the bytes_allocated of each sample (planar 1). */
static dicomrle_status decode_chunked(const dicomrle_frame *f, int lsb_first,
                                      const segments *s,
                                      const uint8_t *src_end, uint8_t *dst,
                                      const dicomrle_kernels *d,
                                      dicomrle_decode_report *report)
{
    uint8_t buf[DECODE_STACK];
    size_t plane = f->rows * f->columns;
    size_t ba = f->bytes_allocated;
    size_t g = f->planar ? ba : s->count;
    size_t groups = s->count / g;
    size_t stride = (DECODE_STACK / g - DICOMRLE_UNPACK_SLACK) & ~(size_t)63;
    size_t group;

    for (group = 0; group < groups; group++) {
        const uint8_t *in[DICOMRLE_MAX_SEGMENTS];
        const uint8_t *end[DICOMRLE_MAX_SEGMENTS];
        uint8_t *planes[DICOMRLE_MAX_SEGMENTS];
        size_t carry[DICOMRLE_MAX_SEGMENTS];
        uint8_t *out = dst + (f->planar ? group * plane * ba : 0);
        size_t x0;
        size_t want = 0;
        size_t j;

        /* planes[j]: the buffer of the segment whose byte goes to place j
           of each output group of g bytes. */
        for (j = 0; j < g; j++) {
            size_t k = group * g + j;
            size_t sample, pos, at;
            place(f, lsb_first, k, &sample, &pos);
            at = f->planar ? pos : sample * ba + pos;
            in[at] = s->start[k];
            end[at] = s->end[k];
            planes[at] = buf + at * (stride + DICOMRLE_UNPACK_SLACK);
            carry[at] = 0;
        }
        for (x0 = 0; x0 < plane; x0 += want) {
            want = plane - x0 < stride ? plane - x0 : stride;
            for (j = 0; j < g; j++) {
                size_t have = d->unpack(&in[j], end[j], src_end, planes[j],
                                        carry[j], want);
                if (have < want) {
                    return report_short(s, plane, report);
                }
                carry[j] = have - want;
            }
            d->zip((const uint8_t *const *)planes, g, want, out + x0 * g);
            if (x0 + want < plane) {
                for (j = 0; j < g; j++) {
                    memmove(planes[j], planes[j] + want, carry[j]);
                }
            }
        }
        for (j = 0; j < g; j++) {
            if (carry[j] || tail_extra(in[j], end[j])) {
                report->extra = 1;
            }
        }
    }
    return DICOMRLE_OK;
}

/*
 * PS3.5 G.5: the header is 16 little-endian 32-bit values, the number of
 * segments (1 to 15) and the offset of each from the start of the header,
 * the first 64; a segment lasts up to the next offset (the last one to the
 * end of the frame). G.2: one segment per byte of each sample.
 */
dicomrle_status dicomrle_decode_isa(const dicomrle_frame *f,
                                    const uint8_t *src, size_t src_length,
                                    uint8_t *dst, size_t dst_capacity,
                                    int lsb_first,
                                    dicomrle_decode_report *report,
                                    dicomrle_isa isa)
{
    dicomrle_decode_report unused;
    const dicomrle_kernels *d;
    dicomrle_status status;
    segments s;
    size_t frame_length;
    size_t k;
    uint32_t count;
    uint32_t previous = 0;

    if (report == NULL) {
        report = &unused;
    }
    report->segment = -1;
    report->expected = 0;
    report->decoded = 0;
    report->segments = 0;
    report->offset = 0;
    report->extra = 0;

    if (f == NULL) {
        return DICOMRLE_ERR_NULL;
    }
    status = dicomrle_check(f);
    if (status != DICOMRLE_OK) {
        return status;
    }
    if (f->bytes_per_sample != f->bytes_allocated || f->sign_extend) {
        return DICOMRLE_ERR_BYTES;
    }
    d = dicomrle_resolve_isa(isa);
    if (d == NULL) {
        return DICOMRLE_ERR_ISA;
    }
    if (dst == NULL || (src == NULL && src_length > 0)) {
        return DICOMRLE_ERR_NULL;
    }
    frame_length = dicomrle_frame_length(f);
    if (dst_capacity < frame_length) {
        return DICOMRLE_ERR_DST_CAPACITY;
    }
    report->expected = f->rows * f->columns;
    if (src_length < DICOMRLE_HEADER_SIZE) {
        return DICOMRLE_ERR_HEADER;
    }
    count = le32(src);
    report->segments = count;
    if (count != f->samples_per_pixel * f->bytes_allocated) {
        return DICOMRLE_ERR_SEGMENT_COUNT;
    }
    s.count = count;
    for (k = 0; k < count; k++) {
        uint32_t offset = le32(src + 4 + 4 * k);
        if (offset < DICOMRLE_HEADER_SIZE || offset > src_length ||
            (k > 0 && offset <= previous)) {
            report->segment = (int)k;
            report->offset = offset;
            return DICOMRLE_ERR_OFFSET;
        }
        s.start[k] = src + offset;
        if (k > 0) {
            s.end[k - 1] = s.start[k];
        }
        previous = offset;
    }
    s.end[count - 1] = src + src_length;

    if (d->unpack == NULL) {
        return decode_scalar(f, lsb_first, &s, dst, report);
    }
    if (count == 1 || (f->bytes_allocated == 1 && f->planar)) {
        return decode_direct(f, &s, src + src_length, dst, frame_length, d,
                             report);
    }
    return decode_chunked(f, lsb_first, &s, src + src_length, dst, d, report);
}

dicomrle_status dicomrle_decode(const dicomrle_frame *frame,
                                const uint8_t *src, size_t src_length,
                                uint8_t *dst, size_t dst_capacity,
                                int lsb_first,
                                dicomrle_decode_report *report)
{
    return dicomrle_decode_isa(frame, src, src_length, dst, dst_capacity,
                               lsb_first, report, DICOMRLE_ISA_AUTO);
}
