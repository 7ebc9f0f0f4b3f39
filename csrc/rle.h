/*
 * dicomrle: DICOM RLE Lossless frame encoder and decoder (PS3.5 Annex G).
 *
 * Plain C99, no Python. The caller owns every buffer. No function keeps
 * state between calls and there are no globals, so every function is
 * reentrant and may run on many threads at once.
 *
 * This header is the whole contract. The entry points that choose an
 * instruction set, for tests, benchmarks and fuzzers, are in
 * rle_internal.h.
 */
#ifndef DICOMRLE_RLE_H
#define DICOMRLE_RLE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* PS3.5 G.5: the header holds at most 15 segment offsets. */
#define DICOMRLE_MAX_SEGMENTS 15
#define DICOMRLE_HEADER_SIZE 64
/* Offsets and item lengths are 32-bit and item lengths even (PS3.5 A.4). */
#define DICOMRLE_MAX_ENCODED 0xFFFFFFFEu

typedef enum dicomrle_status {
    DICOMRLE_OK = 0,
    DICOMRLE_ERR_SIZE,        /* rows, columns or samples_per_pixel is zero */
    DICOMRLE_ERR_BYTES,       /* bytes_allocated not 1, 2, 4 or 8, or
                                 bytes_per_sample not 1..bytes_allocated */
    DICOMRLE_ERR_SEGMENTS,    /* samples_per_pixel * bytes_allocated > 15 */
    DICOMRLE_ERR_OVERFLOW,    /* the frame length does not fit in size_t */
    DICOMRLE_ERR_TOO_LARGE,   /* the encode bound exceeds DICOMRLE_MAX_ENCODED */
    DICOMRLE_ERR_SRC_LENGTH,  /* src shorter than the frame */
    DICOMRLE_ERR_DST_CAPACITY, /* dst_capacity below dicomrle_encode_bound()
                                 (encoder) or dicomrle_frame_length()
                                 (decoder) */
    DICOMRLE_ERR_SCRATCH,     /* scratch_capacity below dicomrle_scratch_size() */
    DICOMRLE_ERR_NULL,        /* a required pointer is NULL */
    DICOMRLE_ERR_ISA,         /* the *_isa test entry points (rle_internal.h)
                                 only: that instruction set is not built in
                                 or the CPU lacks it */
    /* Decoder only (dicomrle_decode): the encoded frame is malformed. */
    DICOMRLE_ERR_HEADER,      /* src is shorter than the 64-byte header */
    DICOMRLE_ERR_SEGMENT_COUNT, /* the header's segment count is not
                                 samples_per_pixel * bytes_allocated */
    DICOMRLE_ERR_OFFSET,      /* a segment offset is below 64, past the end
                                 of src, or not above the previous one */
    DICOMRLE_ERR_SHORT        /* a segment decodes to fewer bytes than its
                                 byte plane needs */
} dicomrle_status;

/* One frame of source pixel data. */
typedef struct dicomrle_frame {
    size_t rows;
    size_t columns;
    size_t samples_per_pixel;
    /* Bytes per sample written, Bits Allocated / 8: 1, 2, 4 or 8. */
    size_t bytes_allocated;
    /* Bytes per sample in src, 1..bytes_allocated. When smaller than
       bytes_allocated the missing most significant bytes are written as
       0x00, or as copies of the sign bit when sign_extend is set. */
    size_t bytes_per_sample;
    int big_endian;    /* src byte order: 0 little-endian, 1 big-endian */
    int planar;        /* 0: R1G1B1R2G2B2..., 1: R1R2...G1G2...B1B2... */
    int sign_extend;
} dicomrle_frame;

/* Number of source bytes a frame needs; 0 if the frame is invalid. */
size_t dicomrle_frame_length(const dicomrle_frame *frame);

/* Worst-case encoded size of a frame, header included; 0 if invalid. */
size_t dicomrle_encode_bound(const dicomrle_frame *frame);

/* Scratch bytes dicomrle_encode() needs; 0 if invalid. */
size_t dicomrle_scratch_size(const dicomrle_frame *frame);

/* Check a frame description; DICOMRLE_OK when it can be encoded. */
dicomrle_status dicomrle_check(const dicomrle_frame *frame);

/*
 * Encode one frame as an RLE Lossless frame: the 64-byte header followed
 * by the segments. Reads src[0 .. dicomrle_frame_length()), writes
 * dst[0 .. *dst_length) with *dst_length <= dst_capacity, and uses
 * scratch[0 .. dicomrle_scratch_size()). dst_capacity must be at least
 * dicomrle_encode_bound(); src, dst and scratch must not overlap.
 * The bytes dst[*dst_length .. *dst_length + 64), within dst_capacity,
 * may be overwritten too (literals are copied in blocks of up to 64 bytes)
 * and hold nothing meaningful; nothing from *dst_length + 64 on is written.
 * On error nothing is read and *dst_length is 0.
 */
dicomrle_status dicomrle_encode(const dicomrle_frame *frame,
                                const uint8_t *src, size_t src_length,
                                uint8_t *dst, size_t dst_capacity,
                                uint8_t *scratch, size_t scratch_capacity,
                                size_t *dst_length);

/* ---------------------------------------------------------- decoder */

/*
 * What dicomrle_decode() found, filled on success and on every error
 * (fields that do not apply are -1 or 0).
 */
typedef struct dicomrle_decode_report {
    int segment;        /* 0-based segment an error is about, -1 if none */
    size_t expected;    /* bytes of a byte plane: rows * columns */
    size_t decoded;     /* DICOMRLE_ERR_SHORT: the bytes that segment gave
                           before it ended */
    uint32_t segments;  /* the segment count of the header (0 before the
                           header is read) */
    uint32_t offset;    /* DICOMRLE_ERR_OFFSET: the offending offset */
    int extra;          /* 1 if a segment decoded longer than its plane
                           (the surplus is ignored); on DICOMRLE_ERR_SHORT
                           it covers the segments before report.segment */
} dicomrle_decode_report;

/*
 * Decode one RLE Lossless frame (PS3.5 G.5 header, then one PackBits
 * segment per byte plane, PS3.5 G.3.2) into the samples `frame`
 * describes.
 *
 * frame describes the OUTPUT: rows, columns, samples_per_pixel,
 * bytes_allocated (1, 2, 4 or 8), bytes_per_sample equal to
 * bytes_allocated, sign_extend 0 (else DICOMRLE_ERR_BYTES); big_endian is
 * the byte order of the output samples and planar their planar
 * configuration (0: R1G1B1R2..., 1: R1R2...G1G2...B1B2...). The frame must
 * pass dicomrle_check(), so its size limits are the encoder's.
 *
 * The segments (PS3.5 G.2) hold, sample after sample, the bytes of each
 * sample most significant first: segment k is byte
 * (bytes_allocated - 1 - k % bytes_allocated) of sample
 * k / bytes_allocated, counted from the least significant byte. A
 * non-zero lsb_first reverses the order within each sample (files of
 * some non-conforming writers).
 *
 * The header must hold exactly samples_per_pixel * bytes_allocated
 * segments, each offset at least 64, at most src_length and above the
 * one before. Segment k ends at offset k + 1 (the last at src_length)
 * and nothing after that end is read for it. Within a segment: a header
 * byte n in 0..127 copies the next n + 1 bytes (as many as the segment
 * still has), n in 129..255 repeats the next byte 257 - n times, 128 does
 * nothing. Accepted: a segment that decodes longer than its plane (the
 * surplus is ignored and report->extra set), runs crossing row ends, odd
 * segment lengths, bytes after the last segment, non-zero unused offsets.
 *
 * Reads src[0 .. src_length) only (src may be NULL when src_length is 0)
 * and writes dst[0 .. dicomrle_frame_length(frame)) only; dst_capacity
 * must be at least that; src and dst must not overlap. On success every one of
 * those bytes is written; on error the content of dst is unspecified.
 * report may be NULL.
 * No heap allocation; about 16 KiB of stack.
 *
 * Statuses: DICOMRLE_ERR_NULL (frame, dst, or src with src_length > 0),
 * the statuses of dicomrle_check() and DICOMRLE_ERR_BYTES,
 * DICOMRLE_ERR_DST_CAPACITY, DICOMRLE_ERR_HEADER, DICOMRLE_ERR_SEGMENT_COUNT
 * (report->segments), DICOMRLE_ERR_OFFSET (report->segment,
 * report->offset), DICOMRLE_ERR_SHORT (report->segment, ->expected,
 * ->decoded). The malformations are checked in that order, the offsets
 * from the first segment on and the segments decoded from the first on,
 * so every instruction set reports the same error.
 */
dicomrle_status dicomrle_decode(const dicomrle_frame *frame,
                                const uint8_t *src, size_t src_length,
                                uint8_t *dst, size_t dst_capacity,
                                int lsb_first,
                                dicomrle_decode_report *report);

/* A static English message for a status. */
const char *dicomrle_status_message(dicomrle_status status);

#ifdef __cplusplus
}
#endif

#endif /* DICOMRLE_RLE_H */
