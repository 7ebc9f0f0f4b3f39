/*
 * The DICOM element walker: see dcm_walk.h for the contract.
 *
 * PS3.5 7.1.2: an Explicit VR element is a 4-byte tag (group, element,
 * little-endian), a 2-byte VR, then a 2-byte length, or for the VRs of
 * Table 7.1-1 two reserved bytes and a 4-byte length. PS3.5 7.5: a
 * sequence value is items (FFFE,E000), each of a defined length or ended
 * by an Item Delimitation Item (FFFE,E00D); a sequence of undefined length
 * ends with a Sequence Delimitation Item (FFFE,E0DD). Both delimiters and
 * item headers are a tag and a 4-byte length, with no VR.
 *
 * Every read goes through a cursor (a buffer and the bytes in it); every
 * length is compared, by subtraction and never by an addition that could
 * wrap, with the end of the container that holds it.
 */
#include "dcm_walk.h"

#include <string.h>

#define UNDEFINED_LENGTH 0xFFFFFFFFu
#define TAG_ITEM 0xFFFEE000u
#define TAG_ITEM_END 0xFFFEE00Du
#define TAG_SEQUENCE_END 0xFFFEE0DDu
#define TAG_PIXEL_DATA 0x7FE00010u

/* The bytes the walk may read: buf[0 .. available). */
typedef struct cursor {
    const uint8_t *buf;
    size_t available;
} cursor;

/* 1 and the value when bytes pos .. pos + 1 (or + 3) are there, else 0. */
static int get_u16(const cursor *c, size_t pos, uint16_t *out)
{
    if (pos > c->available || c->available - pos < 2) {
        return 0;
    }
    *out = (uint16_t)(c->buf[pos] | c->buf[pos + 1] << 8);
    return 1;
}

static int get_u32(const cursor *c, size_t pos, uint32_t *out)
{
    uint16_t low, high;
    if (!get_u16(c, pos, &low) || !get_u16(c, pos + 2, &high)) {
        return 0;
    }
    *out = (uint32_t)low | (uint32_t)high << 16;
    return 1;
}

static int get_tag(const cursor *c, size_t pos, uint32_t *tag)
{
    uint16_t group, element;
    if (!get_u16(c, pos, &group) || !get_u16(c, pos + 2, &element)) {
        return 0;
    }
    *tag = (uint32_t)group << 16 | element;
    return 1;
}

/* PS3.5 Table 6.2-1: 1 for a VR with a 2-byte length, 2 for one with
   reserved bytes and a 4-byte length (PS3.5 Table 7.1-1), 0 if unknown. */
static int vr_kind(uint8_t a, uint8_t b)
{
    static const char short_vrs[] =
        "AEASATCSDADSDTFLFDISLOLTPNSHSLSSSTTMUIULUS";
    static const char long_vrs[] = "OBODOFOLOVOWSQSVUCUNURUTUV";
    size_t i;
    for (i = 0; i + 1 < sizeof short_vrs; i += 2) {
        if (short_vrs[i] == (char)a && short_vrs[i + 1] == (char)b) {
            return 1;
        }
    }
    for (i = 0; i + 1 < sizeof long_vrs; i += 2) {
        if (long_vrs[i] == (char)a && long_vrs[i + 1] == (char)b) {
            return 2;
        }
    }
    return 0;
}

static int is_vr(const uint8_t *vr, const char *name)
{
    return vr[0] == (uint8_t)name[0] && vr[1] == (uint8_t)name[1];
}

/* The index in dcmwalk_info.values of a top-level tag, or -1. */
static int top_level_index(uint32_t tag)
{
    switch (tag) {
    case 0x00280002u: return DCMWALK_SAMPLES_PER_PIXEL;
    case 0x00280004u: return DCMWALK_PHOTOMETRIC;
    case 0x00280006u: return DCMWALK_PLANAR_CONFIGURATION;
    case 0x00280008u: return DCMWALK_NUMBER_OF_FRAMES;
    case 0x00280010u: return DCMWALK_ROWS;
    case 0x00280011u: return DCMWALK_COLUMNS;
    case 0x00280100u: return DCMWALK_BITS_ALLOCATED;
    case 0x00280101u: return DCMWALK_BITS_STORED;
    case 0x00280103u: return DCMWALK_PIXEL_REPRESENTATION;
    case 0x7FE00000u: return DCMWALK_PIXEL_GROUP_LENGTH;
    case 0x7FE00001u: return DCMWALK_EXTENDED_OFFSET_TABLE;
    case 0x7FE00002u: return DCMWALK_EXTENDED_LENGTHS;
    case 0x7FE00008u: return DCMWALK_FLOAT_PIXEL_DATA;
    case 0x7FE00009u: return DCMWALK_DOUBLE_PIXEL_DATA;
    case TAG_PIXEL_DATA: return DCMWALK_PIXEL_DATA;
    default: return -1;
    }
}

static int meta_index(uint32_t tag)
{
    switch (tag) {
    case 0x00020001u: return DCMWALK_META_VERSION;
    case 0x00020002u: return DCMWALK_MEDIA_SOP_CLASS;
    case 0x00020003u: return DCMWALK_MEDIA_SOP_INSTANCE;
    case 0x00020010u: return DCMWALK_TRANSFER_SYNTAX;
    case 0x00020012u: return DCMWALK_IMPLEMENTATION_CLASS;
    default: return -1;
    }
}

static void record(dcmwalk_info *info, int index, size_t header, size_t offset,
                   size_t length, const uint8_t *vr)
{
    dcmwalk_value *v;
    if (info == NULL || index < 0) {
        return;
    }
    v = &info->values[index];
    v->header = header;
    v->offset = offset;
    v->length = length;
    v->vr[0] = (char)vr[0];
    v->vr[1] = (char)vr[1];
    v->present = 1;
}

enum { DATASET, SEQUENCE, ITEM };

typedef struct level {
    size_t end;     /* the container's end if defined, else its parent's */
    uint32_t last;  /* the last tag seen in this dataset or item */
    int kind;
    int defined;
} level;

/* The outcome of walk(): where it stopped, and what it needs. */
typedef struct stop {
    size_t where;
    size_t need;
    size_t after_pixel;
} stop;

/*
 * The value length of the explicit VR element at pos, of VR kind `kind`
 * (1: a 16-bit length within its 8 bytes already read, 2: a 32-bit one
 * after them): sets *header (8 or 12) and *length32. Returns DCMWALK_OK,
 * `truncated` when the 12 bytes do not fit in room, or DCMWALK_NEED_MORE
 * with out->need set.
 */
static dcmwalk_status explicit_length(const cursor *c, size_t pos,
                                      size_t room, int kind,
                                      dcmwalk_status truncated,
                                      size_t *header, uint32_t *length32,
                                      stop *out)
{
    if (kind == 1) {
        uint16_t length16 = 0;
        (void)get_u16(c, pos + 6, &length16); /* within the 8 read */
        *header = 8;
        *length32 = length16;
        return DCMWALK_OK;
    }
    if (room < 12) {
        return truncated;
    }
    if (!get_u32(c, pos + 8, length32)) {
        out->need = pos + 12;
        return DCMWALK_NEED_MORE;
    }
    *header = 12;
    return DCMWALK_OK;
}

/*
 * Walk elements from pos to end (a dataset: top level is depth 0). With
 * `to_pixel` it stops at the top-level Pixel Data and reaching `end`
 * without one is DCMWALK_NO_PIXEL_DATA; without, reaching `end` is OK.
 * `last` is the tag the first element must be above.
 */
static dcmwalk_status walk(const cursor *c, size_t pos, size_t end,
                           uint32_t last, int to_pixel, dcmwalk_info *info,
                           stop *out)
{
    level stack[DCMWALK_MAX_DEPTH + 1];
    int depth = 0;
    stack[0].end = end;
    stack[0].last = last;
    stack[0].kind = DATASET;
    stack[0].defined = 1;

    for (;;) {
        level *top = &stack[depth];
        uint32_t tag, length32;
        uint8_t vr[2];
        size_t room, header, value, length;
        dcmwalk_status status;
        int kind;

        out->where = pos;
        if (top->defined && pos == top->end) {
            if (depth == 0) {
                return to_pixel ? DCMWALK_NO_PIXEL_DATA : DCMWALK_OK;
            }
            depth--;
            continue;
        }
        room = top->end - pos; /* pos <= end: every step checks it */
        if (room < 8) {
            return DCMWALK_TRUNCATED;
        }
        if (!get_tag(c, pos, &tag) || !get_u32(c, pos + 4, &length32)) {
            out->need = pos + 8;
            return DCMWALK_NEED_MORE;
        }

        if (top->kind == SEQUENCE) {
            if (tag == TAG_SEQUENCE_END && !top->defined) {
                if (length32 != 0) {
                    return DCMWALK_ITEM;
                }
                pos += 8;
                depth--;
                continue;
            }
            if (tag != TAG_ITEM) {
                return DCMWALK_ITEM;
            }
            if (depth == DCMWALK_MAX_DEPTH) {
                return DCMWALK_DEPTH;
            }
            stack[depth + 1].kind = ITEM;
            stack[depth + 1].last = 0;
            if (length32 == UNDEFINED_LENGTH) {
                stack[depth + 1].end = top->end;
                stack[depth + 1].defined = 0;
            } else {
                if ((size_t)length32 > room - 8) {
                    return DCMWALK_TRUNCATED;
                }
                if (length32 & 1u) {
                    return DCMWALK_ODD_LENGTH;
                }
                stack[depth + 1].end = pos + 8 + length32;
                stack[depth + 1].defined = 1;
            }
            depth++;
            pos += 8;
            continue;
        }

        /* A dataset: the top level or an item. */
        if (tag == TAG_ITEM_END && top->kind == ITEM && !top->defined) {
            if (length32 != 0) {
                return DCMWALK_ITEM;
            }
            pos += 8;
            depth--;
            continue;
        }
        if (tag >> 16 == 0xFFFEu) {
            return DCMWALK_ITEM;
        }
        if (tag <= top->last || tag >> 16 == 0x0002u) {
            return DCMWALK_ORDER;
        }
        top->last = tag;
        vr[0] = c->buf[pos + 4];
        vr[1] = c->buf[pos + 5];
        kind = vr_kind(vr[0], vr[1]);
        if (kind == 0) {
            return DCMWALK_VR;
        }
        status = explicit_length(c, pos, room, kind, DCMWALK_TRUNCATED,
                                 &header, &length32, out);
        if (status != DCMWALK_OK) {
            return status;
        }
        value = pos + header;
        if (length32 == UNDEFINED_LENGTH) {
            if (depth == 0 && tag == TAG_PIXEL_DATA) {
                record(info, DCMWALK_PIXEL_DATA, pos, value, 0, vr);
                return DCMWALK_ENCAPSULATED;
            }
            if (!is_vr(vr, "SQ")) {
                return DCMWALK_UNDEFINED;
            }
            if (depth == DCMWALK_MAX_DEPTH) {
                return DCMWALK_DEPTH;
            }
            stack[depth + 1].kind = SEQUENCE;
            stack[depth + 1].last = 0;
            stack[depth + 1].end = top->end;
            stack[depth + 1].defined = 0;
            depth++;
            pos = value;
            continue;
        }
        length = length32;
        if (length > room - header) {
            return DCMWALK_TRUNCATED;
        }
        if (length & 1u) {
            return DCMWALK_ODD_LENGTH;
        }
        if (depth == 0) {
            record(info, top_level_index(tag), pos, value, length, vr);
            if (to_pixel && tag == TAG_PIXEL_DATA) {
                if (!is_vr(vr, "OB") && !is_vr(vr, "OW")) {
                    return DCMWALK_PIXEL_VR;
                }
                out->after_pixel = value + length;
                return DCMWALK_OK;
            }
        }
        if (is_vr(vr, "SQ")) {
            if (depth == DCMWALK_MAX_DEPTH) {
                return DCMWALK_DEPTH;
            }
            stack[depth + 1].kind = SEQUENCE;
            stack[depth + 1].last = 0;
            stack[depth + 1].end = value + length;
            stack[depth + 1].defined = 1;
            depth++;
            pos = value;
            continue;
        }
        pos = value + length;
    }
}

/* "1.2.840.10008.1.2.1", padded to even length with NUL or a space. */
/* The transfer syntax value v is `uid`, padded with one NUL or space. */
static int is_syntax(const cursor *c, const dcmwalk_value *v, const char *uid,
                     size_t n)
{
    if (v->length != n + 1 || v->offset > c->available ||
        c->available - v->offset < v->length) {
        return 0;
    }
    return memcmp(c->buf + v->offset, uid, n) == 0 &&
           (c->buf[v->offset + n] == 0 || c->buf[v->offset + n] == ' ');
}

/* Explicit VR Little Endian; with `rle`, RLE Lossless too (PS3.5 A.4.2:
   its dataset is encoded as Explicit VR Little Endian). */
static int is_explicit_little(const cursor *c, const dcmwalk_value *v, int rle)
{
    static const char evrle[] = "1.2.840.10008.1.2.1";
    static const char rle_lossless[] = "1.2.840.10008.1.2.5";
    return is_syntax(c, v, evrle, sizeof evrle - 1) ||
           (rle && is_syntax(c, v, rle_lossless, sizeof rle_lossless - 1));
}

/* Walk group 0002 from DCMWALK_META_START; set info->meta_end. */
static dcmwalk_status walk_meta(const cursor *c, size_t file_size, int rle,
                                dcmwalk_info *info, stop *out)
{
    size_t pos = DCMWALK_META_START;
    uint32_t last = 0;
    for (;;) {
        uint32_t tag, length32;
        uint8_t vr[2];
        size_t header, room = file_size - pos;
        dcmwalk_status status;
        int kind;

        out->where = pos;
        if (room < 4) {
            break; /* no dataset: walk() reports the missing Pixel Data */
        }
        if (!get_tag(c, pos, &tag)) {
            out->need = pos + 4;
            return DCMWALK_NEED_MORE;
        }
        if (tag >> 16 != 0x0002u) {
            break;
        }
        if (tag <= last || room < 8) {
            return DCMWALK_META;
        }
        last = tag;
        if (c->available - pos < 8) {
            out->need = pos + 8;
            return DCMWALK_NEED_MORE;
        }
        vr[0] = c->buf[pos + 4];
        vr[1] = c->buf[pos + 5];
        kind = vr_kind(vr[0], vr[1]);
        if (kind == 0 || is_vr(vr, "SQ")) {
            return DCMWALK_META;
        }
        status = explicit_length(c, pos, room, kind, DCMWALK_META, &header,
                                 &length32, out);
        if (status != DCMWALK_OK) {
            return status;
        }
        if (length32 == UNDEFINED_LENGTH || (size_t)length32 > room - header ||
            (length32 & 1u)) {
            return DCMWALK_META;
        }
        record(info, meta_index(tag), pos, pos + header, length32, vr);
        pos += header + length32;
    }
    info->meta_end = pos;
    if (!info->values[DCMWALK_TRANSFER_SYNTAX].present) {
        return DCMWALK_META;
    }
    {
        const dcmwalk_value *ts = &info->values[DCMWALK_TRANSFER_SYNTAX];
        if (ts->offset > c->available ||
            c->available - ts->offset < ts->length) {
            out->need = ts->offset + ts->length;
            return DCMWALK_NEED_MORE;
        }
        if (!is_explicit_little(c, ts, rle)) {
            out->where = ts->header;
            return DCMWALK_SYNTAX;
        }
    }
    return DCMWALK_OK;
}

static dcmwalk_status walk_file(const uint8_t *buf, size_t available,
                                size_t file_size, int rle, dcmwalk_info *info)
{
    cursor c;
    stop out = {0, 0, 0};
    dcmwalk_status status;

    if (info == NULL || (buf == NULL && available != 0)) {
        return DCMWALK_NULL;
    }
    memset(info, 0, sizeof *info);
    if (available > file_size) {
        available = file_size;
    }
    c.buf = buf;
    c.available = available;
    if (file_size < DCMWALK_META_START) {
        return DCMWALK_NOT_PART10;
    }
    if (available < DCMWALK_META_START) {
        info->need = DCMWALK_META_START;
        return DCMWALK_NEED_MORE;
    }
    if (memcmp(buf + 128, "DICM", 4) != 0) {
        return DCMWALK_NOT_PART10;
    }
    status = walk_meta(&c, file_size, rle, info, &out);
    if (status == DCMWALK_OK) {
        status = walk(&c, info->meta_end, file_size, 0, 1, info, &out);
    }
    if (status == DCMWALK_NEED_MORE) {
        info->need = out.need;
    } else if (status == DCMWALK_OK) {
        info->after_pixel = out.after_pixel;
    } else {
        info->error_offset = out.where;
    }
    return status;
}

dcmwalk_status dcmwalk_file(const uint8_t *buf, size_t available,
                            size_t file_size, dcmwalk_info *info)
{
    return walk_file(buf, available, file_size, 0, info);
}

dcmwalk_status dcmwalk_file_rle(const uint8_t *buf, size_t available,
                                size_t file_size, dcmwalk_info *info)
{
    return walk_file(buf, available, file_size, 1, info);
}

dcmwalk_status dcmwalk_tail(const uint8_t *buf, size_t length,
                            size_t *error_offset)
{
    cursor c;
    stop out = {0, 0, 0};
    dcmwalk_status status;

    if (buf == NULL && length != 0) {
        return DCMWALK_NULL;
    }
    c.buf = buf;
    c.available = length;
    status = walk(&c, 0, length, TAG_PIXEL_DATA, 0, NULL, &out);
    if (status == DCMWALK_NEED_MORE) {
        status = DCMWALK_TRUNCATED; /* cannot happen: all bytes are there */
    }
    if (error_offset != NULL) {
        *error_offset = status == DCMWALK_OK ? 0 : out.where;
    }
    return status;
}

const char *dcmwalk_status_message(dcmwalk_status status)
{
    switch (status) {
    case DCMWALK_OK: return "ok";
    case DCMWALK_NEED_MORE: return "more bytes are needed";
    case DCMWALK_NOT_PART10: return "no DICM prefix after a 128-byte preamble";
    case DCMWALK_META: return "malformed File Meta Information";
    case DCMWALK_SYNTAX: return "the transfer syntax is not Explicit VR Little Endian";
    case DCMWALK_TRUNCATED: return "an element runs past the end of what holds it";
    case DCMWALK_ORDER: return "tags out of order";
    case DCMWALK_VR: return "an unknown VR";
    case DCMWALK_ODD_LENGTH: return "a value of odd length";
    case DCMWALK_UNDEFINED: return "undefined length on an element that is not a sequence";
    case DCMWALK_ITEM: return "a malformed item or delimiter";
    case DCMWALK_DEPTH: return "sequences nested too deep";
    case DCMWALK_NO_PIXEL_DATA: return "no top-level Pixel Data";
    case DCMWALK_ENCAPSULATED: return "the Pixel Data is encapsulated";
    case DCMWALK_PIXEL_VR: return "the Pixel Data is neither OB nor OW";
    case DCMWALK_NULL: return "a required pointer is NULL";
    }
    return "unknown status";
}
