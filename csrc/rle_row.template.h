/*
 * dicomrle: the fast row encoder, written once and compiled once per
 * instruction set by rle_encode_fast.c, which defines before each
 * #include:
 *
 *   RLE_FN(name)   the name with the instruction set's suffix
 *   RLE_TARGET     a function attribute (target("avx2")) or nothing
 *   RLE_FN(eq64), RLE_FN(scan_short), RLE_FN(run_length), RLE_FN(copy64)
 *                  the wide primitives
 *
 * and the shared byte-level helpers set_masks(), gap_general(),
 * run_general(), put_literal(). Not a header: no include guard, by
 * design.
 *
 * The row is walked 64 bytes (one word of masks) at a time. Inside a word
 * every repeat of three or more bytes ("triple", the only place where the
 * policy of rle_scalar.c ends a literal, bar the rare cases below) is found from
 * the masks, and the common case costs a few instructions and no byte
 * compare: the literal before it (at most 64 bytes, so no 128-byte packet
 * limit and no two-byte repeat inside it can be split out, see rle_scalar.c) is
 * copied as one 64-byte block, and the run (at most 128 bytes) written as
 * one replicate run. Two-byte repeats met while no literal is open are
 * read from the `eq` mask. A literal of up to 128 bytes is still one
 * packet that nothing splits, so a longer one, one near the end of the
 * buffers, or a run longer than 128 bytes costs only a slower copy; what
 * is left (a literal longer than 128 bytes, a run of 128 q + 1 bytes)
 * goes through run_general(), which makes the choices of the scalar
 * reference step by step.
 *
 * Invariants: src[0, lit) is encoded; the open literal is src[lit, i)
 * (none when lit == i); i is at a run boundary (src[i - 1] != src[i]) or
 * inside an open literal at a word boundary; no repeat of three starts in
 * [lit, i).
 */

/*
 * The masks of word w: one wide compare while the row goes on past the
 * word; for the last word of a long row, the compare of the 65 bytes that
 * end the row, shifted into place (by 64 when only p[n - 1] is left); a
 * row shorter than 65 bytes has its own scan.
 */
static RLE_TARGET void RLE_FN(scan_word)(scan *s, size_t w)
{
    size_t base = 64 * w;
    size_t n = s->n;

    if (base + 65 <= n) {
        set_masks(s, base, RLE_FN(eq64)(s->p + base));
        return;
    }
    if (n >= 65) {
        size_t shift = base + 65 - n;
        set_masks(s, base,
                  shift < 64 ? RLE_FN(eq64)(s->p + n - 65) >> shift : 0);
        return;
    }
    RLE_FN(scan_short)(s, base);
}

RLE_TARGET size_t RLE_FN(dicomrle_row)(const uint8_t *src, size_t n,
                                       uint8_t *dst, const uint8_t *dst_end)
{
    const uint8_t *src_end = src + n;
    uint8_t *out = dst;
    size_t i = 0;
    size_t lit = 0;
    scan s;

    s.p = src;
    s.n = n;
    while (i < n) {
        size_t base = i & ~(size_t)63;
        size_t wend = n - base > 64 ? base + 64 : n;
        uint64_t eq;
        uint64_t triple;

        RLE_FN(scan_word)(&s, base / 64);
        eq = s.eq;
        triple = s.triple;
        while (i < wend) {
            uint64_t m = triple >> (i - base);
            uint64_t ones;
            size_t t;
            size_t run;
            size_t len;

            if (m == 0) {
                /* No repeat of three in the rest of the word: the literal
                   stays open into the next word. If none is open, the
                   two-byte repeats that start here are replicate runs. */
                if (lit == i) {
                    while (i < wend && ((eq >> (i - base)) & 1)) {
                        out[0] = (uint8_t)(257 - 2);
                        out[1] = src[i];
                        out += 2;
                        i += 2;
                    }
                    lit = i;
                }
                if (i < wend) {
                    i = wend;
                }
                break;
            }
            t = i + ctz64(m);
            {
                /* The two-byte repeats from i on while no literal is open,
                   without a branch on whether there are any: the even
                   bits of x set from bit 0 on, up to t. The first pair is
                   written even when there is none, into the two bytes
                   that the run at t or its literal writes next. */
                uint64_t x = lit == i ? eq >> (i - base) : 0;
                uint64_t z = ~(x | 0xAAAAAAAAAAAAAAAAu);
                size_t pairs = z ? ctz64(z) : 64;
                size_t limit = (t - i + 1) & ~(size_t)1;
                size_t k;

                pairs = pairs < limit ? pairs : limit;
                out[0] = (uint8_t)(257 - 2);
                out[1] = src[i];
                for (k = 2; k < pairs; k += 2) {
                    out[k] = (uint8_t)(257 - 2);
                    out[k + 1] = src[i + k];
                }
                out += pairs;
                i += pairs;
                lit += pairs;
            }
            ones = ~eq >> (t - base);
            run = ones ? ctz64(ones) + 1 : RLE_FN(run_length)(src, t, n);
            len = t - lit;
            if (len <= 64 && run <= MAX_RUN &&
                (size_t)(src_end - (src + lit)) >= 64 &&
                (size_t)(dst_end - out) >= 67) {
                /* The literal (maybe empty: its header is then written
                   over) and the run, without a branch on the length. */
                out[0] = (uint8_t)(len - 1);
                RLE_FN(copy64)(out + 1, src + lit);
                out += len + (len != 0);
                out[0] = (uint8_t)(257 - run);
                out[1] = src[t];
                out += 2;
                i = lit = t + run;
                continue;
            }
            if (len <= MAX_RUN && (run <= MAX_RUN || run % MAX_RUN != 1)) {
                /* Still one literal packet (a two-byte repeat that it
                   does not take would start 127 bytes or more into it:
                   see gap_general()), longer than 64 bytes or too close
                   to the end of the row or of dst for a 64-byte block; or
                   a run longer than 128 bytes that gives none of its
                   bytes to a literal. */
                out[0] = (uint8_t)(len - 1);
                if (len > 64 && (size_t)(src_end - (src + lit)) >= 128 &&
                    (size_t)(dst_end - out) >= 129) {
                    RLE_FN(copy64)(out + 1, src + lit);
                    RLE_FN(copy64)(out + 65, src + lit + 64);
                } else {
                    memcpy(out + 1, src + lit, len);
                }
                out = dicomrle_put_replicate(out + len + (len != 0), src[t],
                                             run);
                i = lit = t + run;
                continue;
            }
            {
                size_t next;
                size_t open;
                out = run_general(src, lit, t, run, &next, &open, out,
                                  src_end, dst_end);
                i = next;
                lit = open;
            }
        }
    }
    if (lit < n) {
        lit = gap_general(src, lit, n, &out, src_end, dst_end);
        if (lit < n) {
            out = put_literal(out, src + lit, n - lit, src_end, dst_end);
        }
    }
    return (size_t)(out - dst);
}
