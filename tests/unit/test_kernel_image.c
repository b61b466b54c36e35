/*
 * Tests of boot module unpacking: plain, gzip and xz ELF images and synthetic bzImages
 * (compressed with the host's gzip and xz, the way Linux's build does it), unsupported
 * compressions, truncations, allocation failures. With ENSO_LINUX_VMLINUZ naming a real
 * vmlinuz, that kernel is unpacked too and its Xen notes are printed.
 */
#include <enso/elf.h>
#include <enso/errno.h>
#include <enso/kernel_image.h>
#include <enso/xen_elfnotes.h>
#include <public/elfnote.h>
#include <unistd.h>
#include "harness.h"

#define ELF_LEN (300 * 1024)
#define SETUP_LEN 4096          /* setup_sects 7: boot sector + 7 sectors */
#define CODE_LEN 0x300          /* protected-mode bytes before the payload */

struct allocs {
    unsigned int allocs, frees, fail;
    size_t bytes;               /* outstanding */
};

static void *t_alloc(void *ctx, size_t bytes)
{
    struct allocs *a = ctx;

    if (a->fail)
        return NULL;
    a->allocs++;
    a->bytes += bytes;
    return malloc(bytes);
}

static void t_free(void *ctx, void *p, size_t bytes)
{
    struct allocs *a = ctx;

    a->frees++;
    a->bytes -= bytes;
    free(p);
}

static uint8_t *elf_bytes;

/* An "ELF": a real header, then text-like and random parts, so both compressors work. */
static const uint8_t *test_elf(void)
{
    uint64_t seed = 42;

    if (elf_bytes)
        return elf_bytes;
    elf_bytes = malloc(ELF_LEN);
    memcpy(elf_bytes, "\177ELF\2\1\1", 7);
    memset(elf_bytes + 7, 0, 57);
    for (size_t i = 64; i < ELF_LEN; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        elf_bytes[i] = (i / 4096) % 2 ? (uint8_t)(seed >> 56) : "mov %rax, %rbx\n"[i % 15];
    }
    return elf_bytes;
}

/* Run "cmd < in > out" with the host's tools; returns the output (malloc'd). */
static uint8_t *host_tool(const char *cmd, const void *in, size_t in_len, size_t *out_len)
{
    char in_name[] = "/tmp/enso-ki-in-XXXXXX", out_name[] = "/tmp/enso-ki-out-XXXXXX";
    char line[512];
    int in_fd = mkstemp(in_name), out_fd = mkstemp(out_name);
    uint8_t *out = NULL;
    FILE *f;
    long n;

    if (in_fd < 0 || out_fd < 0 || write(in_fd, in, in_len) != (ssize_t)in_len)
        goto done;
    snprintf(line, sizeof(line), "%s < %s > %s", cmd, in_name, out_name);
    if (system(line) != 0)
        goto done;
    f = fopen(out_name, "rb");
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    out = malloc(n + 4);           /* room for an appended size */
    if (fread(out, 1, n, f) != (size_t)n) {
        free(out);
        out = NULL;
    }
    fclose(f);
    *out_len = n;
done:
    close(in_fd);
    close(out_fd);
    unlink(in_name);
    unlink(out_name);
    return out;
}

static void append_size(uint8_t *buf, size_t *len, uint32_t size)
{
    memcpy(buf + *len, &size, 4);
    *len += 4;
}

/* A bzImage around payload: 4 KiB setup (setup_sects 7), boot protocol 2.15. */
static uint8_t *make_bzimage(const void *payload, size_t payload_len, uint8_t setup_sects,
                             size_t *len)
{
    size_t setup = ((setup_sects ? setup_sects : 4) + 1) * 512;
    uint8_t *bz;
    uint32_t off = CODE_LEN, plen = (uint32_t)payload_len;

    *len = setup + CODE_LEN + payload_len + 0x100;
    bz = calloc(1, *len);
    bz[0x1f1] = setup_sects;
    bz[0x1fe] = 0x55;
    bz[0x1ff] = 0xaa;
    memcpy(bz + 0x202, "HdrS", 4);
    bz[0x206] = 0x0f;
    bz[0x207] = 0x02;
    memcpy(bz + 0x248, &off, 4);
    memcpy(bz + 0x24c, &plen, 4);
    memset(bz + setup, 0x90, CODE_LEN);
    memcpy(bz + setup + CODE_LEN, payload, payload_len);
    memset(bz + setup + CODE_LEN + payload_len, 0xcc, 0x100);
    return bz;
}

static const void *out;
static size_t out_len;
static bool allocated;
static const char *why;

static int unpack(const void *img, size_t len, struct allocs *a)
{
    out = NULL;
    out_len = 0;
    why = NULL;
    return kernel_image_unpack(img, len, t_alloc, t_free, a, &out, &out_len, &allocated,
                               &why);
}

static bool why_is(const char *want)
{
    if (why && !strcmp(why, want))
        return true;
    printf("  why: \"%s\", want \"%s\"\n", why ? why : "(null)", want);
    return false;
}

static bool is_test_elf(void)
{
    return out_len == ELF_LEN && !memcmp(out, test_elf(), ELF_LEN);
}

/* Release a successful unpack's buffer; true if the books then balance. */
static bool release(struct allocs *a)
{
    if (allocated)
        t_free(a, (void *)out, out_len);
    return a->allocs == a->frees && a->bytes == 0;
}

TEST(plain_elf_in_place)
{
    struct allocs a = { 0 };

    CHECK_EQ(unpack(test_elf(), ELF_LEN, &a), 0);
    CHECK(out == test_elf());
    CHECK_EQ(out_len, ELF_LEN);
    CHECK(!allocated);
    CHECK_EQ(a.allocs, 0);
}

TEST(gzip_elf)
{
    struct allocs a = { 0 };
    size_t len;
    uint8_t *gz = host_tool("gzip -n -9", test_elf(), ELF_LEN, &len);

    CHECK(gz);
    CHECK_EQ(unpack(gz, len, &a), 0);
    CHECK(allocated);
    CHECK(is_test_elf());
    CHECK_EQ(a.allocs, 1);
    CHECK(release(&a));
    free(gz);
}

/* A .xz file as the host's xz writes it: no size appended, it comes from the index. */
TEST(bare_xz_elf)
{
    struct allocs a = { 0 };
    size_t len;
    uint8_t *xz = host_tool("xz -c", test_elf(), ELF_LEN, &len);

    CHECK(xz);
    CHECK_EQ(unpack(xz, len, &a), 0);
    CHECK(allocated);
    CHECK(is_test_elf());
    CHECK(release(&a));
    free(xz);
}

TEST(xz_elf_with_size_appended)
{
    struct allocs a = { 0 };
    size_t len;
    uint8_t *xz = host_tool("xz -c --check=crc32", test_elf(), ELF_LEN, &len);

    CHECK(xz);
    append_size(xz, &len, ELF_LEN);
    CHECK_EQ(unpack(xz, len, &a), 0);
    CHECK(is_test_elf());
    CHECK(release(&a));
    free(xz);
}

static uint8_t *linux_xz(size_t *len)
{
    uint8_t *xz = host_tool("xz -c --check=crc32 --x86 --lzma2=,dict=32MiB", test_elf(),
                            ELF_LEN, len);

    if (xz)
        append_size(xz, len, ELF_LEN);
    return xz;
}

/* What Debian ships: bzImage, xz payload (x86 BCJ, CRC32) with the size appended. */
TEST(bzimage_xz)
{
    struct allocs a = { 0 };
    size_t xz_len, len;
    uint8_t *xz = linux_xz(&xz_len), *bz;

    CHECK(xz);
    bz = make_bzimage(xz, xz_len, 7, &len);
    CHECK_EQ(unpack(bz, len, &a), 0);
    CHECK(allocated);
    CHECK(is_test_elf());
    CHECK(release(&a));
    free(bz);
    free(xz);
}

/* setup_sects 0 means 4; a gzip payload. */
TEST(bzimage_gzip_setup_sects_zero)
{
    struct allocs a = { 0 };
    size_t gz_len, len;
    uint8_t *gz = host_tool("gzip -n", test_elf(), ELF_LEN, &gz_len), *bz;

    CHECK(gz);
    bz = make_bzimage(gz, gz_len, 0, &len);
    CHECK_EQ(unpack(bz, len, &a), 0);
    CHECK(is_test_elf());
    CHECK(release(&a));
    free(bz);
    free(gz);
}

TEST(bzimage_uncompressed_payload_in_place)
{
    struct allocs a = { 0 };
    size_t len;
    uint8_t *bz = make_bzimage(test_elf(), ELF_LEN, 7, &len);

    CHECK_EQ(unpack(bz, len, &a), 0);
    CHECK(!allocated);
    CHECK(out == bz + SETUP_LEN + CODE_LEN);
    CHECK_EQ(out_len, ELF_LEN);
    CHECK_EQ(a.allocs, 0);
    free(bz);
}

TEST(bzimage_header_checks)
{
    struct allocs a = { 0 };
    size_t len;
    uint8_t *bz = make_bzimage(test_elf(), 4096, 7, &len);

    CHECK_EQ(unpack(bz, 0x24f, &a), -EINVAL);
    CHECK(why_is("bzImage: truncated header"));

    bz[0x206] = 0x07;
    CHECK_EQ(unpack(bz, len, &a), -EINVAL);
    CHECK(why_is("bzImage: boot protocol older than 2.08 (no payload fields)"));
    bz[0x206] = 0x0f;

    CHECK_EQ(unpack(bz, SETUP_LEN + CODE_LEN + 4095, &a), -EINVAL);
    CHECK(why_is("bzImage: payload past end of image"));

    memcpy(bz + 0x248, (uint32_t[]){ 0xffffffff }, 4);
    CHECK_EQ(unpack(bz, len, &a), -EINVAL);
    CHECK(why_is("bzImage: payload past end of image"));

    memcpy(bz + 0x248, (uint32_t[]){ CODE_LEN }, 4);
    memcpy(bz + 0x24c, (uint32_t[]){ 0xffffffff }, 4);
    CHECK_EQ(unpack(bz, len, &a), -EINVAL);
    CHECK(why_is("bzImage: payload past end of image"));
    CHECK_EQ(a.allocs, 0);
    free(bz);
}

TEST(unsupported_compressions_named)
{
#define NAMED(name) "kernel: " name "-compressed payload not supported (gzip or xz only)"
    static const struct {
        const char *magic;
        size_t len;
        const char *why;
    } cases[] = {
        { "BZh91AY&SY", 10, NAMED("bzip2") },
        { "\x28\xb5\x2f\xfd\x24\x00", 6, NAMED("zstd") },
        { "\x5d\x00\x00\x00\x04", 5, NAMED("lzma") },
        { "\x89LZO\0\x0d\x0a", 7, NAMED("lzo") },
        { "\x02\x21\x4c\x18", 4, NAMED("lz4") },
    };
    struct allocs a = { 0 };
    uint8_t payload[256];

    for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
        size_t len;
        uint8_t *bz;

        memset(payload, 0x5a, sizeof(payload));
        memcpy(payload, cases[i].magic, cases[i].len);
        bz = make_bzimage(payload, sizeof(payload), 7, &len);
        CHECK_EQ(unpack(bz, len, &a), -EINVAL);
        free(bz);
        CHECK(why_is(cases[i].why));
        CHECK_EQ(unpack(payload, sizeof(payload), &a), -EINVAL);   /* not in a bzImage */
        CHECK(why_is(cases[i].why));
    }
    CHECK_EQ(a.allocs, 0);
}

TEST(unknown_formats)
{
    struct allocs a = { 0 };
    uint8_t junk[600];
    size_t len;
    uint8_t *bz;

    memset(junk, 0x11, sizeof(junk));
    CHECK_EQ(unpack(junk, sizeof(junk), &a), -EINVAL);
    CHECK(why_is("kernel: not an ELF image, a bzImage or a gzip/xz compressed ELF"));
    CHECK_EQ(unpack(junk, 0, &a), -EINVAL);
    bz = make_bzimage(junk, sizeof(junk), 7, &len);
    CHECK_EQ(unpack(bz, len, &a), -EINVAL);
    CHECK(why_is("bzImage: payload is neither ELF nor gzip/xz compressed"));
    free(bz);
}

TEST(alloc_failure)
{
    struct allocs a = { .fail = 1 };
    size_t len;
    uint8_t *xz = linux_xz(&len);

    CHECK(xz);
    CHECK_EQ(unpack(xz, len, &a), -ENOMEM);
    CHECK(!allocated);
    CHECK_EQ(a.allocs, 0);
    CHECK_EQ(a.frees, 0);
    free(xz);
}

TEST(corrupt_payload_freed)
{
    struct allocs a = { 0 };
    size_t len;
    uint8_t *xz = linux_xz(&len);

    CHECK(xz);
    xz[len / 2] ^= 0x40;
    CHECK_EQ(unpack(xz, len, &a), -EINVAL);
    CHECK(why != NULL);
    printf("  corrupt xz: %s\n", why);
    CHECK(!allocated);
    CHECK_EQ(a.allocs, 1);
    CHECK(release(&a));
    free(xz);
}

TEST(recorded_size_must_match)
{
    struct allocs a = { 0 };
    size_t len;
    uint8_t *xz = linux_xz(&len);

    CHECK(xz);
    memcpy(xz + len - 4, (uint32_t[]){ ELF_LEN + 1 }, 4);
    CHECK_EQ(unpack(xz, len, &a), -EINVAL);
    CHECK(why_is("kernel: decompresses to less than its recorded size"));
    CHECK(release(&a));

    memcpy(xz + len - 4, (uint32_t[]){ ELF_LEN - 1 }, 4);
    CHECK_EQ(unpack(xz, len, &a), -EINVAL);
    CHECK(why_is("kernel: decompresses to more than its recorded size"));
    CHECK(release(&a));

    memcpy(xz + len - 4, (uint32_t[]){ 0x40000001 }, 4);
    CHECK_EQ(unpack(xz, len, &a), -EINVAL);
    CHECK(why_is("kernel: uncompressed size over 1 GiB"));

    memcpy(xz + len - 4, (uint32_t[]){ 0 }, 4);
    CHECK_EQ(unpack(xz, len, &a), -EINVAL);
    CHECK(why_is("kernel: recorded uncompressed size is zero"));
    CHECK_EQ(a.allocs, 2);
    free(xz);
}

TEST(decompressed_must_be_elf)
{
    struct allocs a = { 0 };
    size_t len;
    uint8_t *gz = host_tool("gzip -n", test_elf() + 1, ELF_LEN - 1, &len);

    CHECK(gz);
    CHECK_EQ(unpack(gz, len, &a), -EINVAL);
    CHECK(why_is("kernel: decompressed payload is not an ELF image"));
    CHECK(release(&a));
    free(gz);
}

/* Each cut of a bzImage (exactly sized heap copies, for ASan) fails cleanly. */
TEST(truncated_bzimages)
{
    struct allocs a = { 0 };
    size_t xz_len, len;
    uint8_t *xz = linux_xz(&xz_len), *bz;
    unsigned int ok = 0;

    CHECK(xz);
    bz = make_bzimage(xz, xz_len, 7, &len);
    for (size_t n = 0; n < len - 0x100; n += n < 0x300 ? 1 : 997) {
        uint8_t *p = malloc(n ? n : 1);

        memcpy(p, bz, n);
        if (unpack(p, n, &a) == 0)
            ok++;
        free(p);
        CHECK(release(&a));
    }
    CHECK_EQ(ok, 0);
    free(bz);
    free(xz);
}

/* The payload cut short by one byte, the appended size still last. */
TEST(truncated_streams)
{
    struct allocs a = { 0 };
    size_t len;
    uint8_t *xz = linux_xz(&len), *gz;

    CHECK(xz);
    memmove(xz + len - 104, xz + len - 4, 4);         /* 100 bytes of stream gone */
    CHECK_EQ(unpack(xz, len - 100, &a), -EINVAL);
    CHECK(release(&a));
    free(xz);

    gz = host_tool("gzip -n", test_elf(), ELF_LEN, &len);
    CHECK(gz);
    memmove(gz + len - 104, gz + len - 4, 4);
    CHECK_EQ(unpack(gz, len - 100, &a), -EINVAL);
    CHECK(release(&a));
    free(gz);
}

static int print_note(void *ctx, uint32_t type, const void *desc, size_t len)
{
    const uint8_t *d = desc;

    (void)ctx;
    printf("    note %2u, %2zu bytes:", type, len);
    for (size_t i = 0; i < len && i < 16; i++)
        printf(" %02x", d[i]);
    printf("\n");
    return 0;
}

/* Optional: a real Debian vmlinuz, named by $ENSO_LINUX_VMLINUZ. */
TEST(real_vmlinuz)
{
    const char *path = getenv("ENSO_LINUX_VMLINUZ");
    struct allocs a = { 0 };
    struct elf_image elf;
    struct xen_guest_params p;
    uint8_t *img;
    FILE *f;
    long n;

    if (!path || !(f = fopen(path, "rb")))
        return;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    img = malloc(n);
    CHECK(fread(img, 1, n, f) == (size_t)n);
    fclose(f);

    CHECK_EQ(unpack(img, n, &a), 0);
    printf("  %s: %ld bytes -> ELF of %zu bytes\n", path, n, out_len);
    CHECK_EQ(elf_parse(&elf, out, out_len, &why), 0);
    CHECK_EQ(elf_for_each_note(&elf, XEN_ELFNOTE_NAME, print_note, NULL) > 0, 1);
    CHECK_EQ(xen_elfnotes_parse(&elf, &p, &why), 0);
    printf("  guest_os %s, guest_ver %s, xen_ver %s, loader %s, pae %d\n", p.guest_os,
           p.guest_ver, p.xen_ver, p.loader, p.pae);
    printf("  virt_base %#llx paddr_offset %#llx kernel [%#llx, %#llx) entry %#llx\n",
           (unsigned long long)p.virt_base, (unsigned long long)p.elf_paddr_offset,
           (unsigned long long)p.virt_kstart, (unsigned long long)p.virt_kend,
           (unsigned long long)p.virt_entry);
    printf("  hypercall page %s %#llx, p2m %#llx, hv_start_low %#llx, phys32 entry %#x\n",
           p.has_hypercall_page ? "yes" : "no", (unsigned long long)p.virt_hypercall,
           (unsigned long long)p.p2m_base, (unsigned long long)p.virt_hv_start_low,
           p.phys_entry);
    printf("  features supported %#x required %#x, mod_start_pfn %d\n", p.f_supported[0],
           p.f_required[0], p.mod_start_pfn);
    CHECK(!strncmp(p.guest_os, "linux", 5));
    CHECK(p.f_required[0] & 1u << XENFEAT_writable_page_tables);
    CHECK(release(&a));
    free(img);
}
