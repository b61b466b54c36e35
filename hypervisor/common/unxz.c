/*
 * The .xz container: streams of blocks followed by an index, each stream framed by a
 * 12-byte header and footer, streams separated by zero padding. Every structure carries
 * a CRC32 and the index repeats every block's sizes, so a damaged file is caught even
 * where the compressed data itself would still decode. Block data is handed to
 * lzma2_decode() and, for x86 kernels, bcj_x86_decode(); see lzma2.c and bcj_x86.c.
 */
#include <enso/crc.h>
#include <enso/errno.h>
#include <enso/lib.h>
#include <enso/unxz.h>

#define XZ_HEADER_SIZE 12 /* magic 6, flags 2, CRC32 4 */
#define XZ_FOOTER_SIZE 12 /* CRC32 4, backward size 4, flags 2, magic 2 */
#define XZ_MAGIC_SIZE 6
#define XZ_VLI_BYTES_MAX 9 /* 7 bits each: values below 2^63 */
#define XZ_FILTERS_MAX 4

#define XZ_CHECK_NONE 0x0
#define XZ_CHECK_CRC32 0x1
#define XZ_CHECK_CRC64 0x4
#define XZ_CHECK_SHA256 0xa

#define XZ_FILTER_X86 0x04
#define XZ_FILTER_LZMA2 0x21

#define XZ_BLOCK_FLAG_FILTERS 0x03 /* number of filters - 1 */
#define XZ_BLOCK_FLAG_RESERVED 0x3c
#define XZ_BLOCK_FLAG_PACKED 0x40 /* compressed size present */
#define XZ_BLOCK_FLAG_UNPACKED 0x80 /* uncompressed size present */

static const uint8_t xz_magic[XZ_MAGIC_SIZE] = { 0xfd, '7', 'z', 'X', 'Z', 0x00 };
static const uint8_t xz_footer_magic[2] = { 'Y', 'Z' };

/*
 * What a stream's blocks add up to. The index must list the same, record by record;
 * rather than keep a list of unbounded length, both sides fold their records into sums
 * and a CRC32 over the records and those are compared.
 */
struct xz_tally {
    uint64_t count;
    uint64_t unpadded;
    uint64_t unpacked;
    uint32_t crc;
};

struct xz {
    const uint8_t *in;
    size_t in_len;
    size_t pos;
    uint8_t *out;
    size_t out_cap;
    size_t out_len;
    const char *why;
    uint8_t flags[2]; /* of the current stream */
    unsigned int check_size;
    struct xz_tally blocks;
};

/* Room for the message naming an unsupported filter; unxz() is single-user anyway. */
static char filter_msg[48];

static int fail(struct xz *xz, const char *why)
{
    xz->why = why;
    return -EINVAL;
}

static int truncated(struct xz *xz)
{
    return fail(xz, "xz: truncated input");
}

static bool have(const struct xz *xz, size_t n)
{
    return xz->in_len - xz->pos >= n;
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* CRC-64 with the ECMA-182 polynomial, reflected, as xz's CRC64 check uses it. */
#define CRC64_POLY_REFLECTED 0xc96c5795d7870f42ull /* 0x42f0e1eba9ea3693 bit-reversed */

static uint64_t crc64_table[256];
static bool crc64_table_ready;

static uint64_t crc64(const uint8_t *p, size_t len)
{
    uint64_t crc = ~0ull;

    if (!crc64_table_ready) {
        for (unsigned int i = 0; i < 256; i++) {
            uint64_t c = i;

            for (int bit = 0; bit < 8; bit++)
                c = (c & 1) ? (c >> 1) ^ CRC64_POLY_REFLECTED : c >> 1;
            crc64_table[i] = c;
        }
        crc64_table_ready = true;
    }
    while (len--)
        crc = crc64_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/*
 * A variable-length integer from p[0..len): 7 bits a byte, low first, high bit set on
 * all but the last byte. Returns the bytes used, or 0 if it is cut off, longer than 9
 * bytes or not in its shortest form.
 */
static size_t get_vli(const uint8_t *p, size_t len, uint64_t *val)
{
    uint64_t v = 0;

    for (size_t i = 0; i < XZ_VLI_BYTES_MAX && i < len; i++) {
        v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            if (p[i] == 0 && i > 0)
                return 0;
            *val = v;
            return i + 1;
        }
    }
    return 0;
}

/* A size from a record or block header, as the tally folds it into its CRC. */
static void tally_add(struct xz_tally *t, uint64_t unpadded, uint64_t unpacked)
{
    uint8_t rec[16];

    for (int i = 0; i < 8; i++) {
        rec[i] = (uint8_t)(unpadded >> (8 * i));
        rec[8 + i] = (uint8_t)(unpacked >> (8 * i));
    }
    t->count++;
    t->unpadded += unpadded;
    t->unpacked += unpacked;
    t->crc = crc32(t->crc, rec, sizeof(rec));
}

static int stream_header(struct xz *xz)
{
    const uint8_t *h = xz->in + xz->pos;

    if (!have(xz, XZ_HEADER_SIZE))
        return truncated(xz);
    if (memcmp(h, xz_magic, XZ_MAGIC_SIZE))
        return fail(xz, "xz: bad stream magic");
    if (crc32(0, h + 6, 2) != get_le32(h + 8))
        return fail(xz, "xz: stream header CRC32 mismatch");
    if (h[6] != 0 || (h[7] & 0xf0))
        return fail(xz, "xz: unsupported stream flags");

    switch (h[7]) {
    case XZ_CHECK_NONE:
        xz->check_size = 0;
        break;
    case XZ_CHECK_CRC32:
        xz->check_size = 4;
        break;
    case XZ_CHECK_CRC64:
        xz->check_size = 8;
        break;
    case XZ_CHECK_SHA256:
        xz->check_size = 32;
        break;
    default:
        return fail(xz, "xz: unsupported check type");
    }
    xz->flags[0] = h[6];
    xz->flags[1] = h[7];
    memset(&xz->blocks, 0, sizeof(xz->blocks));
    xz->pos += XZ_HEADER_SIZE;
    return 0;
}

/* What a block header asks for. */
struct xz_block {
    size_t header_size;
    bool has_packed, has_unpacked;
    uint64_t packed, unpacked;
    uint8_t dict_prop;
    bool x86;
    uint32_t x86_start;
};

static int unsupported_filter(struct xz *xz, uint64_t id)
{
    snprintf(filter_msg, sizeof(filter_msg), "xz: unsupported filter %#llx",
             (unsigned long long)id);
    return fail(xz, filter_msg);
}

/* The filter list from h[0..len): LZMA2 last, x86 BCJ optionally before it. */
static int block_filters(struct xz *xz, struct xz_block *b, unsigned int nr,
                         const uint8_t *h, size_t len, size_t *used)
{
    size_t p = 0;

    for (unsigned int i = 0; i < nr; i++) {
        uint64_t id, psize;
        size_t n;
        bool last = i == nr - 1;

        n = get_vli(h + p, len - p, &id);
        if (!n)
            return fail(xz, "xz: corrupt block header");
        p += n;
        n = get_vli(h + p, len - p, &psize);
        if (!n || psize > len - p - n)
            return fail(xz, "xz: corrupt block header");
        p += n;

        if (id == XZ_FILTER_LZMA2) {
            if (!last || psize != 1)
                return fail(xz, "xz: unsupported filter chain");
            b->dict_prop = h[p];
        } else if (id == XZ_FILTER_X86) {
            if (last || i != 0 || (psize != 0 && psize != 4))
                return fail(xz, "xz: unsupported filter chain");
            b->x86 = true;
            b->x86_start = psize ? get_le32(h + p) : 0;
        } else {
            return unsupported_filter(xz, id);
        }
        p += psize;
    }
    *used = p;
    return 0;
}

static int block_header(struct xz *xz, struct xz_block *b)
{
    const uint8_t *h = xz->in + xz->pos;
    size_t len, p, n;
    uint8_t flags;
    int ret;

    memset(b, 0, sizeof(*b));
    b->header_size = ((size_t)h[0] + 1) * 4;
    if (!have(xz, b->header_size))
        return truncated(xz);
    len = b->header_size - 4; /* without the CRC32 */
    if (crc32(0, h, len) != get_le32(h + len))
        return fail(xz, "xz: block header CRC32 mismatch");

    flags = h[1];
    if (flags & XZ_BLOCK_FLAG_RESERVED)
        return fail(xz, "xz: unsupported block flags");
    p = 2;
    if (flags & XZ_BLOCK_FLAG_PACKED) {
        n = get_vli(h + p, len - p, &b->packed);
        if (!n || b->packed == 0)
            return fail(xz, "xz: corrupt block header");
        b->has_packed = true;
        p += n;
    }
    if (flags & XZ_BLOCK_FLAG_UNPACKED) {
        n = get_vli(h + p, len - p, &b->unpacked);
        if (!n)
            return fail(xz, "xz: corrupt block header");
        b->has_unpacked = true;
        p += n;
    }
    ret = block_filters(xz, b, (flags & XZ_BLOCK_FLAG_FILTERS) + 1, h + p, len - p, &n);
    if (ret)
        return ret;
    for (p += n; p < len; p++) {
        if (h[p])
            return fail(xz, "xz: bad block header padding");
    }
    xz->pos += b->header_size;
    return 0;
}

static int block_check(struct xz *xz, const uint8_t *data, size_t len)
{
    const uint8_t *c = xz->in + xz->pos;

    if (!have(xz, xz->check_size))
        return truncated(xz);
    switch (xz->flags[1]) {
    case XZ_CHECK_CRC32:
        if (crc32(0, data, len) != get_le32(c))
            return fail(xz, "xz: CRC32 mismatch");
        break;
    case XZ_CHECK_CRC64:
        if (crc64(data, len) != ((uint64_t)get_le32(c + 4) << 32 | get_le32(c)))
            return fail(xz, "xz: CRC64 mismatch");
        break;
    default:
        /*
         * None, or SHA-256: its 32 bytes are skipped unverified (enso has no SHA-256,
         * and Linux's images use CRC32). The LZMA2 framing and the index still catch
         * most damage, but not all of it.
         */
        break;
    }
    xz->pos += xz->check_size;
    return 0;
}

static int block(struct xz *xz)
{
    struct xz_block b;
    size_t avail, used, produced;
    uint8_t *data = xz->out + xz->out_len;
    int ret;

    ret = block_header(xz, &b);
    if (ret)
        return ret;

    avail = xz->in_len - xz->pos;
    if (b.has_packed && b.packed < avail)
        avail = b.packed;
    ret = lzma2_decode(xz->in + xz->pos, avail, &used, data, xz->out_cap - xz->out_len,
                       &produced, b.dict_prop, &xz->why);
    if (ret)
        return ret;
    if ((b.has_packed && used != b.packed) || (b.has_unpacked && produced != b.unpacked))
        return fail(xz, "xz: block size mismatch");
    xz->pos += used;

    /* Padding to a multiple of 4; the header size already is one. */
    for (size_t pad = (0 - used) & 3; pad; pad--) {
        if (!have(xz, 1))
            return truncated(xz);
        if (xz->in[xz->pos++])
            return fail(xz, "xz: bad block padding");
    }

    /* The filter runs over the block once LZMA2 has stopped using it as dictionary. */
    if (b.x86)
        bcj_x86_decode(data, produced, b.x86_start);
    ret = block_check(xz, data, produced);
    if (ret)
        return ret;

    tally_add(&xz->blocks, b.header_size + used + xz->check_size, produced);
    xz->out_len += produced;
    return 0;
}

/* The index: indicator 0, record count, (unpadded, uncompressed) records, CRC32. */
static int stream_index(struct xz *xz, size_t *index_size)
{
    size_t start = xz->pos, n;
    struct xz_tally listed = { 0 };
    uint64_t count;

    xz->pos++; /* the indicator, already seen to be zero */
    n = get_vli(xz->in + xz->pos, xz->in_len - xz->pos, &count);
    if (!n)
        return have(xz, XZ_VLI_BYTES_MAX) ? fail(xz, "xz: corrupt index") : truncated(xz);
    xz->pos += n;
    if (count != xz->blocks.count)
        return fail(xz, "xz: index does not match blocks");

    /* Bounded by the number of blocks decoded, each record takes two bytes or more. */
    for (uint64_t i = 0; i < count; i++) {
        uint64_t unpadded, unpacked;

        n = get_vli(xz->in + xz->pos, xz->in_len - xz->pos, &unpadded);
        if (!n)
            return have(xz, XZ_VLI_BYTES_MAX) ? fail(xz, "xz: corrupt index") : truncated(xz);
        xz->pos += n;
        n = get_vli(xz->in + xz->pos, xz->in_len - xz->pos, &unpacked);
        if (!n)
            return have(xz, XZ_VLI_BYTES_MAX) ? fail(xz, "xz: corrupt index") : truncated(xz);
        xz->pos += n;
        tally_add(&listed, unpadded, unpacked);
    }
    while ((xz->pos - start) & 3) {
        if (!have(xz, 1))
            return truncated(xz);
        if (xz->in[xz->pos++])
            return fail(xz, "xz: bad index padding");
    }
    if (!have(xz, 4))
        return truncated(xz);
    if (crc32(0, xz->in + start, xz->pos - start) != get_le32(xz->in + xz->pos))
        return fail(xz, "xz: index CRC32 mismatch");
    xz->pos += 4;

    if (listed.unpadded != xz->blocks.unpadded || listed.unpacked != xz->blocks.unpacked ||
        listed.crc != xz->blocks.crc)
        return fail(xz, "xz: index does not match blocks");
    *index_size = xz->pos - start;
    return 0;
}

static int stream_footer(struct xz *xz, size_t index_size)
{
    const uint8_t *f = xz->in + xz->pos;

    if (!have(xz, XZ_FOOTER_SIZE))
        return truncated(xz);
    if (crc32(0, f + 4, 6) != get_le32(f))
        return fail(xz, "xz: stream footer CRC32 mismatch");
    if (memcmp(f + 10, xz_footer_magic, sizeof(xz_footer_magic)))
        return fail(xz, "xz: bad stream footer magic");
    /* The backward size counts the index in units of 4 bytes, minus one. */
    if (((uint64_t)get_le32(f + 4) + 1) * 4 != index_size)
        return fail(xz, "xz: backward size mismatch");
    if (f[8] != xz->flags[0] || f[9] != xz->flags[1])
        return fail(xz, "xz: stream flags mismatch");
    xz->pos += XZ_FOOTER_SIZE;
    return 0;
}

static int stream(struct xz *xz)
{
    size_t index_size;
    int ret;

    ret = stream_header(xz);
    for (;;) {
        if (ret)
            return ret;
        if (!have(xz, 1))
            return truncated(xz);
        if (xz->in[xz->pos] == 0)
            break;
        ret = block(xz);
    }
    ret = stream_index(xz, &index_size);
    if (ret)
        return ret;
    return stream_footer(xz, index_size);
}

int unxz(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len,
         const char **why)
{
    static uint8_t no_output;
    struct xz xz = {
        .in = in,
        .in_len = in_len,
        .out = out ? out : &no_output,
        .out_cap = out ? out_cap : 0,
    };
    int ret;

    if (!unxz_probe(in, in_len)) {
        ret = in_len < XZ_MAGIC_SIZE ? truncated(&xz) : fail(&xz, "xz: not an xz file");
        goto out;
    }
    for (;;) {
        size_t zeros = 0;

        ret = stream(&xz);
        if (ret)
            goto out;
        /* Stream padding: zeros in fours, then the end or another stream. */
        while (have(&xz, 1) && xz.in[xz.pos] == 0) {
            xz.pos++;
            zeros++;
        }
        if (zeros & 3) {
            ret = fail(&xz, "xz: bad stream padding");
            goto out;
        }
        if (xz.pos == xz.in_len)
            break;
        if (!unxz_probe(xz.in + xz.pos, xz.in_len - xz.pos)) {
            ret = fail(&xz, "xz: trailing garbage after stream");
            goto out;
        }
    }
    *out_len = xz.out_len;

out:
    if (ret == -ENOSPC)
        xz.why = "xz: output buffer too small";
    if (why)
        *why = ret ? xz.why : NULL;
    return ret;
}

bool unxz_probe(const void *buf, size_t len)
{
    return len >= XZ_MAGIC_SIZE && !memcmp(buf, xz_magic, XZ_MAGIC_SIZE);
}
