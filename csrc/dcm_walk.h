/*
 * dicomrle: a walker of the data element headers of a DICOM file
 * (PS3.10 7.1, PS3.5 7.1 and 7.5), Explicit VR Little Endian only.
 *
 * It finds, from the file's bytes alone, what a writer needs to re-encode
 * the Pixel Data and copy every other byte as it is: the end of the File
 * Meta Information, the Transfer Syntax UID, the top-level Image Pixel
 * elements, the top-level Pixel Data and the offset where the elements
 * after it start. Values are not interpreted: it reports byte offsets,
 * lengths and VRs, and the caller reads what it needs.
 *
 * The bytes are untrusted. Every length is a claim checked against the
 * bytes that are there, sequences and items nest to at most
 * DCMWALK_MAX_DEPTH levels (an array on the stack, no recursion), nothing
 * is allocated, and nothing is written but *info. Plain C99, no globals:
 * reentrant.
 *
 * What it accepts is a strict subset of what DICOM allows, so that a
 * caller can copy it byte for byte: tags ascending in every dataset, even
 * lengths, known VRs, undefined lengths only on sequences and items, no
 * group 0002 element outside the File Meta Information. Anything else is
 * refused with a status saying what and where (info->error_offset); the
 * caller then takes a general route.
 */
#ifndef DICOMRLE_DCM_WALK_H
#define DICOMRLE_DCM_WALK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Sequences and items open at once: a sequence and its item count two. */
#define DCMWALK_MAX_DEPTH 64
/* 128-byte preamble, then "DICM" (PS3.10 7.1). */
#define DCMWALK_META_START 132

typedef enum dcmwalk_status {
    DCMWALK_OK = 0,
    DCMWALK_NEED_MORE,      /* the walk needs bytes past `available`, which
                               the file has: call again with at least
                               info->need bytes */
    DCMWALK_NOT_PART10,     /* no "DICM" after a 128-byte preamble */
    DCMWALK_META,           /* the File Meta Information is malformed or
                               lacks the Transfer Syntax UID */
    DCMWALK_SYNTAX,         /* the transfer syntax is not Explicit VR
                               Little Endian (1.2.840.10008.1.2.1) */
    DCMWALK_TRUNCATED,      /* a header or a value runs past the end of the
                               file or of the item or sequence holding it */
    DCMWALK_ORDER,          /* tags not ascending, or a group 0002 element
                               in the dataset */
    DCMWALK_VR,             /* a VR that PS3.5 Table 6.2-1 does not list */
    DCMWALK_ODD_LENGTH,     /* a value of odd length */
    DCMWALK_UNDEFINED,      /* undefined length other than on a sequence,
                               an item or the Pixel Data (an UN sequence,
                               implicit VR inside, is refused too) */
    DCMWALK_ITEM,           /* a sequence holds something but items, or a
                               delimiter is misplaced or has a length */
    DCMWALK_DEPTH,          /* sequences nested deeper than the limit */
    DCMWALK_NO_PIXEL_DATA,  /* the file ends without a top-level Pixel Data */
    DCMWALK_ENCAPSULATED,   /* the Pixel Data has undefined length */
    DCMWALK_PIXEL_VR,       /* the Pixel Data is neither OB nor OW */
    DCMWALK_NULL            /* a required pointer is NULL */
} dcmwalk_status;

/* The elements the walk reports, as indexes into dcmwalk_info.values. */
typedef enum dcmwalk_element {
    DCMWALK_META_VERSION = 0,         /* (0002,0001) */
    DCMWALK_MEDIA_SOP_CLASS,          /* (0002,0002) */
    DCMWALK_MEDIA_SOP_INSTANCE,       /* (0002,0003) */
    DCMWALK_TRANSFER_SYNTAX,          /* (0002,0010) */
    DCMWALK_IMPLEMENTATION_CLASS,     /* (0002,0012) */
    DCMWALK_SAMPLES_PER_PIXEL,        /* (0028,0002), top level from here */
    DCMWALK_PHOTOMETRIC,              /* (0028,0004) */
    DCMWALK_PLANAR_CONFIGURATION,     /* (0028,0006) */
    DCMWALK_NUMBER_OF_FRAMES,         /* (0028,0008) */
    DCMWALK_ROWS,                     /* (0028,0010) */
    DCMWALK_COLUMNS,                  /* (0028,0011) */
    DCMWALK_BITS_ALLOCATED,           /* (0028,0100) */
    DCMWALK_BITS_STORED,              /* (0028,0101) */
    DCMWALK_PIXEL_REPRESENTATION,     /* (0028,0103) */
    DCMWALK_PIXEL_GROUP_LENGTH,       /* (7FE0,0000) */
    DCMWALK_EXTENDED_OFFSET_TABLE,    /* (7FE0,0001) */
    DCMWALK_EXTENDED_LENGTHS,         /* (7FE0,0002) */
    DCMWALK_FLOAT_PIXEL_DATA,         /* (7FE0,0008) */
    DCMWALK_DOUBLE_PIXEL_DATA,        /* (7FE0,0009) */
    DCMWALK_PIXEL_DATA,               /* (7FE0,0010) */
    DCMWALK_ELEMENTS                  /* the number of the above */
} dcmwalk_element;

/* Where one element is: present is 0 when the walk did not see it. */
typedef struct dcmwalk_value {
    size_t header;   /* offset of the element's tag */
    size_t offset;   /* offset of its value */
    size_t length;   /* length of its value in bytes */
    char vr[2];      /* its VR, two ASCII letters */
    int present;
} dcmwalk_value;

typedef struct dcmwalk_info {
    size_t meta_end;        /* offset of the first element after group 0002 */
    size_t after_pixel;     /* offset of the first element after the Pixel
                               Data: values[DCMWALK_PIXEL_DATA].offset +
                               .length */
    size_t need;            /* DCMWALK_NEED_MORE: the bytes to call with */
    size_t error_offset;    /* otherwise: where the walk stopped */
    dcmwalk_value values[DCMWALK_ELEMENTS];
} dcmwalk_info;

/*
 * Walk a Part 10 file from its start to its top-level Pixel Data.
 *
 * buf holds the first `available` bytes of a file of `file_size` bytes
 * (available <= file_size; buf may be the whole file). Reads
 * buf[0 .. available) only; the values it skips need not be in buf.
 * Fills *info (zeroed first). DCMWALK_OK when the File Meta Information
 * and every element before the Pixel Data are well formed, the transfer
 * syntax is Explicit VR Little Endian and the Pixel Data is OB or OW of
 * a defined length that fits in the file; info->after_pixel is then where
 * the elements after it start (walk them with dcmwalk_tail()). NULL buf is
 * allowed when available is 0.
 */
dcmwalk_status dcmwalk_file(const uint8_t *buf, size_t available,
                            size_t file_size, dcmwalk_info *info);

/*
 * dcmwalk_file() that also takes the RLE Lossless transfer syntax
 * (1.2.840.10008.1.2.5), whose dataset is Explicit VR Little Endian too:
 * its Pixel Data has undefined length, so a well-formed file ends the walk
 * with DCMWALK_ENCAPSULATED, values[DCMWALK_PIXEL_DATA].offset where the
 * value's first item starts. For reading back a file this library wrote.
 */
dcmwalk_status dcmwalk_file_rle(const uint8_t *buf, size_t available,
                                size_t file_size, dcmwalk_info *info);

/*
 * Walk the top-level elements that follow the Pixel Data: buf[0 .. length)
 * must hold whole elements, each tag above (7FE0,0010), ascending, well
 * formed as for dcmwalk_file(). Reports nothing but the status and, on
 * error, *error_offset (relative to buf; may be NULL). length 0 is OK.
 */
dcmwalk_status dcmwalk_tail(const uint8_t *buf, size_t length,
                            size_t *error_offset);

/* A static English message for a status. */
const char *dcmwalk_status_message(dcmwalk_status status);

#ifdef __cplusplus
}
#endif

#endif /* DICOMRLE_DCM_WALK_H */
