/*
 * gzip (RFC 1952) around DEFLATE (RFC 1951), decoded in a single call: the whole member
 * is in memory and the output buffer doubles as the history window.
 *
 * The input is hostile. Every read is bounded by the end of the input and every write
 * by the end of the output; each Huffman code set is checked for over-subscription and
 * incompleteness before it is used; every block and every symbol consumes input or
 * produces output, so decoding always ends.
 *
 * Huffman codes are decoded with a table indexed by the next FAST_BITS input bits, which
 * resolves every code of up to FAST_BITS bits in one lookup. Longer codes are rare (each
 * one occurs with probability below 2^-FAST_BITS) and take a short canonical-code walk.
 * The tables sit in a context on the caller's stack.
 */
#include <enso/gunzip.h>
#include <enso/crc.h>
#include <enso/errno.h>
#include <enso/lib.h>
#include <enso/long_work.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the bit reader loads input words little-endian"
#endif

#define MAX_CODE_LEN 15
#define FAST_BITS 10
#define FAST_MASK ((1u << FAST_BITS) - 1)

#define NUM_LITLEN 288 /* symbols in the fixed code; a dynamic block may use 286 */
#define MAX_LITLEN 286
#define NUM_DIST 32 /* likewise; 30 usable */
#define MAX_DIST 30
#define NUM_CODELEN 19

#define END_OF_BLOCK 256
#define FIRST_LENGTH 257

/* Header flags (RFC 1952 2.3.1). */
#define FLG_FHCRC 0x02
#define FLG_FEXTRA 0x04
#define FLG_FNAME 0x08
#define FLG_FCOMMENT 0x10
#define FLG_RESERVED 0xe0

#define GZIP_HEADER_LEN 10
#define GZIP_TRAILER_LEN 8

/*
 * Input bits, least significant first. Bits of bits[] at and above count are either
 * zero or the very bits the next refill will bring: a word load takes 8 bytes but only
 * counts (and steps over) the whole bytes that fit, so reloading the rest is harmless.
 */
struct bitreader {
    const uint8_t *next; /* first byte not yet counted in bits */
    const uint8_t *end;
    uint64_t bits;
    unsigned int count;
};

/*
 * A canonical Huffman code. fast[] maps the next FAST_BITS input bits to
 * (symbol << 4 | length) for every code of length <= FAST_BITS, and to 0 otherwise.
 * Codes of length L are the values first[L] .. first[L] + count[L] - 1 (read most
 * significant bit first) and stand for symbols sorted[offset[L] ...].
 */
struct huffman {
    uint16_t fast[1u << FAST_BITS];
    uint16_t count[MAX_CODE_LEN + 1];
    uint16_t first[MAX_CODE_LEN + 1];
    uint16_t offset[MAX_CODE_LEN + 1];
    uint16_t sorted[NUM_LITLEN];
};

struct inflater {
    struct bitreader br;
    uint8_t *out;
    size_t pos;
    size_t cap;
    const char *why;
    bool fixed_loaded; /* lit/dist hold the fixed codes of RFC 1951 3.2.6 */
    struct huffman lit;
    struct huffman dist;
};

enum code_kind { CODE_LITLEN, CODE_DIST, CODE_CODELEN };

/* Length symbols 257..285 and distance symbols 0..29 (RFC 1951 3.2.5). */
static const uint16_t length_base[29] = {
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
    35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
};
static const uint8_t length_extra[29] = {
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
    3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
};
static const uint16_t dist_base[MAX_DIST] = {
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129,
    193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
};
static const uint8_t dist_extra[MAX_DIST] = {
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6,
    6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
};

/* The order in which a dynamic block lists the code-length code's lengths. */
static const uint8_t codelen_order[NUM_CODELEN] = {
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
};

static int fail(struct inflater *z, const char *why)
{
    z->why = why;
    return -EINVAL;
}

static int no_space(struct inflater *z)
{
    z->why = "gzip: output buffer too small";
    return -ENOSPC;
}

/* Top the reader up to at least 56 bits, or to whatever input is left. */
static inline void refill(struct bitreader *br)
{
    if (likely(br->end - br->next >= 8)) {
        uint64_t word;

        __builtin_memcpy(&word, br->next, sizeof(word));
        br->bits |= word << br->count;
        br->next += (63 - br->count) >> 3;
        br->count |= 56; /* == count + 8 * bytes taken, for count < 64 */
    } else {
        while (br->count <= 56 && br->next < br->end) {
            br->bits |= (uint64_t)*br->next++ << br->count;
            br->count += 8;
        }
    }
}

static inline void consume(struct bitreader *br, unsigned int n)
{
    br->bits >>= n;
    br->count -= n;
}

/* Take n (<= 32) bits, refilling first; used outside the per-symbol hot loop. */
static int get_bits(struct inflater *z, unsigned int n, unsigned int *val)
{
    refill(&z->br);
    if (z->br.count < n)
        return fail(z, "gzip: truncated input");
    *val = (unsigned int)(z->br.bits & ((1ull << n) - 1));
    consume(&z->br, n);
    return 0;
}

/* Drop the bits up to the next byte boundary and hand the unread whole bytes back. */
static void align_to_byte(struct bitreader *br)
{
    br->next -= br->count >> 3;
    br->bits = 0;
    br->count = 0;
}

static unsigned int reverse_bits(unsigned int code, unsigned int len)
{
    unsigned int r = 0;

    for (unsigned int i = 0; i < len; i++) {
        r = (r << 1) | (code & 1);
        code >>= 1;
    }
    return r;
}

/*
 * Zlib's rules for which code sets are usable: an over-subscribed set never is; an
 * incomplete one only when it has no code at all or a single one-bit code, and never
 * for the code-length code. The caller rejects an empty literal/length set (it has
 * no end-of-block code); an empty distance set is fine until a match needs it.
 */
static bool code_set_ok(const uint16_t *count, enum code_kind kind)
{
    int left = 1; /* unused code space, in units of the current length */
    unsigned int total = 0;

    for (unsigned int len = 1; len <= MAX_CODE_LEN; len++) {
        left = 2 * left - count[len];
        if (left < 0)
            return false;
        total += count[len];
    }
    if (left == 0)
        return true;
    if (kind == CODE_CODELEN)
        return false;
    return total == 0 || (total == 1 && count[1] == 1);
}

/* Build h from the code length of each of the n symbols (all <= MAX_CODE_LEN). */
static bool huffman_build(struct huffman *h, const uint8_t *lens, unsigned int n,
                          enum code_kind kind)
{
    uint16_t next[MAX_CODE_LEN + 1];
    unsigned int code = 0, index = 0;

    memset(h->count, 0, sizeof(h->count));
    for (unsigned int sym = 0; sym < n; sym++)
        h->count[lens[sym]]++;
    h->count[0] = 0;
    if (!code_set_ok(h->count, kind))
        return false;

    for (unsigned int len = 1; len <= MAX_CODE_LEN; len++) {
        h->first[len] = (uint16_t)code;
        h->offset[len] = next[len] = (uint16_t)index;
        code = (code + h->count[len]) << 1;
        index += h->count[len];
    }
    for (unsigned int sym = 0; sym < n; sym++) {
        if (lens[sym])
            h->sorted[next[lens[sym]]++] = (uint16_t)sym;
    }

    memset(h->fast, 0, sizeof(h->fast));
    for (unsigned int len = 1; len <= FAST_BITS; len++) {
        for (unsigned int i = 0; i < h->count[len]; i++) {
            unsigned int sym = h->sorted[h->offset[len] + i];
            unsigned int slot = reverse_bits(h->first[len] + i, len);

            /* The stream sends a code's first bit first: it is the low index bit. */
            for (; slot <= FAST_MASK; slot += 1u << len)
                h->fast[slot] = (uint16_t)(sym << 4 | len);
        }
    }
    return true;
}

/*
 * Look up a code longer than FAST_BITS: (symbol << 4 | length), or 0 if the bits start
 * no code. It takes the bits by value so that the caller's reader can stay in registers.
 */
static unsigned int __attribute__((noinline)) decode_slow(const struct huffman *h,
                                                          uint64_t bits)
{
    unsigned int code = reverse_bits((unsigned int)(bits & FAST_MASK), FAST_BITS);

    for (unsigned int len = FAST_BITS + 1; len <= MAX_CODE_LEN; len++) {
        unsigned int index;

        code = (code << 1) | ((unsigned int)(bits >> (len - 1)) & 1);
        index = code - h->first[len];
        if (index < h->count[len])
            return (unsigned int)h->sorted[h->offset[len] + index] << 4 | len;
    }
    return 0;
}

/* Decode one symbol; the caller has refilled the reader. */
static inline int decode(struct inflater *z, struct bitreader *br, const struct huffman *h,
                         unsigned int *sym)
{
    unsigned int entry = h->fast[br->bits & FAST_MASK];
    unsigned int len;

    if (unlikely(entry == 0))
        entry = decode_slow(h, br->bits);
    len = entry & 15;
    if (unlikely(len == 0 || len > br->count)) {
        /* Past the end of the input the bits read as zeros: that is no bad code. */
        if (br->count < MAX_CODE_LEN)
            return fail(z, "gzip: truncated input");
        return fail(z, "gzip: bad Huffman code");
    }
    *sym = entry >> 4;
    consume(br, len);
    return 0;
}

/* Word copies never overlap unwritten bytes once the source is >= 8 bytes back. */
static inline void copy_word(uint8_t *dst, const uint8_t *src)
{
    uint64_t w;

    __builtin_memcpy(&w, src, sizeof(w));
    __builtin_memcpy(dst, &w, sizeof(w));
}

/*
 * Copy a match of len bytes from dist bytes back, front to back: when dist < len the
 * match repeats bytes it has just written. room (>= len) is the space left in the
 * buffer; with 8 bytes to spare beyond the match, whole words are copied, overrunning
 * the match by up to 7 bytes that later output overwrites.
 */
static inline void copy_match(uint8_t *dst, size_t dist, size_t len, size_t room)
{
    /* The smallest multiple of each short distance that is >= 8. */
    static const uint8_t period[8] = { 0, 8, 8, 9, 8, 10, 12, 14 };
    const uint8_t *src = dst - dist;
    uint8_t *end = dst + len;

    if (room - len < 8 || len < 8) {
        while (dst < end)
            *dst++ = *src++;
        return;
    }
    if (dist < 8) {
        /*
         * The output repeats every dist bytes, hence every period[dist] bytes too: write
         * the first period - dist bytes one at a time, then copy words from period back.
         */
        size_t lead = period[dist] - dist;

        for (size_t i = 0; i < lead; i++)
            dst[i] = src[i];
        dst += lead;
        src = dst - period[dist];
    }
    do {
        copy_word(dst, src);
        dst += 8;
        src += 8;
    } while (dst < end);
}

/* Symbols of a Huffman-coded block, up to its end-of-block code. */
static int inflate_codes(struct inflater *z, const struct huffman *lit,
                         const struct huffman *dist)
{
    struct bitreader br = z->br; /* locals: output stores could alias z's fields */
    uint8_t *out = z->out;
    size_t pos = z->pos, cap = z->cap, next_yield = 0;
    int rc;

    for (;;) {
        unsigned int sym, entry, extra;
        size_t len, back;

        long_work_progress(pos, &next_yield);

        /* 56 bits cover the longest symbol: 15 + 5 + 15 + 13 bits. */
        refill(&br);
        rc = decode(z, &br, lit, &sym);
        if (unlikely(rc))
            break;
        if (sym < END_OF_BLOCK) {
            if (unlikely(pos == cap)) {
                rc = no_space(z);
                break;
            }
            out[pos++] = (uint8_t)sym;
            /* Literals come in runs: try a second one before the next refill. */
            entry = lit->fast[br.bits & FAST_MASK];
            if ((entry & 15) && (entry & 15) <= br.count && (entry >> 4) < END_OF_BLOCK &&
                pos < cap) {
                consume(&br, entry & 15);
                out[pos++] = (uint8_t)(entry >> 4);
            }
            continue;
        }
        if (sym == END_OF_BLOCK)
            break;

        sym -= FIRST_LENGTH;
        if (unlikely(sym >= ARRAY_SIZE(length_base))) {
            rc = fail(z, "gzip: bad length code");
            break;
        }
        extra = length_extra[sym];
        if (unlikely(br.count < extra)) {
            rc = fail(z, "gzip: truncated input");
            break;
        }
        len = length_base[sym] + (unsigned int)(br.bits & ((1u << extra) - 1));
        consume(&br, extra);

        rc = decode(z, &br, dist, &sym);
        if (unlikely(rc))
            break;
        if (unlikely(sym >= MAX_DIST)) {
            rc = fail(z, "gzip: bad distance code");
            break;
        }
        extra = dist_extra[sym];
        if (unlikely(br.count < extra)) {
            rc = fail(z, "gzip: truncated input");
            break;
        }
        back = dist_base[sym] + (unsigned int)(br.bits & ((1u << extra) - 1));
        consume(&br, extra);

        if (unlikely(back > pos)) {
            rc = fail(z, "gzip: distance too far back");
            break;
        }
        if (unlikely(len > cap - pos)) {
            rc = no_space(z);
            break;
        }
        copy_match(out + pos, back, len, cap - pos);
        pos += len;
    }
    z->br = br;
    z->pos = pos;
    return rc;
}

static int inflate_stored(struct inflater *z)
{
    struct bitreader *br = &z->br;
    unsigned int len, nlen;
    int rc;

    consume(br, br->count & 7);
    rc = get_bits(z, 16, &len);
    if (!rc)
        rc = get_bits(z, 16, &nlen);
    if (rc)
        return rc;
    if (len != (~nlen & 0xffff))
        return fail(z, "gzip: stored block length mismatch");

    align_to_byte(br);
    if ((size_t)(br->end - br->next) < len)
        return fail(z, "gzip: truncated input");
    if (len > z->cap - z->pos)
        return no_space(z);
    if (len) { /* out may be NULL when out_cap is 0 */
        memcpy(z->out + z->pos, br->next, len);
        br->next += len;
        z->pos += len;
    }
    return 0;
}

static int inflate_fixed(struct inflater *z)
{
    uint8_t lens[NUM_LITLEN];
    unsigned int sym = 0;

    if (!z->fixed_loaded) {
        for (; sym < 144; sym++)
            lens[sym] = 8;
        for (; sym < 256; sym++)
            lens[sym] = 9;
        for (; sym < 280; sym++)
            lens[sym] = 7;
        for (; sym < NUM_LITLEN; sym++)
            lens[sym] = 8;
        huffman_build(&z->lit, lens, NUM_LITLEN, CODE_LITLEN);
        memset(lens, 5, NUM_DIST);
        huffman_build(&z->dist, lens, NUM_DIST, CODE_DIST);
        z->fixed_loaded = true;
    }
    return inflate_codes(z, &z->lit, &z->dist);
}

/* Read the code lengths of a dynamic block, coded with the code-length code in cl. */
static int read_code_lengths(struct inflater *z, const struct huffman *cl, uint8_t *lens,
                             unsigned int total)
{
    unsigned int i = 0;

    while (i < total) {
        unsigned int sym, repeat, extra;
        uint8_t value = 0;
        int rc;

        refill(&z->br);
        rc = decode(z, &z->br, cl, &sym);
        if (rc)
            return rc;
        if (sym < 16) {
            lens[i++] = (uint8_t)sym;
            continue;
        }
        if (sym == 16) {
            if (i == 0)
                return fail(z, "gzip: length repeat with no previous length");
            value = lens[i - 1];
            rc = get_bits(z, 2, &extra);
            repeat = 3 + extra;
        } else if (sym == 17) {
            rc = get_bits(z, 3, &extra);
            repeat = 3 + extra;
        } else {
            rc = get_bits(z, 7, &extra);
            repeat = 11 + extra;
        }
        if (rc)
            return rc;
        if (repeat > total - i)
            return fail(z, "gzip: code lengths run past the end");
        while (repeat--)
            lens[i++] = value;
    }
    return 0;
}

static int inflate_dynamic(struct inflater *z)
{
    uint8_t cl_lens[NUM_CODELEN] = { 0 };
    uint8_t lens[MAX_LITLEN + MAX_DIST];
    unsigned int nlit, ndist, ncl;
    int rc;

    rc = get_bits(z, 5, &nlit);
    if (!rc)
        rc = get_bits(z, 5, &ndist);
    if (!rc)
        rc = get_bits(z, 4, &ncl);
    if (rc)
        return rc;
    nlit += 257;
    ndist += 1;
    ncl += 4;
    if (nlit > MAX_LITLEN || ndist > MAX_DIST)
        return fail(z, "gzip: too many length or distance codes");

    for (unsigned int i = 0; i < ncl; i++) {
        unsigned int len;

        rc = get_bits(z, 3, &len);
        if (rc)
            return rc;
        cl_lens[codelen_order[i]] = (uint8_t)len;
    }

    /* lit is free until the lengths are read: it holds the code-length code meanwhile. */
    z->fixed_loaded = false;
    if (!huffman_build(&z->lit, cl_lens, NUM_CODELEN, CODE_CODELEN))
        return fail(z, "gzip: bad code-length code");
    rc = read_code_lengths(z, &z->lit, lens, nlit + ndist);
    if (rc)
        return rc;

    if (lens[END_OF_BLOCK] == 0)
        return fail(z, "gzip: no end-of-block code");
    if (!huffman_build(&z->lit, lens, nlit, CODE_LITLEN))
        return fail(z, "gzip: bad literal/length code");
    if (!huffman_build(&z->dist, lens + nlit, ndist, CODE_DIST))
        return fail(z, "gzip: bad distance code set");
    return inflate_codes(z, &z->lit, &z->dist);
}

static int inflate(struct inflater *z)
{
    unsigned int final, type;
    int rc;

    do {
        rc = get_bits(z, 1, &final);
        if (!rc)
            rc = get_bits(z, 2, &type);
        if (rc)
            return rc;
        switch (type) {
        case 0:
            rc = inflate_stored(z);
            break;
        case 1:
            rc = inflate_fixed(z);
            break;
        case 2:
            rc = inflate_dynamic(z);
            break;
        default:
            rc = fail(z, "gzip: bad block type");
            break;
        }
        if (rc)
            return rc;
    } while (!final);
    align_to_byte(&z->br);
    return 0;
}

/* Skip a zero-terminated header field (file name or comment). */
static bool skip_string(const uint8_t *p, size_t len, size_t *pos)
{
    while (*pos < len) {
        if (p[(*pos)++] == 0)
            return true;
    }
    return false;
}

static uint32_t get_le32(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Check the member header; *hdr_len is where the DEFLATE data starts. */
static int parse_header(struct inflater *z, const uint8_t *p, size_t len, size_t *hdr_len)
{
    size_t pos = GZIP_HEADER_LEN;
    uint8_t flags;

    /* Judge what is there before calling a short header truncated. */
    if ((len > 0 && p[0] != 0x1f) || (len > 1 && p[1] != 0x8b))
        return fail(z, "gzip: bad magic");
    if (len > 2 && p[2] != 8)
        return fail(z, "gzip: unsupported compression method");
    if (len < GZIP_HEADER_LEN)
        return fail(z, "gzip: truncated input");
    flags = p[3];
    if (flags & FLG_RESERVED)
        return fail(z, "gzip: reserved header flags set");

    if (flags & FLG_FEXTRA) {
        size_t xlen;

        if (len - pos < 2)
            return fail(z, "gzip: truncated input");
        xlen = p[pos] | (size_t)p[pos + 1] << 8;
        pos += 2;
        if (len - pos < xlen)
            return fail(z, "gzip: truncated input");
        pos += xlen;
    }
    if ((flags & FLG_FNAME) && !skip_string(p, len, &pos))
        return fail(z, "gzip: truncated input");
    if ((flags & FLG_FCOMMENT) && !skip_string(p, len, &pos))
        return fail(z, "gzip: truncated input");
    if (flags & FLG_FHCRC) {
        /* The low 16 bits of the CRC-32 of the header up to here. */
        if (len - pos < 2)
            return fail(z, "gzip: truncated input");
        if ((crc32(0, p, pos) & 0xffff) != (p[pos] | (uint32_t)p[pos + 1] << 8))
            return fail(z, "gzip: header CRC mismatch");
        pos += 2;
    }
    *hdr_len = pos;
    return 0;
}

int gunzip(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len,
           const char **why)
{
    const uint8_t *src = in;
    struct inflater z;
    size_t hdr_len;
    int rc;

    z.why = NULL;
    rc = parse_header(&z, src, in_len, &hdr_len);
    if (!rc) {
        z.br.next = src + hdr_len;
        z.br.end = src + in_len;
        z.br.bits = 0;
        z.br.count = 0;
        z.out = out;
        z.pos = 0;
        z.cap = out_cap;
        z.fixed_loaded = false;
        rc = inflate(&z);
    }
    if (!rc) {
        const uint8_t *trailer = z.br.next;

        if ((size_t)(z.br.end - trailer) < GZIP_TRAILER_LEN)
            rc = fail(&z, "gzip: truncated input");
        else if (get_le32(trailer) != crc32(0, out, z.pos))
            rc = fail(&z, "gzip: CRC mismatch");
        else if (get_le32(trailer + 4) != (uint32_t)z.pos)
            rc = fail(&z, "gzip: length mismatch");
    }
    if (why)
        *why = z.why;
    if (!rc && out_len)
        *out_len = z.pos;
    return rc;
}

bool gunzip_probe(const void *buf, size_t len)
{
    const uint8_t *p = buf;

    return len >= 3 && p[0] == 0x1f && p[1] == 0x8b && p[2] == 8;
}
