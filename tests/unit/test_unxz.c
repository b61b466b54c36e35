/*
 * Tests of the .xz decompressor: files made by the host's xz with Linux's options and
 * many others, damaged copies of them, and LZMA2 chunks and x86 BCJ data made by hand.
 */
#include <enso/crc.h>
#include <enso/errno.h>
#include <enso/long_work.h>
#include <enso/unxz.h>
#include <stdint.h>
#include <unistd.h>
#include "harness.h"

/* What scripts/xz_wrap.sh in Linux passes to xz for x86 kernels. */
#define LINUX_XZ_OPTS "--check=crc32 --x86 --lzma2=,dict=32MiB"

struct blob {
    uint8_t *p;
    size_t n;
};

static char workdir[64];

/*
 * Test data is never freed one by one (a failing CHECK returns early): it is kept
 * reachable here, so the leak checker stays quiet, and dropped by pool_release().
 */
static void *pool[1024];
static size_t pool_nr;

static void *pool_alloc(size_t n)
{
    void *p = malloc(n + 1);

    if (!p || pool_nr == ARRAY_SIZE(pool)) {
        printf("test_unxz: out of test memory\n");
        exit(1);
    }
    pool[pool_nr++] = p;
    return p;
}

static void pool_release(void)
{
    while (pool_nr)
        free(pool[--pool_nr]);
}

static const char *work(void)
{
    if (!workdir[0]) {
        strcpy(workdir, "/tmp/enso-unxz-XXXXXX");
        if (!mkdtemp(workdir)) {
            perror("mkdtemp");
            exit(1);
        }
    }
    return workdir;
}

__attribute__((destructor)) static void remove_workdir(void)
{
    char cmd[128];

    if (workdir[0]) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", workdir);
        if (system(cmd))
            fprintf(stderr, "could not remove %s\n", workdir);
    }
}

static bool put_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(p, 1, n, f) == n;

    if (f && fclose(f))
        ok = false;
    return ok;
}

static struct blob get_file(const char *path)
{
    struct blob b = { NULL, 0 };
    FILE *f = fopen(path, "rb");
    long n;

    if (!f)
        return b;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        b.p = pool_alloc((size_t)n);
        b.n = (size_t)n;
        if (fread(b.p, 1, b.n, f) != b.n)
            b.p = NULL;
    }
    fclose(f);
    return b;
}

/* data compressed by the host's xz with opts; p is NULL if that failed. */
static struct blob xz(const void *data, size_t n, const char *opts)
{
    char in[96], out[96], cmd[512];
    struct blob b = { NULL, 0 };

    snprintf(in, sizeof(in), "%s/plain", work());
    snprintf(out, sizeof(out), "%s/packed.xz", work());
    snprintf(cmd, sizeof(cmd), "xz -q -c %s '%s' > '%s'", opts, in, out);
    if (!put_file(in, data, n) || system(cmd) != 0) {
        printf("  failed: %s\n", cmd);
        return b;
    }
    b = get_file(out);
    if (!b.p || b.n < 32) {
        printf("  no output from: %s\n", cmd);
        b.p = NULL;
    }
    return b;
}

static struct blob join(struct blob a, struct blob b)
{
    struct blob j = { pool_alloc(a.n + b.n), a.n + b.n };

    memcpy(j.p, a.p, a.n);
    memcpy(j.p + a.n, b.p, b.n);
    return j;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

/* Text lines, runs of random bytes and repeats of earlier stretches, like a kernel. */
static struct blob mixed_data(size_t n, uint64_t seed)
{
    static const char *const words[] = {
        "the", "page", "table", "domain", "event", "channel", "grant", "hypercall", "vcpu",
        "interrupt", "memory", "mapping", "kernel", "enso", "xen", "of", "and", "to",
    };
    struct blob b = { pool_alloc(n), n };
    size_t pos = 0;

    rng_state = seed;
    while (pos < n) {
        unsigned int kind = rng() % 8;
        size_t len = 0;

        if (kind < 5) {
            char line[160];
            int words_nr = 3 + rng() % 12;

            for (int i = 0; i < words_nr; i++)
                len += (size_t)snprintf(line + len, sizeof(line) - len, "%s ",
                                        words[rng() % ARRAY_SIZE(words)]);
            line[len - 1] = '\n';
            len = MIN(len, n - pos);
            memcpy(b.p + pos, line, len);
        } else if (kind == 5) {
            len = 64 + rng() % 16384;
            len = MIN(len, n - pos);
            for (size_t i = 0; i < len; i++)
                b.p[pos + i] = (uint8_t)rng();
        } else if (pos > 0) {
            size_t from = rng() % pos;

            len = 1 + rng() % 4096;
            len = MIN(len, MIN(pos - from, n - pos));
            memmove(b.p + pos, b.p + from, len);
        }
        pos += len;
    }
    return b;
}

/* The host's gcc: x86 machine code with plenty of calls for the BCJ filter. */
static struct blob x86_binary(void)
{
    struct blob b = get_file("/usr/bin/gcc");

    if (!b.p || b.n < 100000) {
        printf("  cannot read /usr/bin/gcc\n");
        b.p = NULL;
    }
    return b;
}

static int decode(const struct blob *in, size_t cap, struct blob *out, const char **why)
{
    out->p = malloc(cap + 1);
    out->n = 0xdead;
    return unxz(in->p, in->n, out->p, cap, &out->n, why);
}

/* True if in decompresses to exactly want, with an output buffer of want's size. */
static bool round_trips(const struct blob *in, const struct blob *want)
{
    struct blob out;
    const char *why = "unset";
    int ret = decode(in, want->n, &out, &why);
    bool ok = ret == 0 && out.n == want->n && !memcmp(out.p, want->p, want->n) && !why;

    if (!ok)
        printf("  unxz: %d (%s), %zu of %zu bytes\n", ret, why ? why : "-", out.n, want->n);
    free(out.p);
    return ok;
}

/* The result and message of decompressing in into a buffer of cap bytes. */
static int unxz_cap(const struct blob *in, size_t cap, const char **why)
{
    struct blob out;
    int ret = decode(in, cap, &out, why);

    free(out.p);
    return ret;
}

/* Compress data with opts and check it comes back, also with no byte to spare. */
static bool xz_round_trips(const struct blob *data, const char *opts)
{
    struct blob packed = xz(data->p, data->n, opts);
    const char *why;
    bool ok = packed.p && round_trips(&packed, data);

    if (ok && data->n && unxz_cap(&packed, data->n - 1, &why) != -ENOSPC) {
        printf("  one byte short did not give -ENOSPC\n");
        ok = false;
    }
    return ok;
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Store the CRC32 of p[0..n) after it, as every xz structure does. */
static void fix_crc(uint8_t *p, size_t n)
{
    put_le32(p + n, crc32(0, p, n));
}

/* Length of the variable-length integer at p. */
static size_t vli_len(const uint8_t *p)
{
    size_t n = 1;

    while (p[n - 1] & 0x80)
        n++;
    return n;
}

/* Offsets of a single-stream file's parts. */
static size_t block_header_size(const struct blob *b) { return (b->p[12] + 1u) * 4; }
static size_t footer_at(const struct blob *b) { return b->n - 12; }
static size_t index_size(const struct blob *b) { return (get_le32(b->p + b->n - 8) + 1) * 4; }
static size_t index_at(const struct blob *b) { return footer_at(b) - index_size(b); }

static bool why_has(const char *why, const char *part)
{
    if (why && strstr(why, part))
        return true;
    printf("  message \"%s\", expected \"%s\"\n", why ? why : "(none)", part);
    return false;
}

/* The mixed data shared by several tests, made once and kept outside the pool. */
static struct blob mixed(void)
{
    static struct blob b;

    if (!b.p) {
        struct blob t = mixed_data(3 << 20, 1);

        b.p = malloc(t.n);
        b.n = t.n;
        memcpy(b.p, t.p, t.n);
    }
    return b;
}

TEST(probe_needs_whole_magic)
{
    static const uint8_t magic[] = { 0xfd, '7', 'z', 'X', 'Z', 0x00, 0x00 };
    static const uint8_t gzip[] = { 0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00 };

    CHECK(unxz_probe(magic, 6));
    CHECK(unxz_probe(magic, sizeof(magic)));
    CHECK(!unxz_probe(magic, 5));
    CHECK(!unxz_probe(magic, 0));
    CHECK(!unxz_probe(gzip, sizeof(gzip)));
}

TEST(not_xz_rejected)
{
    static const uint8_t gzip[] = { 0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00 };
    uint8_t out[16];
    size_t len = 7;
    const char *why = NULL;

    CHECK_EQ(unxz(gzip, sizeof(gzip), out, sizeof(out), &len, &why), -EINVAL);
    CHECK(why_has(why, "not an xz file"));
    CHECK_EQ(len, 7); /* untouched on failure */
    CHECK_EQ(unxz(gzip, 0, out, sizeof(out), &len, NULL), -EINVAL);
}

TEST(empty_file)
{
    struct blob packed = xz("", 0, "");
    uint8_t out[4];
    size_t len = 99;
    const char *why = "unset";

    CHECK(packed.p);
    CHECK_EQ(unxz(packed.p, packed.n, NULL, 0, &len, &why), 0);
    CHECK_EQ(len, 0);
    CHECK(!why);
    len = 99;
    CHECK_EQ(unxz(packed.p, packed.n, out, sizeof(out), &len, NULL), 0);
    CHECK_EQ(len, 0);
    pool_release();
}

TEST(tiny_text)
{
    static const char text[] = "enso unpacks the kernel, then the kernel runs.\n";
    struct blob data = { (uint8_t *)text, sizeof(text) - 1 };

    CHECK(xz_round_trips(&data, ""));
    CHECK(xz_round_trips(&data, LINUX_XZ_OPTS));
    pool_release();
}

TEST(linux_options)
{
    struct blob data = mixed(), packed = xz(data.p, data.n, LINUX_XZ_OPTS);
    const char *why;

    CHECK(packed.p);
    CHECK(round_trips(&packed, &data));
    CHECK_EQ(unxz_cap(&packed, data.n - 1, &why), -ENOSPC);
    CHECK(why_has(why, "too small"));
    CHECK_EQ(unxz_cap(&packed, 0, &why), -ENOSPC);
    CHECK_EQ(unxz_cap(&packed, data.n + 4096, &why), 0);
    pool_release();
}

static unsigned int yields;

static void count_yield(void)
{
    yields++;
}

/* While enso rebuilds a domain in idle time the decoder stops at every LONG_WORK_BYTES
 * of output to let guests run (long_work.h); the output must not notice. */
TEST(preemption_points)
{
    size_t n = 4 << 20, len = 0;
    struct blob data = { pool_alloc(n), n }, packed, out;
    const char *why;

    while (len < n) /* compressible text: every chunk is LZMA, none stored */
        len += (size_t)snprintf((char *)data.p + len, n - len + 1, "line %zu of a page\n",
                                len % 9973);
    packed = xz(data.p, n, LINUX_XZ_OPTS);
    CHECK(packed.p);
    yields = 0;
    long_work_hook = count_yield;
    CHECK_EQ(decode(&packed, n, &out, &why), 0);
    long_work_hook = NULL;
    CHECK(out.n == n && !memcmp(out.p, data.p, n));
    free(out.p);
    /* A boundary that falls exactly on a chunk's start is not seen: a few fewer. */
    CHECK(yields >= n / LONG_WORK_BYTES * 3 / 4);
    CHECK(yields < n / LONG_WORK_BYTES);
    pool_release();
}

TEST(check_types)
{
    struct blob data = mixed();

    CHECK(xz_round_trips(&data, "--check=crc64"));
    CHECK(xz_round_trips(&data, "--check=none"));
    CHECK(xz_round_trips(&data, "--check=sha256"));
    pool_release();
}

TEST(presets)
{
    struct blob data = mixed();

    CHECK(xz_round_trips(&data, "-0"));
    CHECK(xz_round_trips(&data, "-9e"));
    pool_release();
}

TEST(literal_properties)
{
    struct blob data = mixed();

    CHECK(xz_round_trips(&data, "--lzma2=lc=4,lp=0"));
    CHECK(xz_round_trips(&data, "--lzma2=lc=0,lp=4,pb=4"));
    CHECK(xz_round_trips(&data, "--lzma2=lc=1,lp=2,pb=0,mf=hc3"));
    pool_release();
}

TEST(multi_block)
{
    struct blob data = mixed();

    CHECK(xz_round_trips(&data, "--block-size=100KiB"));
    /* The threaded encoder also records both sizes in each block header. */
    CHECK(xz_round_trips(&data, "-T2 --block-size=100KiB --check=crc32"));
    pool_release();
}

TEST(concatenated_streams)
{
    struct blob a = mixed_data(200000, 2), b = mixed_data(150000, 3);
    struct blob pa = xz(a.p, a.n, LINUX_XZ_OPTS), pb = xz(b.p, b.n, "--check=crc64");
    struct blob pe = xz("", 0, "--check=none");
    static const uint8_t zeros[8], linux_size[4] = { 0x40, 0x42, 0x0f, 0x00 };
    struct blob z4 = { (uint8_t *)zeros, 4 }, z3 = { (uint8_t *)zeros, 3 };
    struct blob z8 = { (uint8_t *)zeros, 8 }, size = { (uint8_t *)linux_size, 4 };
    struct blob ab = join(a, b), both = join(pa, pb), padded, bad;
    const char *why;

    CHECK(pa.p && pb.p && pe.p);
    CHECK(round_trips(&both, &ab));

    /* Stream padding, an empty stream in between, padding at the end. */
    padded = join(join(join(join(pa, z4), pe), pb), z8);
    CHECK(round_trips(&padded, &ab));

    /* Padding that is not a multiple of four. */
    bad = join(join(pa, z3), pb);
    CHECK_EQ(unxz_cap(&bad, ab.n, &why), -EINVAL);
    CHECK(why_has(why, "padding"));
    bad = join(pa, z3);
    CHECK_EQ(unxz_cap(&bad, ab.n, &why), -EINVAL);

    /* Strict: Linux's trailing uncompressed size must be stripped by the caller. */
    bad = join(pa, size);
    CHECK_EQ(unxz_cap(&bad, ab.n, &why), -EINVAL);
    CHECK(why_has(why, "trailing garbage"));
    bad = join(both, (struct blob){ (uint8_t *)"garbage!", 8 });
    CHECK_EQ(unxz_cap(&bad, ab.n, &why), -EINVAL);
    pool_release();
}

TEST(x86_code_through_bcj)
{
    struct blob elf = x86_binary(), packed, filtered;
    size_t hsize, used, differ = 0;
    const uint8_t *h;
    const char *why = NULL;

    CHECK(elf.p);
    packed = xz(elf.p, elf.n, LINUX_XZ_OPTS);
    CHECK(packed.p);
    CHECK(round_trips(&packed, &elf));

    /*
     * Decode the block's LZMA2 data alone: the result must be the filtered bytes, which
     * differ from the binary (calls were converted) and turn back into it.
     */
    h = packed.p + 12;
    hsize = block_header_size(&packed);
    CHECK_EQ(h[1], 0x01);                     /* two filters, no sizes */
    CHECK(h[2] == 0x04 && h[3] == 0x00);      /* x86 BCJ, no start offset */
    CHECK(h[4] == 0x21 && h[5] == 0x01);      /* LZMA2 with its property byte */
    filtered.p = pool_alloc(elf.n);
    CHECK_EQ(lzma2_decode(h + hsize, packed.n - 12 - hsize, &used, filtered.p, elf.n,
                          &filtered.n, h[6], &why), 0);
    CHECK_EQ(filtered.n, elf.n);
    for (size_t i = 0; i < elf.n; i++)
        differ += filtered.p[i] != elf.p[i];
    printf("  BCJ changed %zu of %zu bytes\n", differ, elf.n);
    CHECK(differ > 10000);
    bcj_x86_decode(filtered.p, filtered.n, 0);
    CHECK(!memcmp(filtered.p, elf.p, elf.n));

    CHECK(xz_round_trips(&elf, "--x86=start=19088743 --lzma2 --check=crc64"));
    CHECK(xz_round_trips(&elf, "-T2 --block-size=200000 --x86 --lzma2=preset=1"));
    pool_release();
}

/* Calls, jumps and 00/ff bytes packed together, to drive the filter's history. */
TEST(bcj_dense_opcodes)
{
    static const uint8_t alphabet[] = { 0xe8, 0xe9, 0x00, 0xff, 0x00, 0xff, 0x12, 0xe8 };
    struct blob data = { pool_alloc(300000), 300000 };

    rng_state = 7;
    for (size_t i = 0; i < data.n; i++)
        data.p[i] = alphabet[rng() % sizeof(alphabet)];
    CHECK(xz_round_trips(&data, "--x86 --lzma2"));
    CHECK(xz_round_trips(&data, "--x86=start=4294967040 --lzma2"));
    for (size_t i = 0; i < data.n; i++)
        data.p[i] = (rng() & 3) ? alphabet[rng() % sizeof(alphabet)] : (uint8_t)rng();
    CHECK(xz_round_trips(&data, "--x86=start=3 --lzma2 --check=crc64"));
    pool_release();
}

TEST(bcj_by_hand)
{
    uint8_t call[] = { 0xe8, 0x00, 0x00, 0x00, 0x00, 0x90 };
    uint8_t tail[] = { 0x90, 0x90, 0xe8, 0x00, 0x00, 0x00 };
    uint8_t jmp[] = { 0xe9, 0x10, 0x00, 0x00, 0x00 };

    /* Absolute 0 at position 0: relative to the next instruction at 5, that is -5. */
    bcj_x86_decode(call, sizeof(call), 0);
    CHECK(call[1] == 0xfb && call[2] == 0xff && call[3] == 0xff && call[4] == 0xff);
    /* A call whose displacement would run past the end is left alone. */
    bcj_x86_decode(tail, sizeof(tail), 0);
    CHECK(tail[3] == 0x00 && tail[4] == 0x00 && tail[5] == 0x00);
    /* The start offset counts as position: absolute 0x10 at 0x100 + 5. */
    bcj_x86_decode(jmp, sizeof(jmp), 0x100);
    CHECK_EQ(get_le32(jmp + 1), (uint32_t)(0x10 - 0x105));
    bcj_x86_decode(jmp, 4, 0); /* too short to hold a call: nothing happens */
    CHECK_EQ(get_le32(jmp + 1), (uint32_t)(0x10 - 0x105));
}

TEST(unsupported_filters)
{
    struct blob data = mixed_data(50000, 4), packed;
    const char *why;

    packed = xz(data.p, data.n, "--delta=dist=4 --lzma2");
    CHECK(packed.p);
    CHECK_EQ(unxz_cap(&packed, data.n, &why), -EINVAL);
    CHECK(why_has(why, "unsupported filter 0x3"));

    packed = xz(data.p, data.n, "--arm --lzma2");
    CHECK(packed.p);
    CHECK_EQ(unxz_cap(&packed, data.n, &why), -EINVAL);
    CHECK(why_has(why, "unsupported filter 0x7"));

    /* LZMA2 first and x86 second is not a chain xz can make or enso accepts. */
    packed = xz(data.p, data.n, "--x86 --lzma2");
    CHECK(packed.p);
    CHECK(packed.p[14] == 0x04 && packed.p[15] == 0x00);
    CHECK(packed.p[16] == 0x21 && packed.p[17] == 0x01);
    packed.p[14] = 0x21;
    packed.p[15] = 0x01;
    packed.p[16] = packed.p[18];
    packed.p[17] = 0x04;
    packed.p[18] = 0x00;
    fix_crc(packed.p + 12, block_header_size(&packed) - 4);
    CHECK_EQ(unxz_cap(&packed, data.n, &why), -EINVAL);
    CHECK(why_has(why, "filter chain"));
    pool_release();
}

TEST(every_truncation_fails)
{
    static const char text[] = "a short file, cut at every length in turn\n";
    struct blob small = { (uint8_t *)text, sizeof(text) - 1 };
    struct blob mid = mixed_data(20000, 5);
    const char *opts[] = { LINUX_XZ_OPTS, "--check=crc64", "--check=none -T2 --block-size=5000" };

    for (unsigned int k = 0; k < ARRAY_SIZE(opts); k++) {
        for (int which = 0; which < 2; which++) {
            struct blob data = which ? mid : small;
            struct blob packed = xz(data.p, data.n, opts[k]);

            CHECK(packed.p);
            CHECK(round_trips(&packed, &data));
            for (size_t cut = 0; cut < packed.n; cut++) {
                struct blob part = { packed.p, cut };
                const char *why = NULL;
                int ret = unxz_cap(&part, data.n, &why);

                if (ret != -EINVAL) {
                    printf("  %s: cut at %zu gave %d\n", opts[k], cut, ret);
                    CHECK_EQ(ret, -EINVAL);
                }
                CHECK(why);
            }
        }
    }
    pool_release();
}

/* Copy of b, for damaging. */
static struct blob dup_blob(struct blob b)
{
    struct blob c = { pool_alloc(b.n), b.n };

    memcpy(c.p, b.p, b.n);
    return c;
}

/* Expect in to fail with a message containing part. */
static bool fails_with(const struct blob *in, size_t cap, const char *part)
{
    const char *why = NULL;
    int ret = unxz_cap(in, cap, &why);

    if (ret != -EINVAL) {
        printf("  gave %d, expected -EINVAL (%s)\n", ret, part);
        return false;
    }
    return why_has(why, part);
}

/* Damage that keeps every CRC right, so the structure checks must catch it. */
TEST(container_damage_with_good_crcs)
{
    struct blob data = mixed_data(300000, 6);
    struct blob one = xz(data.p, data.n, "--check=crc64");
    struct blob sized = xz(data.p, data.n, "-T2 --block-size=100KiB --check=crc32");
    struct blob c;
    size_t p, hs;

    CHECK(one.p && sized.p);
    CHECK(round_trips(&one, &data));
    CHECK(round_trips(&sized, &data));

    c = dup_blob(one); /* a reserved check type */
    c.p[7] = 0x02;
    fix_crc(c.p + 6, 2);
    CHECK(fails_with(&c, data.n, "unsupported check"));

    c = dup_blob(one); /* a reserved stream flag */
    c.p[6] = 0x01;
    fix_crc(c.p + 6, 2);
    CHECK(fails_with(&c, data.n, "stream flags"));

    c = dup_blob(one); /* a reserved block flag */
    hs = block_header_size(&c);
    c.p[13] |= 0x08;
    fix_crc(c.p + 12, hs - 4);
    CHECK(fails_with(&c, data.n, "block flags"));

    c = dup_blob(one); /* non-zero block header padding */
    c.p[12 + hs - 5] = 0x01;
    fix_crc(c.p + 12, hs - 4);
    CHECK(fails_with(&c, data.n, "padding"));

    c = dup_blob(one); /* LZMA2 dictionary size beyond 4 GiB */
    CHECK(c.p[14] == 0x21 && c.p[15] == 0x01);
    c.p[16] = 41;
    fix_crc(c.p + 12, hs - 4);
    CHECK(fails_with(&c, data.n, "dictionary size"));

    /* Block header sizes that disagree with the data: compressed, then uncompressed. */
    c = dup_blob(sized);
    CHECK_EQ(c.p[13], 0xc0);
    for (p = 14; c.p[p] & 0x80; p++)
        ;
    CHECK((c.p[14] & 0x7f) != 0x7f);
    c.p[14]++;
    fix_crc(c.p + 12, block_header_size(&c) - 4);
    CHECK(fails_with(&c, data.n, "size mismatch"));
    c = dup_blob(sized);
    CHECK((c.p[p + 1] & 0x7f) != 0x7f);
    c.p[p + 1]++;
    fix_crc(c.p + 12, block_header_size(&c) - 4);
    CHECK(fails_with(&c, data.n, "size mismatch"));

    /* The index: a wrong record count, a wrong uncompressed size. */
    c = dup_blob(one);
    p = index_at(&c);
    CHECK(c.p[p] == 0x00 && c.p[p + 1] == 0x01);
    c.p[p + 1] = 0x02;
    fix_crc(c.p + p, index_size(&c) - 4);
    CHECK(fails_with(&c, data.n, "index does not match"));
    c = dup_blob(one);
    for (p += 2; c.p[p] & 0x80; p++) /* skip the unpadded size */
        ;
    p++;
    CHECK((c.p[p] & 0x7f) != 0x7f);
    c.p[p]++;
    fix_crc(c.p + index_at(&c), index_size(&c) - 4);
    CHECK(fails_with(&c, data.n, "index does not match"));

    /* Records swapped: the sums still agree, the order does not. */
    c = dup_blob(sized);
    p = index_at(&c);
    {
        size_t rec1 = p + 2, rec2 = rec1 + vli_len(c.p + rec1);

        rec2 += vli_len(c.p + rec2); /* skip record 1's uncompressed size */
        CHECK_EQ(c.p[p + 1], 3);
        CHECK_EQ(vli_len(c.p + rec1), vli_len(c.p + rec2));
        CHECK(memcmp(c.p + rec1, c.p + rec2, vli_len(c.p + rec1)));
        for (size_t i = 0; i < vli_len(c.p + rec1); i++) {
            uint8_t t = c.p[rec1 + i];

            c.p[rec1 + i] = c.p[rec2 + i];
            c.p[rec2 + i] = t;
        }
        fix_crc(c.p + p, index_size(&c) - 4);
        CHECK(fails_with(&c, data.n, "index does not match"));
    }

    /* The footer: backward size, and flags that differ from the header's. */
    c = dup_blob(one);
    p = footer_at(&c);
    c.p[p + 4]++;
    put_le32(c.p + p, crc32(0, c.p + p + 4, 6)); /* the footer's CRC comes first */
    CHECK(fails_with(&c, data.n, "backward size"));
    c = dup_blob(one);
    c.p[p + 9] = 0x01;
    put_le32(c.p + p, crc32(0, c.p + p + 4, 6)); /* the footer's CRC comes first */
    CHECK(fails_with(&c, data.n, "stream flags mismatch"));
    c = dup_blob(one);
    c.p[p + 10] = 'Z'; /* "ZZ" for "YZ" */
    CHECK(fails_with(&c, data.n, "footer magic"));
    pool_release();
}

TEST(crc_mismatches_reported)
{
    struct blob data = mixed_data(100000, 8);
    struct blob p32 = xz(data.p, data.n, LINUX_XZ_OPTS);
    struct blob p64 = xz(data.p, data.n, "--check=crc64");
    struct blob c;

    CHECK(p32.p && p64.p);
    c = dup_blob(p32);
    c.p[index_at(&c) - 1] ^= 0x40; /* the block's CRC32 */
    CHECK(fails_with(&c, data.n, "CRC32 mismatch"));
    c = dup_blob(p64);
    c.p[index_at(&c) - 8] ^= 0x01; /* the block's CRC64 */
    CHECK(fails_with(&c, data.n, "CRC64 mismatch"));
    c = dup_blob(p32);
    c.p[8] ^= 0x01;
    CHECK(fails_with(&c, data.n, "stream header CRC32"));
    c = dup_blob(p32);
    c.p[20] ^= 0x01;
    CHECK(fails_with(&c, data.n, "block header CRC32"));
    c = dup_blob(p32);
    c.p[c.n - 13] ^= 0x80;
    CHECK(fails_with(&c, data.n, "index CRC32"));
    c = dup_blob(p32);
    c.p[c.n - 12] ^= 0x01;
    CHECK(fails_with(&c, data.n, "footer CRC32"));
    pool_release();
}

/*
 * Damage packed in many places: any result but a crash is fine, except that with a
 * CRC the output must never be wrong when the call succeeds.
 */
static bool survives_damage(const struct blob *packed, const struct blob *data, bool crc)
{
    size_t cap = data->n + 64;
    struct blob c = dup_blob(*packed), out = { pool_alloc(cap), 0 };
    unsigned long tries = 0, ok = 0;
    bool good = true;

    rng_state = packed->n;
    for (unsigned int t = 0; t < 2600 && good; t++) {
        size_t at;
        int ret;

        memcpy(c.p, packed->p, c.n);
        if (t < 640) {
            /* Every bit of the first and last 40 bytes: headers, index, footer. */
            at = t / 8 < 40 ? t / 8 : c.n - 80 + t / 8;
            c.p[at] ^= (uint8_t)(1u << (t % 8));
        } else if (t < 2300) {
            at = rng() % c.n;
            c.p[at] ^= (uint8_t)(1u << (rng() % 8));
        } else {
            at = rng() % c.n;
            for (size_t k = 1 + rng() % 8; k && at < c.n; k--)
                c.p[at++] = (uint8_t)rng();
        }
        out.n = 0;
        ret = unxz(c.p, c.n, out.p, cap, &out.n, NULL);
        tries++;
        if (ret == 0) {
            ok++;
            if (crc && (out.n != data->n || memcmp(out.p, data->p, data->n))) {
                printf("  try %u: success with wrong output\n", t);
                good = false;
            }
        } else if (ret != -EINVAL && ret != -ENOSPC) {
            printf("  try %u: returned %d\n", t, ret);
            good = false;
        }
    }
    printf("  %lu damaged copies, %lu still decoded\n", tries, ok);
    return good;
}

TEST(bit_flips_never_give_wrong_output)
{
    struct blob data = mixed_data(12000, 9), elf = x86_binary();
    struct blob code = { elf.p + elf.n / 2, 12000 };
    struct blob p;

    CHECK(elf.p);
    p = xz(data.p, data.n, LINUX_XZ_OPTS);
    CHECK(p.p && survives_damage(&p, &data, true));
    p = xz(code.p, code.n, LINUX_XZ_OPTS);
    CHECK(p.p && survives_damage(&p, &code, true));
    p = xz(data.p, data.n, "--check=crc64 -T2 --block-size=3000");
    CHECK(p.p && survives_damage(&p, &data, true));
    p = xz(data.p, data.n, "--check=none --lzma2=lc=4,lp=0,pb=0");
    CHECK(p.p && survives_damage(&p, &data, false));
    p = xz(data.p, data.n, "--check=sha256"); /* not verified, so no promise */
    CHECK(p.p && survives_damage(&p, &data, false));
    pool_release();
}

TEST(garbage_never_crashes)
{
    struct blob real = xz("x", 1, LINUX_XZ_OPTS);
    uint8_t buf[4096], out[8192];
    size_t hs, len;

    CHECK(real.p);
    hs = block_header_size(&real);
    rng_state = 11;
    for (int t = 0; t < 3000; t++) {
        size_t n = 1 + rng() % sizeof(buf);
        int ret;

        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)rng();
        if (t % 3 == 1 && n > 12) {
            memcpy(buf, real.p, 12); /* a valid stream header */
        } else if (t % 3 == 2 && n > 12 + hs) {
            memcpy(buf, real.p, 12 + hs); /* and a valid block header: garbage LZMA2 */
            if (n > 12 + hs + 6) {
                /* Often a plausible first LZMA chunk, so the range decoder runs. */
                buf[12 + hs] = 0xe0 | (buf[12 + hs] & 0x1f);
                buf[12 + hs + 3] = (uint8_t)((n - 12 - hs - 6) >> 8);
                buf[12 + hs + 4] = (uint8_t)(n - 12 - hs - 6);
                buf[12 + hs + 5] = 0x5d;
                buf[12 + hs + 6] = 0x00;
            }
        }
        ret = unxz(buf, n, out, rng() % 2 ? sizeof(out) : rng() % 64, &len, NULL);
        CHECK(ret == -EINVAL || ret == -ENOSPC);
    }
    pool_release();
}

/*
 * A minimal LZMA range encoder, for hand-made chunks. Every bit is coded with a fresh
 * model probability (one half), which is what the decoder uses as long as no model
 * entry is used twice - the sequences below are chosen so.
 */
struct enc {
    uint64_t low;
    uint32_t range;
    uint8_t cache;
    size_t pending;
    uint8_t out[64];
    size_t n;
};

static void enc_shift(struct enc *e)
{
    if ((uint32_t)e->low < 0xff000000u || (e->low >> 32)) {
        uint8_t carry = (uint8_t)(e->low >> 32), byte = e->cache;

        do {
            e->out[e->n++] = byte + carry;
            byte = 0xff;
        } while (--e->pending);
        e->cache = (uint8_t)(e->low >> 24);
    }
    e->pending++;
    e->low = (e->low & 0x00ffffff) << 8;
}

static void enc_bits(struct enc *e, uint32_t val, unsigned int bits)
{
    while (bits--) {
        uint32_t bound = (e->range >> 11) * 1024;

        if ((val >> bits) & 1) {
            e->low += bound;
            e->range -= bound;
        } else {
            e->range = bound;
        }
        while (e->range < (1u << 24)) {
            e->range <<= 8;
            enc_shift(e);
        }
    }
}

static void enc_init(struct enc *e)
{
    memset(e, 0, sizeof(*e));
    e->range = UINT32_MAX;
    e->pending = 1;
}

static void enc_flush(struct enc *e)
{
    for (int i = 0; i < 5; i++)
        enc_shift(e);
}

/* 'A' as a literal, then a plain match of len_low + 2 bytes at distance slot + 1. */
static void enc_literal_then_match(struct enc *e, unsigned int len_low, unsigned int slot)
{
    enc_init(e);
    enc_bits(e, 0, 1);    /* is_match: literal */
    enc_bits(e, 'A', 8);
    enc_bits(e, 1, 1);    /* is_match: match */
    enc_bits(e, 0, 1);    /* is_rep: a new distance */
    enc_bits(e, 0, 1);    /* length choice: low */
    enc_bits(e, len_low, 3);
    enc_bits(e, slot, 6); /* distance slot; below 4 it is the distance - 1 itself */
    enc_flush(e);
}

/* An LZMA2 stream of one LZMA chunk (with dictionary reset and lc3 lp0 pb2). */
static size_t lzma2_wrap(uint8_t *dst, const struct enc *e, size_t unpacked, uint8_t ctl)
{
    size_t n = 0;

    dst[n++] = (uint8_t)(ctl | ((unpacked - 1) >> 16));
    dst[n++] = (uint8_t)((unpacked - 1) >> 8);
    dst[n++] = (uint8_t)(unpacked - 1);
    dst[n++] = (uint8_t)((e->n - 1) >> 8);
    dst[n++] = (uint8_t)(e->n - 1);
    if (ctl >= 0xc0)
        dst[n++] = 0x5d; /* (pb 2 * 5 + lp 0) * 9 + lc 3 */
    memcpy(dst + n, e->out, e->n);
    n += e->n;
    dst[n++] = 0x00; /* end of LZMA2 */
    return n;
}

static int lzma2_run(const uint8_t *in, size_t n, uint8_t *out, size_t cap, size_t *len,
                     const char **why)
{
    size_t used = 0;
    int ret;

    *why = NULL;
    ret = lzma2_decode(in, n, &used, out, cap, len, 24, why);
    if (!ret && used != n) {
        printf("  used %zu of %zu bytes\n", used, n);
        return 1;
    }
    return ret;
}

TEST(lzma2_chunks_by_hand)
{
    uint8_t in[128], out[64];
    size_t n, len;
    const char *why;
    struct enc e;

    /* 'A' and a 5-byte match at distance 1: six As. */
    enc_literal_then_match(&e, 3, 0);
    n = lzma2_wrap(in, &e, 6, 0xe0);
    CHECK_EQ(lzma2_run(in, n, out, sizeof(out), &len, &why), 0);
    CHECK_EQ(len, 6);
    CHECK(!memcmp(out, "AAAAAA", 6));
    CHECK_EQ(lzma2_run(in, n, out, 5, &len, &why), -ENOSPC);
    CHECK_EQ(lzma2_run(in, n - 1, out, sizeof(out), &len, &why), -EINVAL); /* no end */
    CHECK(why_has(why, "truncated"));

    /* The same match when the chunk says it holds only four bytes. */
    n = lzma2_wrap(in, &e, 4, 0xe0);
    CHECK_EQ(lzma2_run(in, n, out, sizeof(out), &len, &why), -EINVAL);
    CHECK(why_has(why, "past chunk end"));

    /* One compressed byte more than the coder uses. */
    e.out[e.n++] = 0x00;
    n = lzma2_wrap(in, &e, 6, 0xe0);
    CHECK_EQ(lzma2_run(in, n, out, sizeof(out), &len, &why), -EINVAL);
    CHECK(why_has(why, "corrupt LZMA2 chunk"));

    /* Distance 2 with one byte produced. */
    enc_literal_then_match(&e, 0, 1);
    n = lzma2_wrap(in, &e, 3, 0xe0);
    CHECK_EQ(lzma2_run(in, n, out, sizeof(out), &len, &why), -EINVAL);
    CHECK(why_has(why, "distance beyond data"));

    /* A repeated match (and a one-byte one) before anything was produced. */
    for (unsigned int long_rep = 0; long_rep < 2; long_rep++) {
        enc_init(&e);
        enc_bits(&e, 1, 1);        /* is_match */
        enc_bits(&e, 1, 1);        /* is_rep */
        enc_bits(&e, 0, 1);        /* is_rep0 */
        enc_bits(&e, long_rep, 1); /* is_rep0_long */
        enc_bits(&e, 0, 4);        /* length choice low, 2 bytes */
        enc_flush(&e);
        n = lzma2_wrap(in, &e, 2, 0xe0);
        CHECK_EQ(lzma2_run(in, n, out, sizeof(out), &len, &why), -EINVAL);
        CHECK(why_has(why, "distance beyond data"));
    }

    /* Chunks must begin with a dictionary reset, and LZMA needs properties first. */
    enc_literal_then_match(&e, 3, 0);
    n = lzma2_wrap(in, &e, 6, 0xc0);
    CHECK_EQ(lzma2_run(in, n, out, sizeof(out), &len, &why), -EINVAL);
    CHECK(why_has(why, "without dictionary reset"));
    in[0] = 0x01; /* stored "ABC" */
    in[1] = 0x00;
    in[2] = 0x02;
    memcpy(in + 3, "ABC", 3);
    n = 6 + lzma2_wrap(in + 6, &e, 6, 0xa0);
    CHECK_EQ(lzma2_run(in, n, out, sizeof(out), &len, &why), -EINVAL);
    CHECK(why_has(why, "without properties"));

    /* Stored "ABC", then LZMA copying "AB" from it: one dictionary across chunks. */
    enc_init(&e);
    enc_bits(&e, 1, 1);  /* is_match */
    enc_bits(&e, 0, 1);  /* is_rep */
    enc_bits(&e, 0, 4);  /* length 2 */
    enc_bits(&e, 2, 6);  /* distance 3 */
    enc_flush(&e);
    n = 6 + lzma2_wrap(in + 6, &e, 2, 0xc0);
    CHECK_EQ(lzma2_run(in, n, out, sizeof(out), &len, &why), 0);
    CHECK_EQ(len, 5);
    CHECK(!memcmp(out, "ABCAB", 5));

    /* Bad control bytes, properties and sizes. */
    in[0] = 0x03;
    CHECK_EQ(lzma2_run(in, n, out, sizeof(out), &len, &why), -EINVAL);
    CHECK(why_has(why, "chunk type"));
    enc_literal_then_match(&e, 3, 0);
    n = lzma2_wrap(in, &e, 6, 0xe0);
    in[5] = (4 * 5 + 1) * 9 + 4; /* lc 4 + lp 1 > 4 */
    CHECK_EQ(lzma2_run(in, n, out, sizeof(out), &len, &why), -EINVAL);
    CHECK(why_has(why, "LZMA properties"));
    in[5] = 225;
    CHECK_EQ(lzma2_run(in, n, out, sizeof(out), &len, &why), -EINVAL);
    in[0] = 0x01; /* stored, 0x100 bytes claimed, 8 there */
    in[1] = 0x00;
    in[2] = 0xff;
    CHECK_EQ(lzma2_run(in, 11, out, sizeof(out), &len, &why), -EINVAL);
    CHECK(why_has(why, "truncated"));
    CHECK_EQ(lzma2_decode(in, 1, &n, out, sizeof(out), &len, 41, &why), -EINVAL);
    CHECK(why_has(why, "dictionary size"));
    pool_release();
}
