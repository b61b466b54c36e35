/*
 * Host tests of the gzip decoder: members made by the host's gzip, members put together
 * here bit by bit to reach each rule of RFC 1951/1952, and hostile inputs (every
 * truncation, random bit flips, random bytes). Inputs and outputs are decoded from and
 * into heap buffers of exactly their size, so ASan reports any access outside them.
 */
#include "harness.h"
#include <stdint.h>
#include <unistd.h>
#include <enso/gunzip.h>
#include <enso/crc.h>
#include <enso/errno.h>
#include <enso/long_work.h>

#define ROUND8(n) (((n) + 7) & ~(size_t)7)

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dULL;
}

/*
 * A failed CHECK returns early and leaks its buffers; LeakSanitizer then ends the
 * program without flushing stdout. Line buffering keeps the FAIL lines.
 */
__attribute__((constructor)) static void line_buffered_stdout(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
}

/* Decode in (copied to an exact-size buffer) into a fresh buffer of exactly cap bytes. */
static int decode(const void *in, size_t in_len, size_t cap, uint8_t **out, size_t *out_len,
                  const char **why)
{
    uint8_t *src = malloc(in_len ? in_len : 1);
    int rc;

    memcpy(src, in, in_len);
    *out = malloc(cap); /* even 0: ASan then flags any write */
    *out_len = (size_t)-1;
    *why = "not set";
    rc = gunzip(src, in_len, *out, cap, out_len, why);
    free(src);
    return rc;
}

/* in must decode to exactly want: in a buffer of its size, and not in one byte less. */
static bool round_trip(const uint8_t *in, size_t in_len, const void *want, size_t want_len)
{
    uint8_t *out;
    size_t len;
    const char *why;
    int rc = decode(in, in_len, want_len, &out, &len, &why);
    bool ok = rc == 0 && len == want_len && memcmp(out, want, want_len) == 0 && !why;

    if (!ok)
        printf("  decode: rc %d len %zu (want %zu) why %s\n", rc, len, want_len,
               why ? why : "(null)");
    free(out);
    if (ok && want_len) {
        rc = decode(in, in_len, want_len - 1, &out, &len, &why);
        free(out);
        if (rc != -ENOSPC) {
            printf("  one byte short: rc %d, expected -ENOSPC\n", rc);
            ok = false;
        }
    }
    return ok;
}

/* Expect -EINVAL with this reason. */
static bool rejects(const uint8_t *in, size_t in_len, size_t cap, const char *reason)
{
    uint8_t *out;
    size_t len;
    const char *why;
    int rc = decode(in, in_len, cap, &out, &len, &why);
    bool ok = rc == -EINVAL && why && strcmp(why, reason) == 0;

    if (!ok)
        printf("  rc %d why \"%s\", expected -EINVAL \"%s\"\n", rc, why ? why : "(null)",
               reason);
    free(out);
    return ok;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n + 1);
        if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
        *len = (size_t)n;
    }
    fclose(f);
    return buf;
}

/* Compress with the host's gzip (flags e.g. "-9"); -n keeps the header to 10 bytes. */
static uint8_t *host_gzip(const void *data, size_t len, const char *flags, size_t *gz_len)
{
    char dir[] = "/tmp/enso-gunzip-XXXXXX", in[64], out[64], cmd[256];
    uint8_t *gz = NULL;
    FILE *f;

    if (!mkdtemp(dir))
        return NULL;
    snprintf(in, sizeof(in), "%s/in", dir);
    snprintf(out, sizeof(out), "%s/in.gz", dir);
    snprintf(cmd, sizeof(cmd), "gzip -n -c %s %s > %s", flags, in, out);
    f = fopen(in, "wb");
    if (f && fwrite(data, 1, len, f) == len && fclose(f) == 0 && system(cmd) == 0)
        gz = read_file(out, gz_len);
    unlink(in);
    unlink(out);
    rmdir(dir);
    return gz;
}

/* BTYPE of the first block of a member with a plain 10-byte header. */
static unsigned int first_block_type(const uint8_t *gz)
{
    return (gz[10] >> 1) & 3;
}

/* Words from a made-up vocabulary: text that compresses like text does. */
static uint8_t *make_text(size_t len)
{
    char words[400][12];
    uint8_t *buf = malloc(len);
    size_t pos = 0;

    for (int i = 0; i < 400; i++) {
        int n = 1 + (int)(rnd() % 10);

        for (int j = 0; j < n; j++)
            words[i][j] = (char)('a' + rnd() % 26);
        words[i][n] = 0;
    }
    while (pos < len) {
        /* Zipf-like: low-numbered words are much more common. */
        const char *w = words[(rnd() % 400) * (rnd() % 400) / 400];
        uint64_t r = rnd() % 16;
        const char *sep = r == 0 ? ".\n" : r == 1 ? ", " : " ";

        for (; *w && pos < len; w++)
            buf[pos++] = (uint8_t)*w;
        for (; *sep && pos < len; sep++)
            buf[pos++] = (uint8_t)*sep;
    }
    return buf;
}

/* Runs with every period from 1 to 16, between random bytes: matches at short distances. */
static uint8_t *make_periodic(size_t len)
{
    uint8_t *buf = malloc(len);
    size_t pos = 0;

    while (pos < len) {
        size_t period = 1 + rnd() % 16, run = 8 + rnd() % 600, noise = rnd() % 24;

        for (size_t i = 0; i < period && pos < len; i++)
            buf[pos++] = (uint8_t)rnd();
        for (size_t i = period; i < run && pos < len; i++, pos++)
            buf[pos] = buf[pos - period];
        for (size_t i = 0; i < noise && pos < len; i++)
            buf[pos++] = (uint8_t)rnd();
    }
    return buf;
}

static uint8_t *make_random(size_t len)
{
    uint8_t *buf = malloc(len);

    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)rnd();
    return buf;
}

/* --- DEFLATE streams written by hand --- */

struct bits {
    uint8_t buf[2048];
    size_t n; /* bits written */
};

/* Fields go least significant bit first... */
static void put(struct bits *b, uint32_t val, unsigned int n)
{
    for (unsigned int i = 0; i < n; i++, b->n++) {
        if ((val >> i) & 1)
            b->buf[b->n / 8] |= (uint8_t)(1u << (b->n % 8));
    }
}

/* ...and Huffman codes most significant bit first. */
static void put_code(struct bits *b, uint32_t code, unsigned int len)
{
    while (len--)
        put(b, (code >> len) & 1, 1);
}

static void canonical_codes(const uint8_t *lens, unsigned int n, uint16_t *codes)
{
    unsigned int count[16] = { 0 }, next[16], code = 0;

    for (unsigned int i = 0; i < n; i++)
        count[lens[i]]++;
    count[0] = 0;
    for (unsigned int len = 1; len < 16; len++) {
        code = (code + count[len - 1]) << 1;
        next[len] = code;
    }
    for (unsigned int i = 0; i < n; i++)
        codes[i] = lens[i] ? (uint16_t)next[lens[i]]++ : 0;
}

/* A code set and its codes, for writing symbols. */
struct code {
    uint8_t lens[288];
    uint16_t codes[288];
};

static void put_sym(struct bits *b, const struct code *c, unsigned int sym)
{
    put_code(b, c->codes[sym], c->lens[sym]);
}

static void fixed_codes(struct code *lit, struct code *dist)
{
    for (unsigned int i = 0; i < 288; i++)
        lit->lens[i] = i < 144 ? 8 : i < 256 ? 9 : i < 280 ? 7 : 8;
    canonical_codes(lit->lens, 288, lit->codes);
    memset(dist->lens, 5, 32);
    canonical_codes(dist->lens, 32, dist->codes);
}

/* Wrap a DEFLATE stream in a plain header and a trailer that matches want. */
static uint8_t *wrap(const struct bits *b, const void *want, size_t want_len, size_t *len)
{
    static const uint8_t header[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };
    size_t n = (b->n + 7) / 8;
    uint8_t *gz = malloc(10 + n + 8);
    uint32_t crc = crc32(0, want, want_len), size = (uint32_t)want_len;

    memcpy(gz, header, 10);
    memcpy(gz + 10, b->buf, n);
    for (int i = 0; i < 4; i++) {
        gz[10 + n + i] = (uint8_t)(crc >> (8 * i));
        gz[14 + n + i] = (uint8_t)(size >> (8 * i));
    }
    *len = 10 + n + 8;
    return gz;
}

/* want == NULL: expect -EINVAL with reason; otherwise expect exactly want. */
static bool hand_case(const struct bits *b, const char *want, const char *reason)
{
    size_t len;
    uint8_t *gz = wrap(b, want, want ? strlen(want) : 0, &len);
    bool ok = want ? round_trip(gz, len, want, strlen(want)) : rejects(gz, len, 64, reason);

    free(gz);
    return ok;
}

/* A code-length code of all 19 symbols: 0..12 get 4 bits, 13..18 get 5 (complete). */
static void default_cl_lens(uint8_t *cl)
{
    for (int i = 0; i < 19; i++)
        cl[i] = i < 13 ? 4 : 5;
}

struct cl_item {
    uint8_t sym, extra;
};

/*
 * Header of a dynamic block: HLIT/HDIST as given (raw field values), all 19
 * code-length code lengths, then the code-length symbols in items.
 */
static void put_dynamic_header(struct bits *b, bool final, unsigned int hlit,
                               unsigned int hdist, const uint8_t *cl_lens,
                               const struct cl_item *items, size_t n)
{
    static const uint8_t order[19] = { 16, 17, 18, 0, 8, 7, 9, 6, 10, 5,
                                       11, 4, 12, 3, 13, 2, 14, 1, 15 };
    static const uint8_t extra_bits[19] = { [16] = 2, [17] = 3, [18] = 7 };
    struct code cl;

    memcpy(cl.lens, cl_lens, 19);
    canonical_codes(cl.lens, 19, cl.codes);
    put(b, final, 1);
    put(b, 2, 2);
    put(b, hlit, 5);
    put(b, hdist, 5);
    put(b, 15, 4);
    for (int i = 0; i < 19; i++)
        put(b, cl.lens[order[i]], 3);
    for (size_t i = 0; i < n; i++) {
        put_sym(b, &cl, items[i].sym);
        put(b, items[i].extra, extra_bits[items[i].sym]);
    }
}

/* Dynamic block header listing every length plainly; fills lit and dist for writing. */
static void put_dynamic_lens(struct bits *b, bool final, struct code *lit,
                             unsigned int nlit, struct code *dist, unsigned int ndist)
{
    struct cl_item items[320];
    uint8_t cl[19];
    size_t n = 0;

    for (unsigned int i = 0; i < nlit; i++)
        items[n++] = (struct cl_item){ lit->lens[i], 0 };
    for (unsigned int i = 0; i < ndist; i++)
        items[n++] = (struct cl_item){ dist->lens[i], 0 };
    default_cl_lens(cl);
    put_dynamic_header(b, final, nlit - 257, ndist - 1, cl, items, n);
    canonical_codes(lit->lens, nlit, lit->codes);
    canonical_codes(dist->lens, ndist, dist->codes);
}

/* Literal/length code: 'a', 'b', end of block, length 3 (257), two bits each. */
static void abc_lit(struct code *lit)
{
    memset(lit, 0, sizeof(*lit));
    lit->lens['a'] = lit->lens['b'] = lit->lens[256] = lit->lens[257] = 2;
}

/* --- tests --- */

TEST(probe)
{
    static const uint8_t good[] = { 0x1f, 0x8b, 8 }, deflate64[] = { 0x1f, 0x8b, 9 };

    CHECK(gunzip_probe(good, 3));
    CHECK(!gunzip_probe(good, 2));
    CHECK(!gunzip_probe(deflate64, 3));
    CHECK(!gunzip_probe("\x7f" "ELF", 4));
}

TEST(empty_file)
{
    size_t gz_len, len = 1;
    uint8_t *gz = host_gzip("", 0, "-9", &gz_len);
    const char *why = "not set";

    CHECK(gz != NULL);
    CHECK(round_trip(gz, gz_len, "", 0));
    /* No output buffer at all is fine when nothing comes out. */
    CHECK_EQ(gunzip(gz, gz_len, NULL, 0, &len, &why), 0);
    CHECK_EQ(len, 0);
    CHECK(why == NULL);
    free(gz);
}

TEST(tiny_text_fixed_block)
{
    static const char text[] = "Hello, hello, hello world! Hello, hello, world!\n";
    size_t gz_len;
    uint8_t *gz = host_gzip(text, strlen(text), "-9", &gz_len);

    CHECK(gz != NULL);
    CHECK_EQ(first_block_type(gz), 1);
    CHECK(round_trip(gz, gz_len, text, strlen(text)));
    free(gz);
}

TEST(random_mib_stored_blocks)
{
    size_t len = 1 << 20, gz_len;
    uint8_t *data = make_random(len), *gz = host_gzip(data, len, "-9", &gz_len);

    CHECK(gz != NULL);
    CHECK_EQ(first_block_type(gz), 0);
    CHECK(round_trip(gz, gz_len, data, len));
    free(gz);
    free(data);
}

static void text_level(const char *level)
{
    size_t len = 3 << 20, gz_len;
    uint8_t *data = make_text(len), *gz = host_gzip(data, len, level, &gz_len);

    CHECK(gz != NULL);
    CHECK(gz_len < len / 2);
    CHECK_EQ(first_block_type(gz), 2);
    CHECK(round_trip(gz, gz_len, data, len));
    free(gz);
    free(data);
}

static unsigned int yields;

static void count_yield(void)
{
    yields++;
}

/* Huffman-coded data stops for others at every LONG_WORK_BYTES of output
 * (long_work.h); the output is the same. */
TEST(preemption_points)
{
    size_t len = 3 << 20, gz_len, got;
    uint8_t *data = make_text(len), *gz = host_gzip(data, len, "-6", &gz_len), *out;
    const char *why;

    CHECK(gz != NULL);
    yields = 0;
    long_work_hook = count_yield;
    CHECK_EQ(decode(gz, gz_len, len, &out, &got, &why), 0);
    long_work_hook = NULL;
    CHECK(got == len && !memcmp(out, data, len));
    /* Boundaries that fall between two deflate blocks are not seen: a few fewer. */
    CHECK(yields >= len / LONG_WORK_BYTES * 3 / 4);
    CHECK(yields <= len / LONG_WORK_BYTES);
    free(out);
    free(gz);
    free(data);
}

TEST(text_gzip_1)
{
    text_level("-1");
}

TEST(text_gzip_9)
{
    text_level("-9");
}

TEST(short_period_matches)
{
    size_t len = 1 << 20, gz_len;
    uint8_t *data = make_periodic(len), *gz = host_gzip(data, len, "-6", &gz_len);

    CHECK(gz != NULL);
    CHECK(round_trip(gz, gz_len, data, len));
    free(gz);
    free(data);
}

/* Every output size around the real one: -ENOSPC below it, success from it up. */
TEST(every_output_size)
{
    size_t len = 3000, gz_len;
    uint8_t *data = make_periodic(len), *gz = host_gzip(data, len, "-9", &gz_len);

    CHECK(gz != NULL);
    for (size_t cap = 0; cap <= len + 20; cap++) {
        uint8_t *out;
        size_t out_len;
        const char *why;
        int rc = decode(gz, gz_len, cap, &out, &out_len, &why);
        bool same = rc == 0 && out_len == len && memcmp(out, data, len) == 0;

        free(out);
        if (cap < len)
            CHECK_EQ(rc, -ENOSPC);
        else
            CHECK(same);
    }
    free(gz);
    free(data);
}

/* A member with FTEXT, FHCRC, FEXTRA, FNAME and FCOMMENT, around host gzip's stream. */
static uint8_t *fancy_member(const char *text, size_t *len)
{
    static const uint8_t extra[] = { 'A', 'p', 4, 0, 1, 2, 3, 4 };
    static const char name[] = "vmlinux", comment[] = "built for enso";
    size_t gz_len, n = 0;
    uint8_t *gz = host_gzip(text, strlen(text), "-9", &gz_len), *m;
    uint32_t hcrc;

    if (!gz || gz[3] != 0)
        return NULL;
    m = malloc(gz_len + 64);
    memcpy(m, gz, 10);
    m[3] = 0x01 | 0x02 | 0x04 | 0x08 | 0x10;
    n = 10;
    m[n++] = sizeof(extra);
    m[n++] = 0;
    memcpy(m + n, extra, sizeof(extra));
    n += sizeof(extra);
    memcpy(m + n, name, sizeof(name));
    n += sizeof(name);
    memcpy(m + n, comment, sizeof(comment));
    n += sizeof(comment);
    hcrc = crc32(0, m, n);
    m[n++] = (uint8_t)hcrc;
    m[n++] = (uint8_t)(hcrc >> 8);
    memcpy(m + n, gz + 10, gz_len - 10);
    *len = n + gz_len - 10;
    free(gz);
    return m;
}

TEST(header_fields)
{
    static const char text[] = "optional header fields are skipped, not decoded\n";
    size_t len;
    uint8_t *m = fancy_member(text, &len);
    size_t hcrc_at = 10 + 2 + 8 + 8 + 15;

    CHECK(m != NULL);
    CHECK(round_trip(m, len, text, strlen(text)));

    m[hcrc_at] ^= 1;
    CHECK(rejects(m, len, 64, "gzip: header CRC mismatch"));
    m[hcrc_at] ^= 1;

    /* The name is under the header CRC: a change there is caught too. */
    m[23] ^= 0x20;
    CHECK(rejects(m, len, 64, "gzip: header CRC mismatch"));
    m[23] ^= 0x20;

    for (int bit = 5; bit < 8; bit++) {
        m[3] ^= (uint8_t)(1 << bit);
        CHECK(rejects(m, len, 64, "gzip: reserved header flags set"));
        m[3] ^= (uint8_t)(1 << bit);
    }
    m[2] = 9;
    CHECK(rejects(m, len, 64, "gzip: unsupported compression method"));
    m[2] = 8;
    m[1] = 0x8c;
    CHECK(rejects(m, len, 64, "gzip: bad magic"));
    m[1] = 0x8b;
    CHECK(round_trip(m, len, text, strlen(text)));
    free(m);
}

TEST(extra_field_past_end)
{
    /* XLEN claims more bytes than the input holds. */
    static const uint8_t m[] = { 0x1f, 0x8b, 8, 0x04, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 1, 2 };
    static const uint8_t name[] = { 0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 3, 'a', 'b' };

    CHECK(rejects(m, sizeof(m), 64, "gzip: truncated input"));
    CHECK(rejects(name, sizeof(name), 64, "gzip: truncated input"));
}

TEST(trailer)
{
    static const char text[] = "the trailer holds a CRC-32 and the length mod 2^32\n";
    size_t gz_len, len = strlen(text);
    uint8_t *gz = host_gzip(text, len, "-9", &gz_len), *two;

    CHECK(gz != NULL);
    gz[gz_len - 8] ^= 0x80;
    CHECK(rejects(gz, gz_len, 64, "gzip: CRC mismatch"));
    gz[gz_len - 8] ^= 0x80;
    gz[gz_len - 4]++;
    CHECK(rejects(gz, gz_len, 64, "gzip: length mismatch"));
    gz[gz_len - 4]--;

    /* Bytes after the member, even a second member, are not looked at. */
    two = malloc(2 * gz_len);
    memcpy(two, gz, gz_len);
    memcpy(two + gz_len, gz, gz_len);
    CHECK(round_trip(two, 2 * gz_len, text, len));
    memset(two + gz_len, 0xa5, gz_len);
    CHECK(round_trip(two, 2 * gz_len, text, len));
    free(two);
    free(gz);
}

TEST(stored_blocks_by_hand)
{
    struct bits b = { 0 };

    /* "abc", an empty block, then "defg" (final); each aligned to a byte. */
    put(&b, 0, 1);
    put(&b, 0, 2);
    b.n = 8;
    put(&b, 3, 16);
    put(&b, 0xfffc, 16);
    put(&b, 'a' | 'b' << 8 | 'c' << 16, 24);
    put(&b, 0, 3);
    b.n = ROUND8(b.n);
    put(&b, 0, 16);
    put(&b, 0xffff, 16);
    put(&b, 1, 1);
    put(&b, 0, 2);
    b.n = ROUND8(b.n);
    put(&b, 4, 16);
    put(&b, 0xfffb, 16);
    put(&b, 'd' | 'e' << 8 | 'f' << 16 | (uint32_t)'g' << 24, 32);
    CHECK(hand_case(&b, "abcdefg", NULL));

    memset(&b, 0, sizeof(b));
    put(&b, 1, 1);
    put(&b, 0, 2);
    b.n = 8;
    put(&b, 3, 16);
    put(&b, 0xfffd, 16); /* should be ~3 = 0xfffc */
    put(&b, 'a' | 'b' << 8 | 'c' << 16, 24);
    CHECK(hand_case(&b, NULL, "gzip: stored block length mismatch"));

    /* LEN larger than what is left of the input. */
    memset(&b, 0, sizeof(b));
    put(&b, 1, 1);
    put(&b, 0, 2);
    b.n = 8;
    put(&b, 100, 16);
    put(&b, 100 ^ 0xffff, 16);
    CHECK(hand_case(&b, NULL, "gzip: truncated input"));
}

TEST(bad_block_type)
{
    struct bits b = { 0 };

    put(&b, 1, 1);
    put(&b, 3, 2);
    CHECK(hand_case(&b, NULL, "gzip: bad block type"));
}

TEST(fixed_blocks_by_hand)
{
    struct code lit, dist;
    struct bits b = { 0 };

    fixed_codes(&lit, &dist);
    /* "x", then length 4 at distance 1 (overlapping), then 9-bit literal 0xff. */
    put(&b, 1, 1);
    put(&b, 1, 2);
    put_sym(&b, &lit, 'x');
    put_sym(&b, &lit, 258);
    put_sym(&b, &dist, 0);
    put_sym(&b, &lit, 0xff);
    put_sym(&b, &lit, 256);
    CHECK(hand_case(&b, "xxxxx\xff", NULL));

    /* Length 258 (symbol 285) at distance 2. */
    memset(&b, 0, sizeof(b));
    put(&b, 1, 1);
    put(&b, 1, 2);
    put_sym(&b, &lit, 'x');
    put_sym(&b, &lit, 'y');
    put_sym(&b, &lit, 285);
    put_sym(&b, &dist, 1);
    put_sym(&b, &lit, 256);
    char want[261];
    for (int i = 0; i < 260; i++)
        want[i] = i & 1 ? 'y' : 'x';
    want[260] = 0;
    CHECK(hand_case(&b, want, NULL));

    /* Distance 2 with a single byte written so far. */
    memset(&b, 0, sizeof(b));
    put(&b, 1, 1);
    put(&b, 1, 2);
    put_sym(&b, &lit, 'x');
    put_sym(&b, &lit, 257);
    put_sym(&b, &dist, 1);
    put_sym(&b, &lit, 256);
    CHECK(hand_case(&b, NULL, "gzip: distance too far back"));

    /* The fixed code has symbols that must never appear. */
    for (unsigned int sym = 286; sym < 288; sym++) {
        memset(&b, 0, sizeof(b));
        put(&b, 1, 1);
        put(&b, 1, 2);
        put_sym(&b, &lit, 'x');
        put_sym(&b, &lit, sym);
        put(&b, 0, 32);
        CHECK(hand_case(&b, NULL, "gzip: bad length code"));
    }
    for (unsigned int sym = 30; sym < 32; sym++) {
        memset(&b, 0, sizeof(b));
        put(&b, 1, 1);
        put(&b, 1, 2);
        put_sym(&b, &lit, 'x');
        put_sym(&b, &lit, 257);
        put_sym(&b, &dist, sym);
        put(&b, 0, 32);
        CHECK(hand_case(&b, NULL, "gzip: bad distance code"));
    }

    /* A non-final fixed block followed by a final one. */
    memset(&b, 0, sizeof(b));
    put(&b, 0, 1);
    put(&b, 1, 2);
    put_sym(&b, &lit, 'p');
    put_sym(&b, &lit, 256);
    put(&b, 1, 1);
    put(&b, 1, 2);
    put_sym(&b, &lit, 'q');
    put_sym(&b, &lit, 257);
    put_sym(&b, &dist, 1);
    put_sym(&b, &lit, 256);
    CHECK(hand_case(&b, "pqpqp", NULL));
}

/* Blocks of each type after one another: each must decode with its own codes. */
TEST(mixed_blocks)
{
    struct code fixed_lit, fixed_dist, lit, dist = { 0 };
    struct bits b = { 0 };

    fixed_codes(&fixed_lit, &fixed_dist);
    abc_lit(&lit);
    dist.lens[0] = dist.lens[1] = 1;
    for (int round = 0; round < 2; round++) {
        put(&b, 0, 1);
        put(&b, 1, 2);
        put_sym(&b, &fixed_lit, 'x');
        put_sym(&b, &fixed_lit, 256);
        put_dynamic_lens(&b, false, &lit, 258, &dist, 2);
        put_sym(&b, &lit, 'a');
        put_sym(&b, &lit, 'b');
        put_sym(&b, &lit, 257);
        put_sym(&b, &dist, 1);
        put_sym(&b, &lit, 256);
        put(&b, 0, 3);
        b.n = ROUND8(b.n);
        put(&b, 1, 16);
        put(&b, 0xfffe, 16);
        put(&b, 'y', 8);
    }
    put(&b, 1, 1);
    put(&b, 1, 2);
    put_sym(&b, &fixed_lit, 'z');
    put_sym(&b, &fixed_lit, 256);
    CHECK(hand_case(&b, "xababay" "xababay" "z", NULL));
}

/* A dynamic block with abc_lit() and the given distance lengths, writing syms. */
static bool dynamic_case(const uint8_t *dist_lens, unsigned int ndist,
                         const unsigned int *syms, size_t nsyms, const char *want,
                         const char *reason)
{
    struct code lit, dist = { 0 };
    struct bits b = { 0 };

    abc_lit(&lit);
    memcpy(dist.lens, dist_lens, ndist);
    put_dynamic_lens(&b, true, &lit, 258, &dist, ndist);
    for (size_t i = 0; i < nsyms; i++) {
        /* Values >= 1000 are distance symbols. */
        if (syms[i] >= 1000)
            put_sym(&b, &dist, syms[i] - 1000);
        else
            put_sym(&b, &lit, syms[i]);
    }
    if (!want)
        put(&b, 0, 32); /* so that the error is not a truncation */
    return hand_case(&b, want, reason);
}

TEST(dynamic_code_sets)
{
    static const unsigned int ab_match[] = { 'a', 'b', 257, 1001, 256 };
    static const unsigned int ab_run[] = { 'a', 'b', 257, 1000, 256 };
    static const unsigned int ab_only[] = { 'a', 'b', 256 };
    static const uint8_t one_code_d1[] = { 0, 1 }, one_code_d0[] = { 1 };
    static const uint8_t none[] = { 0 }, four[] = { 2, 2, 2, 2 };

    CHECK(dynamic_case(four, 4, ab_match, 5, "ababa", NULL));
    /* Zlib accepts a distance code set of a single one-bit code, and so must we. */
    CHECK(dynamic_case(one_code_d1, 2, ab_match, 5, "ababa", NULL));
    CHECK(dynamic_case(one_code_d0, 1, ab_run, 5, "abbbb", NULL));
    /* No distance codes at all is fine for a block of literals... */
    CHECK(dynamic_case(none, 1, ab_only, 3, "ab", NULL));
    /* ...but not once a match needs one (its code reads as zeros here). */
    CHECK(dynamic_case(none, 1, ab_run, 4, NULL, "gzip: bad Huffman code"));

    static const uint8_t single_two_bit[] = { 2 }, incomplete[] = { 1, 2 };
    static const uint8_t over[] = { 1, 1, 1 }, over_long[] = { 1, 1, 15 };
    CHECK(dynamic_case(single_two_bit, 1, ab_only, 3, NULL, "gzip: bad distance code set"));
    CHECK(dynamic_case(incomplete, 2, ab_only, 3, NULL, "gzip: bad distance code set"));
    CHECK(dynamic_case(over, 3, ab_only, 3, NULL, "gzip: bad distance code set"));
    CHECK(dynamic_case(over_long, 3, ab_only, 3, NULL, "gzip: bad distance code set"));
}

TEST(dynamic_literal_sets)
{
    struct code lit = { 0 }, dist = { 0 };
    struct bits b = { 0 };

    /* Three two-bit codes: incomplete. */
    lit.lens['a'] = lit.lens['b'] = lit.lens[256] = 2;
    dist.lens[0] = 1;
    put_dynamic_lens(&b, true, &lit, 257, &dist, 1);
    CHECK(hand_case(&b, NULL, "gzip: bad literal/length code"));

    /* Five two-bit codes: over-subscribed. */
    memset(&b, 0, sizeof(b));
    lit.lens['c'] = lit.lens['d'] = 2;
    put_dynamic_lens(&b, true, &lit, 257, &dist, 1);
    CHECK(hand_case(&b, NULL, "gzip: bad literal/length code"));

    /* No end-of-block code. */
    memset(&b, 0, sizeof(b));
    memset(&lit, 0, sizeof(lit));
    lit.lens['a'] = lit.lens['b'] = 1;
    put_dynamic_lens(&b, true, &lit, 257, &dist, 1);
    CHECK(hand_case(&b, NULL, "gzip: no end-of-block code"));

    /* Only an end-of-block code, one bit long: zlib takes it, an empty block. */
    memset(&b, 0, sizeof(b));
    memset(&lit, 0, sizeof(lit));
    lit.lens[256] = 1;
    put_dynamic_lens(&b, true, &lit, 257, &dist, 1);
    put_sym(&b, &lit, 256);
    CHECK(hand_case(&b, "", NULL));

    /* Codes of all lengths 1..15, so some take the slow (longer than table) path. */
    memset(&b, 0, sizeof(b));
    memset(&lit, 0, sizeof(lit));
    for (unsigned int i = 0; i < 14; i++)
        lit.lens['a' + i] = (uint8_t)(i + 1);
    lit.lens['z'] = 15;
    lit.lens[256] = 15;
    put_dynamic_lens(&b, true, &lit, 257, &dist, 1);
    for (unsigned int i = 0; i < 14; i++)
        put_sym(&b, &lit, 'a' + i);
    put_sym(&b, &lit, 'z');
    put_sym(&b, &lit, 'n');
    put_sym(&b, &lit, 256);
    CHECK(hand_case(&b, "abcdefghijklmnzn", NULL));

    /* Cut inside a long code, the missing bits must not be taken for zeros. */
    size_t len;
    uint8_t *gz = wrap(&b, "abcdefghijklmnzn", 16, &len);
    for (size_t cut = 0; cut < len; cut++)
        CHECK(rejects(gz, cut, 64, "gzip: truncated input"));
    free(gz);
}

TEST(dynamic_header_limits)
{
    struct code lit, dist = { 0 };
    struct bits b = { 0 };
    uint8_t cl[19];
    struct cl_item zeros[] = { { 18, 127 }, { 18, 127 }, { 18, 127 } };

    default_cl_lens(cl);
    /* HLIT 30 (287 codes) and HDIST 30 (31 codes) are beyond the alphabets. */
    put_dynamic_header(&b, true, 30, 0, cl, zeros, 3);
    CHECK(hand_case(&b, NULL, "gzip: too many length or distance codes"));
    memset(&b, 0, sizeof(b));
    put_dynamic_header(&b, true, 0, 30, cl, zeros, 3);
    CHECK(hand_case(&b, NULL, "gzip: too many length or distance codes"));

    /* A code-length code that is incomplete, over-subscribed, or empty. */
    memset(&b, 0, sizeof(b));
    cl[18] = 0;
    put_dynamic_header(&b, true, 0, 0, cl, zeros, 0);
    put(&b, 0, 32);
    CHECK(hand_case(&b, NULL, "gzip: bad code-length code"));
    memset(&b, 0, sizeof(b));
    memset(cl, 4, sizeof(cl));
    put_dynamic_header(&b, true, 0, 0, cl, zeros, 0);
    put(&b, 0, 32);
    CHECK(hand_case(&b, NULL, "gzip: bad code-length code"));
    memset(&b, 0, sizeof(b));
    memset(cl, 0, sizeof(cl));
    put_dynamic_header(&b, true, 0, 0, cl, zeros, 0);
    put(&b, 0, 32);
    CHECK(hand_case(&b, NULL, "gzip: bad code-length code"));

    /* Repeats: of nothing, and past the end of the 259 lengths, by each repeat code. */
    default_cl_lens(cl);
    struct cl_item first_repeat[] = { { 16, 0 } };
    struct cl_item long_zeros[] = { { 18, 127 }, { 18, 127 } };
    struct cl_item last_zeros[] = { { 18, 127 }, { 18, 106 }, { 1, 0 }, { 17, 1 } };
    struct cl_item last_copies[] = { { 18, 127 }, { 18, 106 }, { 1, 0 }, { 16, 1 } };
    struct {
        struct cl_item *items;
        size_t n;
        const char *reason;
    } bad[] = {
        { first_repeat, 1, "gzip: length repeat with no previous length" },
        { long_zeros, 2, "gzip: code lengths run past the end" },
        { last_zeros, 4, "gzip: code lengths run past the end" },
        { last_copies, 4, "gzip: code lengths run past the end" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        memset(&b, 0, sizeof(b));
        put_dynamic_header(&b, true, 1, 0, cl, bad[i].items, bad[i].n);
        put(&b, 0, 32);
        CHECK(hand_case(&b, NULL, bad[i].reason));
    }

    /*
     * Repeats may run from the literal/length lengths into the distance lengths:
     * 'a' 'b' 256 257 all 2 bits, and 257's length copied on into distances 0..3.
     */
    struct cl_item across[] = {
        { 18, 97 - 11 }, { 2, 0 }, { 2, 0 }, { 18, 127 }, { 18, 19 - 11 },
        { 2, 0 }, { 16, 5 - 3 },
    };
    memset(&b, 0, sizeof(b));
    put_dynamic_header(&b, true, 1, 3, cl, across, ARRAY_SIZE(across));
    abc_lit(&lit);
    canonical_codes(lit.lens, 258, lit.codes);
    memset(dist.lens, 2, 4);
    canonical_codes(dist.lens, 4, dist.codes);
    put_sym(&b, &lit, 'a');
    put_sym(&b, &lit, 'b');
    put_sym(&b, &lit, 257);
    put_sym(&b, &dist, 1);
    put_sym(&b, &lit, 257);
    put_sym(&b, &dist, 0);
    put_sym(&b, &lit, 256);
    CHECK(hand_case(&b, "ababaaaa", NULL));
}

/* Members for the hostile-input tests, with the bytes each decodes to. */
struct sample {
    uint8_t *gz, *data;
    size_t gz_len, len;
};

static bool make_samples(struct sample *s)
{
    static const char tiny[] = "a tiny member: one fixed-Huffman block, tiny tiny\n";

    s[0].len = 6000;
    s[0].data = make_text(s[0].len);
    s[0].gz = host_gzip(s[0].data, s[0].len, "-9", &s[0].gz_len);
    s[1].len = 5000;
    s[1].data = make_periodic(s[1].len);
    s[1].gz = host_gzip(s[1].data, s[1].len, "-1", &s[1].gz_len);
    s[2].len = 700;
    s[2].data = make_random(s[2].len);
    s[2].gz = host_gzip(s[2].data, s[2].len, "-9", &s[2].gz_len);
    s[3].len = strlen(tiny);
    s[3].data = (uint8_t *)strdup(tiny);
    s[3].gz = fancy_member(tiny, &s[3].gz_len);
    for (int i = 0; i < 4; i++) {
        if (!s[i].gz)
            return false;
    }
    return true;
}

static void free_samples(struct sample *s)
{
    for (int i = 0; i < 4; i++) {
        free(s[i].gz);
        free(s[i].data);
    }
}

TEST(every_truncation)
{
    struct sample s[4];

    CHECK(make_samples(s));
    for (int i = 0; i < 4; i++) {
        for (size_t cut = 0; cut < s[i].gz_len; cut++)
            CHECK(rejects(s[i].gz, cut, s[i].len, "gzip: truncated input"));
        CHECK(round_trip(s[i].gz, s[i].gz_len, s[i].data, s[i].len));
    }
    free_samples(s);
}

/* Any result but a crash; success only with the right bytes (the CRC is checked). */
static bool sane(const uint8_t *in, size_t in_len, size_t cap, const struct sample *orig)
{
    uint8_t *out;
    size_t len;
    const char *why;
    int rc = decode(in, in_len, cap, &out, &len, &why);
    bool ok;

    if (rc == 0)
        ok = !orig || (len == orig->len && memcmp(out, orig->data, len) == 0);
    else
        ok = (rc == -EINVAL || rc == -ENOSPC) && why && strncmp(why, "gzip: ", 6) == 0;
    if (!ok)
        printf("  rc %d len %zu why %s\n", rc, len, why ? why : "(null)");
    free(out);
    return ok;
}

TEST(random_bit_flips)
{
    struct sample s[4];
    int failures = 0;

    CHECK(make_samples(s));
    for (int iter = 0; iter < 4000; iter++) {
        const struct sample *sm = &s[iter % 4];
        uint8_t *gz = malloc(sm->gz_len);
        int flips = 1 + (int)(rnd() % 4);

        memcpy(gz, sm->gz, sm->gz_len);
        for (int f = 0; f < flips; f++) {
            size_t bit = rnd() % (sm->gz_len * 8);

            gz[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        /* Room for longer output too, so that corrupt matches get to run. */
        if (!sane(gz, sm->gz_len, 2 * sm->len, sm))
            failures++;
        if (iter % 16 == 0 && !sane(gz, sm->gz_len, sm->len / 2, sm))
            failures++;
        free(gz);
    }
    free_samples(s);
    CHECK_EQ(failures, 0);
}

TEST(random_garbage)
{
    int failures = 0;

    for (int iter = 0; iter < 4000; iter++) {
        size_t len = rnd() % 700;
        uint8_t *in = make_random(len ? len : 1);

        /* Mostly a valid header, so the DEFLATE decoder sees the garbage. */
        if (iter % 8 && len >= 11) {
            memcpy(in, "\x1f\x8b\x08\x00\0\0\0\0\0\x03", 10);
            /* Every third one a dynamic block, to reach the code-set checks. */
            if (iter % 3 == 0)
                in[10] = (uint8_t)((in[10] & ~6) | 4);
        }
        if (!sane(in, len, rnd() % 4096, NULL))
            failures++;
        free(in);
    }
    CHECK_EQ(failures, 0);
}
