/*
 * dicomrle: the PackBits segment decoder of one instruction set (PS3.5
 * G.3.2), included once per instruction set by rle_decode_fast.c with
 * RLE_FN(name) naming its functions, RLE_TARGET its target attribute, and
 * RLE_FN(copy)(out, in, n) and RLE_FN(fill)(out, value, n) defined before:
 * both write out[0 .. n) and may go on to the end of the block of
 * RLE_BLOCK bytes (a divisor of 128) that holds out[n - 1]; copy reads
 * in[0 .. 128) at most. The contract is dicomrle_decoder.unpack's
 * (rle_impl.h).
 */
static RLE_TARGET size_t RLE_FN(unpack)(const uint8_t **inp,
                                        const uint8_t *end,
                                        const uint8_t *src_end, uint8_t *out,
                                        size_t have, size_t want)
{
    const uint8_t *in = *inp;

    while (have < want && in < end) {
        unsigned h = *in++;
        size_t n;

        if (h < 128) {
            /* A literal of h + 1 bytes: whole blocks while 128 bytes of
               src remain to read from, else exactly what the segment has. */
            n = h + 1;
            if (n <= (size_t)(end - in) &&
                (size_t)(src_end - in) >= DICOMRLE_MAX_RUN) {
                RLE_FN(copy)(out + have, in, n);
            } else {
                if (n > (size_t)(end - in)) {
                    n = (size_t)(end - in);
                }
                memcpy(out + have, in, n);
            }
            in += n;
            have += n;
        } else if (h > 128) {
            /* A replicate run of 257 - h bytes; 128 is a no-op. */
            if (in == end) {
                break;
            }
            n = 257 - h;
            RLE_FN(fill)(out + have, *in++, n);
            have += n;
        }
    }
    *inp = in;
    return have;
}
