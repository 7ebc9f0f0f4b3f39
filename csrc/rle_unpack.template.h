/*
 * dicomrle: the PackBits segment decoder of one instruction set (PS3.5
 * G.3.2), included once per instruction set by rle_decode_fast.c with
 * RLE_FN(name) naming its functions, RLE_TARGET its target attribute, and
 * RLE_FN(op128)(out, in) defined before: it writes out[0 .. 128) with the
 * operation whose header is in[0] as if it gave 128 bytes, the literal
 * in[1 .. 129) or the byte in[1] repeated (for a no-op, anything), and
 * reads in[0 .. 129) only. The contract is dicomrle_kernels.unpack's
 * (rle_kernels.h).
 */
RLE_TARGET size_t RLE_FN(dicomrle_unpack)(const uint8_t **inp,
                                          const uint8_t *end,
                                          const uint8_t *src_end,
                                          uint8_t *out, size_t have,
                                          size_t want)
{
    const uint8_t *in = *inp;

    (void)src_end;
    /* While any operation lies wholly inside the segment: each writes a
       whole 128-byte block (inside the caller's slack), whatever its
       length, so only literal or run is a branch. */
    while (have < want && end - in > DICOMRLE_MAX_RUN) {
        unsigned h = in[0];
        RLE_FN(op128)(out + have, in);
        if (h < 128) {
            have += h + 1;
            in += h + 2;
        } else {
            have += h == 128 ? 0 : 257 - h;
            in += h == 128 ? 1 : 2;
        }
    }
    /* The last operations, exactly: a literal cut by the end gives the
       bytes before it, a replicate header as the last byte nothing. */
    while (have < want && in < end) {
        unsigned h = *in++;
        size_t n;

        if (h < 128) {
            n = h + 1;
            if (n > (size_t)(end - in)) {
                n = (size_t)(end - in);
            }
            memcpy(out + have, in, n);
            in += n;
            have += n;
        } else if (h > 128) {
            if (in == end) {
                break;
            }
            n = 257 - h;
            memset(out + have, *in++, n);
            have += n;
        }
    }
    *inp = in;
    return have;
}
