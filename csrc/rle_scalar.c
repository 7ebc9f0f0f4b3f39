/*
 * dicomrle: the scalar reference of both directions, the PackBits row
 * encoder and segment decoder of PS3.5 G.3, written for clarity rather
 * than speed. The instruction sets of rle_encode_fast.c and
 * rle_decode_fast.c give the same output byte for byte; tests and fuzzers
 * compare them with this file.
 */
#include "rle_kernels.h"

#define MAX_RUN DICOMRLE_MAX_RUN

/*
 * PS3.5 G.3.1 PackBits: a header byte n in 0..127 is followed by n + 1
 * literal bytes; n in -127..-1 (129..255) by one byte repeated 1 - n
 * times; -128 is never written. Each row is encoded on its own.
 *
 * The policy: every repeat of three or more bytes is a replicate run
 * (runs longer than 128 are split into 128-byte runs and the rest); a
 * single byte joins the open literal run; a two-byte repeat joins the open
 * literal when its current 128-byte packet has room for both bytes, and
 * is a replicate run otherwise (no literal open, or one byte of room or
 * none). A run of 128 q + 1 bytes (q >= 1) gives one byte to a literal:
 * its first byte to the open literal when that has room, else its last
 * byte starts the next literal.
 *
 * Why this is a minimum-size encoding of the row. Describe the state
 * after a prefix of the row by its cost c (bytes written so far) and the
 * room s (0..127) left in the open literal packet (0 when none is open).
 * The rest of the row costs at most 1 more from room 0 than from any
 * other room, since only the first header of a literal continuing the
 * open one can differ. So (c, s) is never worse than (c + 1, s') for any
 * s', nor than (c, s') with s' <= s. The policy picks at the end of each
 * run the state of least cost and, among those, most room, over every
 * way of covering the run: for a two-byte repeat, the literal costs
 * c + 2 with room s - 2 when s >= 2 (else c + 3) against c + 2 and room 0
 * for the replicate; for three to 128 bytes the replicate run costs c + 2
 * and anything else at least c + 3; for a longer run, moving d bytes of
 * it into literals only saves a 2-byte replicate run when d is at least
 * its length mod 128, so only a remainder of 1 pays (a remainder of 2
 * ties and stays replicated). Hence the encoding is as small as PackBits
 * with separate rows allows, and in particular no larger than one literal
 * run per 128 bytes: a row of n bytes encodes to at most
 * n + ceil(n / 128) bytes (dicomrle_encode_bound and dicomrle_row_bound rely on this).
 *
 * This is the scalar reference: it walks the row run by run. The fast
 * encoders (rle_encode_fast.c, one per instruction set) make the same
 * choices with wide compares.
 */
size_t dicomrle_row_scalar(const uint8_t *src, size_t length, uint8_t *dst)
{
    uint8_t *out = dst;
    size_t i = 0;
    size_t lit_start = 0;
    size_t lit_len = 0;

    while (i < length) {
        size_t run = 1;
        size_t room = lit_len % MAX_RUN ? MAX_RUN - lit_len % MAX_RUN : 0;
        int tail = 0;

        while (i + run < length && src[i + run] == src[i]) {
            run++;
        }
        if (run == 1 || (run == 2 && room >= 2)) {
            if (lit_len == 0) {
                lit_start = i;
            }
            lit_len += run;
            i += run;
            continue;
        }
        if (run > MAX_RUN && run % MAX_RUN == 1) {
            if (room) {
                lit_len++;
                i++;
            } else {
                tail = 1;
            }
            run--;
        }
        if (lit_len) {
            out = dicomrle_put_literal(out, src + lit_start, lit_len);
            lit_len = 0;
        }
        out = dicomrle_put_replicate(out, src[i], run);
        i += run;
        if (tail) {
            lit_start = i;
            lit_len = 1;
            i++;
        }
    }
    if (lit_len) {
        out = dicomrle_put_literal(out, src + lit_start, lit_len);
    }
    return (size_t)(out - dst);
}

/*
 * PS3.5 G.3.2: a header byte n in 0..127 is followed by n + 1 bytes
 * copied as they are; n in -127..-1 by one byte written 1 - n times; -128
 * is a no-op. A literal cut by `end` gives the bytes before it, a
 * replicate header as the last byte nothing.
 */
size_t dicomrle_unpack_scalar(const uint8_t **inp, const uint8_t *end,
                              uint8_t *out, size_t stride, size_t have,
                              size_t want, int *extra)
{
    const uint8_t *in = *inp;

    while (have < want && in < end) {
        unsigned h = *in++;
        size_t n;
        size_t j;

        if (h < 128) {
            size_t left = (size_t)(end - in);
            size_t take;
            n = h + 1;
            if (n > left) {
                n = left;
            }
            take = n;
            if (take > want - have) {
                take = want - have;
                *extra = 1;
            }
            for (j = 0; j < take; j++) {
                out[(have + j) * stride] = in[j];
            }
            in += n;
            have += take;
        } else if (h > 128) {
            uint8_t v;
            if (in == end) {
                break;
            }
            v = *in++;
            n = 257 - h;
            if (n > want - have) {
                n = want - have;
                *extra = 1;
            }
            for (j = 0; j < n; j++) {
                out[(have + j) * stride] = v;
            }
            have += n;
        }
    }
    *inp = in;
    return have;
}
