/*
 * Boot module to guest kernel ELF. Linux kernels usually arrive as a bzImage: a
 * real-mode setup part, then a compressed vmlinux (the "payload") that the boot
 * protocol locates for us since version 2.08. Distributions compress it with gzip or
 * xz; enso decompresses those two and names the others, so that the message says what
 * to rebuild with.
 */
#include <enso/kernel_image.h>
#include <enso/elf.h>
#include <enso/errno.h>
#include <enso/gunzip.h>
#include <enso/lib.h>
#include <enso/unxz.h>

/* The real-mode header of the Linux x86 boot protocol. */
#define BZ_SETUP_SECTS 0x1f1
#define BZ_MAGIC 0x202          /* "HdrS" */
#define BZ_VERSION 0x206
#define BZ_PAYLOAD_OFFSET 0x248 /* from the start of the protected-mode part */
#define BZ_PAYLOAD_LENGTH 0x24c
#define BZ_HEADER_END 0x250
#define BZ_MIN_VERSION 0x208

#define XZ_FOOTER_SIZE 12       /* CRC32, backward size, 2 flag bytes, "YZ" */
#define XZ_HEADER_SIZE 12

/* Formats enso cannot decompress, by magic, to say which one it met. */
#define UNSUPPORTED(name) \
    "kernel: " name "-compressed payload not supported (gzip or xz only)"
static const struct {
    const char *magic;
    size_t len;
    const char *why;
} unsupported[] = {
    { "BZh", 3, UNSUPPORTED("bzip2") },
    { "\x5d\x00\x00", 3, UNSUPPORTED("lzma") },
    { "\x89LZO\0", 5, UNSUPPORTED("lzo") },
    { "\x02\x21\x4c\x18", 4, UNSUPPORTED("lz4") },
    { "\x28\xb5\x2f\xfd", 4, UNSUPPORTED("zstd") },
};

struct unpack {
    void *(*alloc)(void *ctx, size_t bytes);
    void (*free)(void *ctx, void *p, size_t bytes);
    void *ctx;
};

static int fail(const char **why, const char *msg)
{
    if (why)
        *why = msg;
    return -EINVAL;
}

static uint32_t le16(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const uint8_t *p)
{
    return le16(p) | le16(p + 2) << 16;
}

static bool is_bzimage(const uint8_t *img, size_t len)
{
    return len >= BZ_MAGIC + 4 && !memcmp(img + BZ_MAGIC, "HdrS", 4);
}

/* setup_sects 0 means 4 (boot protocol); the boot sector itself comes first. */
static int bzimage_payload(const uint8_t *img, size_t len, const uint8_t **payload,
                           size_t *payload_len, const char **why)
{
    uint64_t sects, off, n;

    if (len < BZ_HEADER_END)
        return fail(why, "bzImage: truncated header");
    if (le16(img + BZ_VERSION) < BZ_MIN_VERSION)
        return fail(why, "bzImage: boot protocol older than 2.08 (no payload fields)");
    sects = img[BZ_SETUP_SECTS] ? img[BZ_SETUP_SECTS] : 4;
    off = (sects + 1) * 512 + le32(img + BZ_PAYLOAD_OFFSET);
    n = le32(img + BZ_PAYLOAD_LENGTH);
    if (off > len || n > len - off)
        return fail(why, "bzImage: payload past end of image");
    *payload = img + off;
    *payload_len = n;
    return 0;
}

static int check_size(uint64_t size, const char **why)
{
    if (size == 0)
        return fail(why, "kernel: recorded uncompressed size is zero");
    if (size > KERNEL_IMAGE_MAX)
        return fail(why, "kernel: uncompressed size over 1 GiB");
    return 0;
}

/* The xz "multibyte integer": 7 bits per byte, low first, at most 9 bytes. */
static int xz_varint(const uint8_t *in, size_t end, size_t *pos, uint64_t *v)
{
    *v = 0;
    for (unsigned int i = 0; i < 9 && *pos < end; i++) {
        uint8_t b = in[(*pos)++];

        *v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80))
            return 0;
    }
    return -EINVAL;
}

/*
 * A bare .xz stream records its uncompressed size only in its index (one record per
 * block, just before the footer). Only the last stream is read: kernels are one stream.
 */
static int xz_index_size(const uint8_t *in, size_t len, uint64_t *size, const char **why)
{
    const char *bad = "xz: cannot read the uncompressed size from the stream index";
    uint64_t index_len, records, unpadded, n, total = 0;
    size_t pos, end;

    if (len < XZ_HEADER_SIZE + XZ_FOOTER_SIZE)
        return fail(why, bad);
    index_len = ((uint64_t)le32(in + len - 8) + 1) * 4;
    if (index_len > len - XZ_HEADER_SIZE - XZ_FOOTER_SIZE)
        return fail(why, bad);
    pos = len - XZ_FOOTER_SIZE - index_len;
    end = len - XZ_FOOTER_SIZE - 4;             /* the index ends with its CRC32 */
    if (in[pos++] != 0 || xz_varint(in, end, &pos, &records))
        return fail(why, bad);
    for (; records; records--) {
        if (xz_varint(in, end, &pos, &unpadded) || xz_varint(in, end, &pos, &n))
            return fail(why, bad);
        if (n > KERNEL_IMAGE_MAX - total)
            return fail(why, "kernel: uncompressed size over 1 GiB");
        total += n;
    }
    *size = total;
    return 0;
}

/*
 * Linux appends the uncompressed size (4 bytes, little endian) to an xz payload, and
 * unxz wants the stream alone. A stream ends with "YZ"; an appended size never does,
 * as its top byte would be 'Z' (0x5a), far above the 1 GiB limit.
 */
static int xz_sizes(const uint8_t *in, size_t len, size_t *in_len, uint64_t *size,
                    const char **why)
{
    if (len >= 2 && in[len - 2] == 'Y' && in[len - 1] == 'Z') {
        *in_len = len;
        return xz_index_size(in, len, size, why);
    }
    if (len < 4)
        return fail(why, "xz: truncated input");
    *in_len = len - 4;
    *size = le32(in + len - 4);
    return 0;
}

/* gzip's trailer ends with ISIZE, the uncompressed size modulo 2^32. */
static int gzip_sizes(const uint8_t *in, size_t len, size_t *in_len, uint64_t *size,
                      const char **why)
{
    if (len < 4)
        return fail(why, "gzip: truncated input");
    *in_len = len;
    *size = le32(in + len - 4);
    return 0;
}

static int decompress(const struct unpack *u, const uint8_t *in, size_t len, bool xz,
                      const void **elf, size_t *elf_len, const char **why)
{
    uint64_t size;
    size_t in_len, got = 0;
    uint8_t *buf;
    int rc;

    if (xz)
        rc = xz_sizes(in, len, &in_len, &size, why);
    else
        rc = gzip_sizes(in, len, &in_len, &size, why);
    if (!rc)
        rc = check_size(size, why);
    if (rc)
        return rc;
    buf = u->alloc(u->ctx, size);
    if (!buf) {
        if (why)
            *why = "kernel: no memory for the decompressed kernel";
        return -ENOMEM;
    }

    if (xz)
        rc = unxz(in, in_len, buf, size, &got, why);
    else
        rc = gunzip(in, in_len, buf, size, &got, why);
    if (rc == -ENOSPC)
        rc = fail(why, "kernel: decompresses to more than its recorded size");
    else if (!rc && got != size)
        rc = fail(why, "kernel: decompresses to less than its recorded size");
    else if (!rc && !elf_is_elf(buf, got))
        rc = fail(why, "kernel: decompressed payload is not an ELF image");
    if (rc) {
        u->free(u->ctx, buf, size);
        return rc;
    }
    *elf = buf;
    *elf_len = got;
    return 0;
}

static const char *unsupported_format(const uint8_t *in, size_t len)
{
    for (unsigned int i = 0; i < ARRAY_SIZE(unsupported); i++)
        if (len >= unsupported[i].len &&
            !memcmp(in, unsupported[i].magic, unsupported[i].len))
            return unsupported[i].why;
    return NULL;
}

int kernel_image_unpack(const void *img, size_t len,
                        void *(*alloc)(void *ctx, size_t bytes),
                        void (*free_fn)(void *ctx, void *p, size_t bytes), void *ctx,
                        const void **elf, size_t *elf_len, bool *allocated,
                        const char **why)
{
    const struct unpack u = { .alloc = alloc, .free = free_fn, .ctx = ctx };
    const uint8_t *in = img;
    bool bz = is_bzimage(in, len);
    const char *other;
    int rc;

    *allocated = false;
    if (bz) {
        rc = bzimage_payload(img, len, &in, &len, why);
        if (rc)
            return rc;
    }
    if (elf_is_elf(in, len)) {
        *elf = in;
        *elf_len = len;
        return 0;
    }
    if (gunzip_probe(in, len) || unxz_probe(in, len)) {
        rc = decompress(&u, in, len, !gunzip_probe(in, len), elf, elf_len, why);
        *allocated = rc == 0;
        return rc;
    }
    other = unsupported_format(in, len);
    if (other)
        return fail(why, other);
    if (bz)
        return fail(why, "bzImage: payload is neither ELF nor gzip/xz compressed");
    return fail(why, "kernel: not an ELF image, a bzImage or a gzip/xz compressed ELF");
}
