/*
 * Tests of ELF64 parsing, Xen note interpretation and segment loading, on images built
 * here in memory: a Linux-like PV kernel (its notes as Debian's 6.1 kernel has them),
 * then variations of it, each breaking one rule.
 */
#include <enso/elf.h>
#include <enso/errno.h>
#include <enso/xen_elfnotes.h>
#include <public/elfnote.h>
#include "harness.h"

#define IMG_MAX (1u << 20)
#define NOTES_OFF 0x6000ul
#define TEXT_OFF 0x1000ul
#define DATA_OFF 0x3000ul
#define SHDR_OFF 0x4000ul
#define STRTAB_OFF 0x4800ul
#define GUEST_INFO_OFF 0x4900ul
#define IMG_LEN 0x8000ul

#define KBASE 0xffffffff80000000ull
#define KTEXT 0xffffffff81000000ull     /* paddr 0x1000000 + KBASE */
#define KEND (KTEXT + 0x5000)           /* text 0x2000, data 0x800 + bss to 0x5000 */
#define KENTRY (KTEXT + 0x100)
#define KHYPERCALL (KTEXT + 0x1000)
#define P2M 0x8000000000ull
#define HV_LOW 0xffff800000000000ull

static uint8_t img[IMG_MAX];
static size_t img_len;

static void put(size_t off, const void *p, size_t n)
{
    memcpy(img + off, p, n);
    if (off + n > img_len)
        img_len = off + n;
}

static void put16(size_t off, uint16_t v) { put(off, &v, 2); }
static void put32(size_t off, uint32_t v) { put(off, &v, 4); }
static void put64(size_t off, uint64_t v) { put(off, &v, 8); }

static void ehdr(uint64_t entry, uint16_t phnum, uint16_t shnum)
{
    static const uint8_t ident[16] = { 0x7f, 'E', 'L', 'F', 2, 1, 1 };

    put(0, ident, sizeof(ident));
    put16(16, ET_EXEC);
    put16(18, EM_X86_64);
    put32(20, 1);
    put64(24, entry);
    put64(32, phnum ? 64 : 0);
    put64(40, shnum ? SHDR_OFF : 0);
    put16(52, 64);
    put16(54, 56);
    put16(56, phnum);
    put16(58, 64);
    put16(60, shnum);
    put16(62, shnum ? 1 : 0);
}

static size_t phdr_off(unsigned int i) { return 64 + 56 * i; }

static void phdr(unsigned int i, uint32_t type, uint32_t flags, uint64_t off,
                 uint64_t vaddr, uint64_t paddr, uint64_t filesz, uint64_t memsz)
{
    size_t o = phdr_off(i);

    put32(o, type);
    put32(o + 4, flags);
    put64(o + 8, off);
    put64(o + 16, vaddr);
    put64(o + 24, paddr);
    put64(o + 32, filesz);
    put64(o + 40, memsz);
    put64(o + 48, 0x1000);
}

static void shdr(unsigned int i, uint32_t name, uint32_t type, uint64_t off, uint64_t size)
{
    size_t o = SHDR_OFF + 64 * i;

    put32(o, name);
    put32(o + 4, type);
    put64(o + 24, off);
    put64(o + 32, size);
}

/* One note at off; returns the offset after it (padded). */
static size_t note(size_t off, const char *owner, uint32_t type, const void *desc,
                   uint32_t len)
{
    uint32_t namesz = (uint32_t)strlen(owner) + 1;
    uint8_t zero[8] = { 0 };

    put32(off, namesz);
    put32(off + 4, len);
    put32(off + 8, type);
    off += 12;
    put(off, owner, namesz);
    put(off + namesz, zero, (4 - namesz % 4) % 4);
    off += (namesz + 3) & ~3u;
    put(off, desc, len);
    put(off + len, zero, (4 - len % 4) % 4);
    return off + ((len + 3) & ~3u);
}

struct note_spec {
    uint32_t type;
    const void *desc;
    uint32_t len;
};

static const uint64_t n_virt_base = KBASE, n_paddr_offset = 0, n_entry = KENTRY,
                      n_hypercall = KHYPERCALL, n_p2m = P2M, n_hv_low = HV_LOW,
                      n_phys32 = 0x1000850, n_l1mfn[2] = { 1, 1 };
static const uint32_t n_supported = 0x8801, n_one = 1;
/* Linux writes FEATURES with .ascii: no NUL inside the descriptor, only in its padding. */
static const char n_features[] = "!writable_page_tables|pae_pgdir_above_4gb";

/* The notes of Debian's linux-image-6.1 (plus a hypercall page, as older kernels had). */
static const struct note_spec linux_notes[] = {
    { XEN_ELFNOTE_GUEST_OS, "linux", 6 },
    { XEN_ELFNOTE_GUEST_VERSION, "2.6", 4 },
    { XEN_ELFNOTE_XEN_VERSION, "xen-3.0", 8 },
    { XEN_ELFNOTE_VIRT_BASE, &n_virt_base, 8 },
    { XEN_ELFNOTE_INIT_P2M, &n_p2m, 8 },
    { XEN_ELFNOTE_ENTRY, &n_entry, 8 },
    { XEN_ELFNOTE_HYPERCALL_PAGE, &n_hypercall, 8 },
    { XEN_ELFNOTE_FEATURES, n_features, sizeof(n_features) - 1 },
    { XEN_ELFNOTE_SUPPORTED_FEATURES, &n_supported, 4 },
    { XEN_ELFNOTE_PAE_MODE, "yes", 4 },
    { XEN_ELFNOTE_LOADER, "generic", 8 },
    { XEN_ELFNOTE_L1_MFN_VALID, n_l1mfn, 16 },
    { XEN_ELFNOTE_SUSPEND_CANCEL, &n_one, 4 },
    { XEN_ELFNOTE_MOD_START_PFN, &n_one, 4 },
    { XEN_ELFNOTE_HV_START_LOW, &n_hv_low, 8 },
    { XEN_ELFNOTE_PADDR_OFFSET, &n_paddr_offset, 8 },
    { XEN_ELFNOTE_PHYS32_ENTRY, &n_phys32, 8 },
};

static struct note_spec notes[32];
static unsigned int nr_notes;
static size_t notes_len;                /* of the last build() */

static void use_linux_notes(void)
{
    memcpy(notes, linux_notes, sizeof(linux_notes));
    nr_notes = ARRAY_SIZE(linux_notes);
}

static void drop_note(uint32_t type)
{
    for (unsigned int i = 0; i < nr_notes; i++)
        if (notes[i].type == type)
            notes[i--] = notes[--nr_notes];
}

static void set_note(uint32_t type, const void *desc, uint32_t len)
{
    drop_note(type);
    notes[nr_notes++] = (struct note_spec){ type, desc, len };
}

/* The Xen notes, with a GNU build-id note in the middle; returns the area's size. */
static size_t write_notes(size_t off)
{
    static const uint8_t build_id[20] = { 0xeb, 0x4f };
    size_t start = off;

    for (unsigned int i = 0; i < nr_notes; i++) {
        if (i == 2)
            off = note(off, "GNU", 3, build_id, sizeof(build_id));
        off = note(off, XEN_ELFNOTE_NAME, notes[i].type, notes[i].desc, notes[i].len);
    }
    return off - start;
}

/*
 * Text 0x2000 bytes at paddr 0x1000000, data 0x800 bytes + bss up to 0x5000, and the
 * notes in a PT_NOTE segment. Segment bytes are a pattern, to check the loader.
 */
static void build(void)
{
    memset(img, 0, sizeof(img));
    img_len = 0;
    ehdr(0x1000000, 4, 0);
    notes_len = write_notes(NOTES_OFF);
    phdr(0, PT_LOAD, PF_R | PF_X, TEXT_OFF, KTEXT, 0x1000000, 0x2000, 0x2000);
    phdr(1, PT_LOAD, PF_R | PF_W, DATA_OFF, KTEXT + 0x2000, 0x1002000, 0x800, 0x3000);
    phdr(2, PT_NOTE, PF_R, NOTES_OFF, KTEXT + 0x5000, 0x1005000, notes_len, notes_len);
    phdr(3, PT_LOAD, 0, 0, 0, 0x2000000, 0, 0x1000);     /* no R/W/X: not loaded */
    for (size_t i = TEXT_OFF; i < DATA_OFF + 0x800; i++)
        img[i] = (uint8_t)(i * 7 + 3);
    img_len = IMG_LEN;
}

static struct elf_image elf;
static struct xen_guest_params params;
static const char *why;

static int parse_elf(void)
{
    why = NULL;
    return elf_parse(&elf, img, img_len, &why);
}

static int parse_all(void)
{
    int rc = parse_elf();

    return rc ? rc : xen_elfnotes_parse(&elf, &params, &why);
}

static bool why_is(const char *want)
{
    if (why && !strcmp(why, want))
        return true;
    printf("  why: \"%s\", want \"%s\"\n", why ? why : "(null)", want);
    return false;
}

TEST(linux_like_kernel)
{
    use_linux_notes();
    build();
    CHECK_EQ(parse_all(), 0);
    CHECK_EQ(elf.nr_segments, 2);
    CHECK_EQ(elf.pstart, 0x1000000);
    CHECK_EQ(elf.pend, 0x1005000);
    CHECK_EQ(params.virt_base, KBASE);
    CHECK_EQ(params.elf_paddr_offset, 0);
    CHECK_EQ(params.virt_offset, KBASE);
    CHECK_EQ(params.virt_kstart, KTEXT);
    CHECK_EQ(params.virt_kend, KEND);
    CHECK_EQ(params.virt_entry, KENTRY);
    CHECK(params.has_hypercall_page);
    CHECK_EQ(params.virt_hypercall, KHYPERCALL);
    CHECK(params.has_p2m_base);
    CHECK_EQ(params.p2m_base, P2M);
    CHECK(params.has_hv_start_low);
    CHECK_EQ(params.virt_hv_start_low, HV_LOW);
    CHECK(params.has_phys_entry);
    CHECK_EQ(params.phys_entry, 0x1000850);
    CHECK(params.mod_start_pfn);
    CHECK(params.suspend_cancel);
    CHECK(!params.bsd_symtab);
    CHECK(!params.legacy_guest_info);
    CHECK_EQ(params.pae, XEN_PAE_EXTCR3);
    /* FEATURES: bits 0 (required) and 4; SUPPORTED_FEATURES 0x8801 adds 11 and 15. */
    CHECK_EQ(params.f_supported[0], 0x8811);
    CHECK_EQ(params.f_required[0], 1u << XENFEAT_writable_page_tables);
    CHECK(!strcmp(params.guest_os, "linux"));
    CHECK(!strcmp(params.guest_ver, "2.6"));
    CHECK(!strcmp(params.xen_ver, "xen-3.0"));
    CHECK(!strcmp(params.loader, "generic"));
    CHECK(params.notes_seen & 1u << XEN_ELFNOTE_SUPPORTED_FEATURES);
    CHECK(!(params.notes_seen & 1u << XEN_ELFNOTE_L1_MFN_VALID));   /* Xen ignores it */
    CHECK(!(params.notes_seen & 1u << XEN_ELFNOTE_BSD_SYMTAB));
}

struct note_count {
    unsigned int n, stop_at;
    uint32_t types;
};

static int count_note(void *ctx, uint32_t type, const void *desc, size_t len)
{
    struct note_count *c = ctx;

    (void)desc;
    (void)len;
    c->types |= 1u << (type & 31);
    return ++c->n == c->stop_at ? -E2BIG - 1000 : 0;
}

TEST(note_iterator)
{
    struct note_count c = { 0 };

    use_linux_notes();
    build();
    CHECK_EQ(parse_elf(), 0);
    CHECK_EQ(elf_for_each_note(&elf, "Xen", count_note, &c), (int)ARRAY_SIZE(linux_notes));
    CHECK_EQ(c.n, ARRAY_SIZE(linux_notes));
    CHECK_EQ(c.types, 0x7f7fe);                      /* 1..18 but BSD_SYMTAB (11) */

    memset(&c, 0, sizeof(c));
    CHECK_EQ(elf_for_each_note(&elf, "GNU", count_note, &c), 1);
    CHECK_EQ(c.types, 1u << 3);
    CHECK_EQ(elf_for_each_note(&elf, "Xe", count_note, &c), 0);
    CHECK_EQ(elf_for_each_note(&elf, "Xen!", count_note, &c), 0);

    memset(&c, 0, sizeof(c));
    c.stop_at = 3;                                   /* a callback error stops the walk */
    CHECK_EQ(elf_for_each_note(&elf, "Xen", count_note, &c), -E2BIG - 1000);
    CHECK_EQ(c.n, 3);
}

/* Numbers of other sizes: 4 bytes read as such, 16 bytes read as 0 (as Xen does). */
TEST(numeric_note_sizes)
{
    static const uint32_t base32 = 0x80000000u;
    static const uint64_t wide[2] = { 0x1234, 0 };

    use_linux_notes();
    set_note(XEN_ELFNOTE_VIRT_BASE, &base32, 4);
    set_note(XEN_ELFNOTE_INIT_P2M, wide, 16);
    drop_note(XEN_ELFNOTE_ENTRY);
    drop_note(XEN_ELFNOTE_HYPERCALL_PAGE);
    build();
    put64(24, 0x81000100);               /* e_entry, now used */
    CHECK_EQ(parse_all(), 0);
    CHECK_EQ(params.virt_base, 0x80000000u);
    CHECK_EQ(params.virt_kstart, 0x81000000u);
    CHECK_EQ(params.virt_entry, 0x81000100);
    CHECK_EQ(params.p2m_base, 0);        /* set, to 0: outside the kernel */
    CHECK(params.has_p2m_base);
    CHECK(!params.has_hypercall_page);
    CHECK_EQ(params.virt_hypercall, XEN_UNSET_ADDR);
}

TEST(missing_notes_take_defaults)
{
    use_linux_notes();
    for (uint32_t t = 0; t <= XEN_ELFNOTE_MAX; t++)
        if (t != XEN_ELFNOTE_GUEST_OS && t != XEN_ELFNOTE_XEN_VERSION)
            drop_note(t);
    build();
    put64(24, 0x1000200);
    CHECK_EQ(parse_all(), 0);
    CHECK_EQ(params.virt_base, 0);
    CHECK_EQ(params.elf_paddr_offset, 0);
    CHECK_EQ(params.virt_offset, 0);
    CHECK_EQ(params.virt_kstart, 0x1000000);
    CHECK_EQ(params.virt_kend, 0x1005000);
    CHECK_EQ(params.virt_entry, 0x1000200);
    CHECK(!params.has_hypercall_page && !params.has_p2m_base);
    CHECK(!params.has_hv_start_low && !params.has_phys_entry);
    CHECK(!params.mod_start_pfn);
    CHECK_EQ(params.pae, XEN_PAE_NO);
    CHECK_EQ(params.f_supported[0], 0);
    CHECK_EQ(params.f_required[0], 0);
    CHECK(!strcmp(params.loader, ""));
}

/* PADDR_OFFSET shifts paddrs: paddr = vaddr style kernels with PADDR_OFFSET = VIRT_BASE. */
TEST(paddr_offset_applies)
{
    static const uint64_t off = KBASE;

    use_linux_notes();
    set_note(XEN_ELFNOTE_PADDR_OFFSET, &off, 8);
    build();
    phdr(0, PT_LOAD, PF_R | PF_X, TEXT_OFF, KTEXT, KTEXT, 0x2000, 0x2000);
    phdr(1, PT_LOAD, PF_R | PF_W, DATA_OFF, KTEXT + 0x2000, KTEXT + 0x2000, 0x800, 0x3000);
    CHECK_EQ(parse_all(), 0);
    CHECK_EQ(params.virt_offset, 0);
    CHECK_EQ(params.virt_kstart, KTEXT);
    CHECK_EQ(params.virt_kend, KEND);
}

TEST(paddr_offset_without_virt_base_refused)
{
    use_linux_notes();
    drop_note(XEN_ELFNOTE_VIRT_BASE);
    build();
    CHECK_EQ(parse_all(), -EINVAL);
    CHECK(why_is("Xen notes: PADDR_OFFSET given without VIRT_BASE"));
}

TEST(feature_strings)
{
    static const char f1[] = "dom0|no_such_thing||!auto_translated_physmap";
    static const char f2[] = "pae_pgdir_above_4gb|!no_such_thing";
    /* A 70-character unknown name: Xen reads it as 63 + 7 characters, both ignored. */
    static const char f3[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa|supervisor_mode_kernel";

    use_linux_notes();
    drop_note(XEN_ELFNOTE_SUPPORTED_FEATURES);
    set_note(XEN_ELFNOTE_FEATURES, f1, sizeof(f1));
    build();
    CHECK_EQ(parse_all(), 0);
    CHECK_EQ(params.f_supported[0],
             1u << XENFEAT_dom0 | 1u << XENFEAT_auto_translated_physmap);
    CHECK_EQ(params.f_required[0], 1u << XENFEAT_auto_translated_physmap);

    set_note(XEN_ELFNOTE_FEATURES, f3, sizeof(f3));
    build();
    CHECK_EQ(parse_all(), 0);
    CHECK_EQ(params.f_supported[0], 1u << XENFEAT_supervisor_mode_kernel);

    set_note(XEN_ELFNOTE_FEATURES, f2, sizeof(f2));
    build();
    CHECK_EQ(parse_all(), -EINVAL);
    CHECK(why_is("Xen notes: FEATURES requires a feature enso does not know"));
}

TEST(supported_features_sizes)
{
    static const uint8_t odd[3] = { 0xff, 0xff, 0xff };
    static const uint32_t two[2] = { 1u << XENFEAT_dom0, 0xffffffff };

    use_linux_notes();
    drop_note(XEN_ELFNOTE_FEATURES);
    set_note(XEN_ELFNOTE_SUPPORTED_FEATURES, odd, 3);
    build();
    CHECK_EQ(parse_all(), 0);
    CHECK_EQ(params.f_supported[0], 0);
    CHECK(params.notes_seen & 1u << XEN_ELFNOTE_SUPPORTED_FEATURES);

    set_note(XEN_ELFNOTE_SUPPORTED_FEATURES, two, 8);
    build();
    CHECK_EQ(parse_all(), 0);
    CHECK_EQ(params.f_supported[0], 1u << XENFEAT_dom0);
}

TEST(pae_and_bsd_symtab_strings)
{
    use_linux_notes();
    set_note(XEN_ELFNOTE_PAE_MODE, "bimodal", 8);
    set_note(XEN_ELFNOTE_BSD_SYMTAB, "yes", 4);
    build();
    CHECK_EQ(parse_all(), 0);
    CHECK_EQ(params.pae, XEN_PAE_BIMODAL);
    CHECK(params.bsd_symtab);

    set_note(XEN_ELFNOTE_PAE_MODE, "no", 3);
    set_note(XEN_ELFNOTE_BSD_SYMTAB, "no", 3);
    build();
    CHECK_EQ(parse_all(), 0);
    CHECK_EQ(params.pae, XEN_PAE_NO);
    CHECK(!params.bsd_symtab);
}

/* Strings are kept to 15 characters; acceptance compares prefixes, as in Xen. */
TEST(loader_and_guest_os_rule)
{
    use_linux_notes();
    set_note(XEN_ELFNOTE_LOADER, "elsewhere", 10);
    set_note(XEN_ELFNOTE_GUEST_OS, "linux-with-a-long-name", 23);
    build();
    CHECK_EQ(parse_all(), 0);
    CHECK(!strcmp(params.guest_os, "linux-with-a-lo"));

    drop_note(XEN_ELFNOTE_LOADER);
    set_note(XEN_ELFNOTE_GUEST_OS, "NetBSD", 7);
    build();
    CHECK_EQ(parse_all(), -EINVAL);
    CHECK(why_is("Xen notes: LOADER is not \"generic\" and GUEST_OS not \"linux\""));

    set_note(XEN_ELFNOTE_LOADER, "generic", 8);
    build();
    CHECK_EQ(parse_all(), 0);
    CHECK(!strcmp(params.guest_os, "NetBSD"));
}

TEST(xen_version_rule)
{
    use_linux_notes();
    set_note(XEN_ELFNOTE_XEN_VERSION, "xen-3.0-unstable", 17);
    build();
    CHECK_EQ(parse_all(), 0);

    set_note(XEN_ELFNOTE_XEN_VERSION, "xen-2.0", 8);
    build();
    CHECK_EQ(parse_all(), -EINVAL);
    CHECK(why_is("Xen notes: XEN_VERSION is not \"xen-3.0\""));

    drop_note(XEN_ELFNOTE_XEN_VERSION);
    build();
    CHECK_EQ(parse_all(), -EINVAL);
    CHECK(why_is("Xen notes: XEN_VERSION is not \"xen-3.0\""));
}

TEST(addresses_checked)
{
    static const uint64_t at_end = KEND, before = KTEXT - 1, inside = KTEXT + 0x3000,
                          high_base = KTEXT + 0x1000;

    use_linux_notes();
    set_note(XEN_ELFNOTE_ENTRY, &at_end, 8);
    build();
    CHECK_EQ(parse_all(), -EINVAL);
    CHECK(why_is("Xen notes: entry outside the kernel"));

    set_note(XEN_ELFNOTE_ENTRY, &before, 8);
    build();
    CHECK_EQ(parse_all(), -EINVAL);
    CHECK(why_is("Xen notes: entry outside the kernel"));

    use_linux_notes();
    set_note(XEN_ELFNOTE_HYPERCALL_PAGE, &at_end, 8);
    build();
    CHECK_EQ(parse_all(), -EINVAL);
    CHECK(why_is("Xen notes: hypercall page outside the kernel"));

    use_linux_notes();
    set_note(XEN_ELFNOTE_INIT_P2M, &inside, 8);
    build();
    CHECK_EQ(parse_all(), -EINVAL);
    CHECK(why_is("Xen notes: INIT_P2M inside the kernel"));

    use_linux_notes();
    set_note(XEN_ELFNOTE_VIRT_BASE, &high_base, 8);
    set_note(XEN_ELFNOTE_PADDR_OFFSET, &high_base, 8);   /* kernel stays where it was */
    build();
    phdr(0, PT_LOAD, PF_R | PF_X, TEXT_OFF, KTEXT, KTEXT, 0x2000, 0x2000);
    phdr(1, PT_LOAD, PF_R | PF_W, DATA_OFF, KTEXT + 0x2000, KTEXT + 0x2000, 0x800, 0x3000);
    CHECK_EQ(parse_all(), -EINVAL);
    CHECK(why_is("Xen notes: VIRT_BASE above the kernel's start"));
}

/* A kernel range crossing 2^64 ends "below" its start. */
TEST(kernel_range_wrapping_refused)
{
    static const uint64_t base = 0xfffffffffff00000ull;

    use_linux_notes();
    set_note(XEN_ELFNOTE_VIRT_BASE, &base, 8);
    drop_note(XEN_ELFNOTE_ENTRY);
    drop_note(XEN_ELFNOTE_HYPERCALL_PAGE);
    drop_note(XEN_ELFNOTE_INIT_P2M);
    build();
    phdr(0, PT_LOAD, PF_R | PF_X, TEXT_OFF, 0, 0xf0000, 0x2000, 0x2000);
    phdr(1, PT_LOAD, PF_R | PF_W, DATA_OFF, 0, 0xf2000, 0x800, 0x20000);
    CHECK_EQ(parse_all(), -EINVAL);
    CHECK(why_is("Xen notes: the kernel's address range is empty or wraps"));
}

TEST(no_xen_notes)
{
    nr_notes = 0;
    build();
    CHECK_EQ(parse_all(), -EINVAL);
    CHECK(why_is("kernel has no Xen ELF notes"));

    /* No note segment at all. */
    put32(phdr_off(2), 6 /* PT_PHDR */);
    CHECK_EQ(parse_all(), -EINVAL);
    CHECK(why_is("kernel has no Xen ELF notes"));
}

/* PT_NOTE with p_offset 0 is skipped; SHT_NOTE sections serve when no segment has notes. */
TEST(notes_from_sections)
{
    use_linux_notes();
    build();
    put64(phdr_off(2) + 8, 0);                        /* PT_NOTE p_offset 0 */
    CHECK_EQ(parse_all(), -EINVAL);
    CHECK(why_is("kernel has no Xen ELF notes"));

    ehdr(0x1000000, 4, 3);
    put(STRTAB_OFF, "\0.shstrtab\0.notes\0", 18);
    shdr(1, 1, 3 /* SHT_STRTAB */, STRTAB_OFF, 18);
    shdr(2, 11, SHT_NOTE, NOTES_OFF, notes_len);
    CHECK_EQ(parse_all(), 0);
    CHECK_EQ(params.virt_entry, KENTRY);
    CHECK(!strcmp(params.loader, "generic"));
}

/* Sections are not read when a note segment has Xen notes: a broken one goes unseen. */
TEST(sections_ignored_when_segments_have_notes)
{
    use_linux_notes();
    build();
    ehdr(0x1000000, 4, 2);
    shdr(1, 0, SHT_NOTE, IMG_LEN - 4, 0x100);        /* past the end of the file */
    CHECK_EQ(parse_all(), 0);

    put64(phdr_off(2) + 8, 0);                        /* now the section is needed */
    CHECK_EQ(parse_all(), -EINVAL);
    CHECK(why_is("ELF: malformed note (sizes run outside its segment or section)"));
}

TEST(legacy_xen_guest_section)
{
    static const char info[] =
        "GUEST_OS=linux,XEN_VER=xen-3.0,VIRT_BASE=0xffffffff80000000,"
        "HYPERCALL_PAGE=0x1001,LOADER=generic,PAE=yes[extended-cr3],BSD_SYMTAB";

    nr_notes = 0;
    build();
    ehdr(KENTRY, 4, 3);
    phdr(0, PT_LOAD, PF_R | PF_X, TEXT_OFF, KTEXT, KTEXT, 0x2000, 0x2000);
    phdr(1, PT_LOAD, PF_R | PF_W, DATA_OFF, KTEXT + 0x2000, KTEXT + 0x2000, 0x800, 0x3000);
    put(STRTAB_OFF, "\0.shstrtab\0__xen_guest\0", 23);
    shdr(1, 1, 3, STRTAB_OFF, 23);
    shdr(2, 11, 1 /* SHT_PROGBITS */, GUEST_INFO_OFF, sizeof(info));
    put(GUEST_INFO_OFF, info, sizeof(info));
    CHECK_EQ(parse_all(), 0);
    CHECK(params.legacy_guest_info);
    CHECK_EQ(params.virt_base, KBASE);
    CHECK_EQ(params.elf_paddr_offset, KBASE);      /* the legacy default */
    CHECK_EQ(params.virt_offset, 0);
    CHECK_EQ(params.virt_kstart, KTEXT);
    CHECK_EQ(params.virt_entry, KENTRY);
    CHECK_EQ(params.virt_hypercall, KBASE + 0x1001000);
    CHECK_EQ(params.pae, XEN_PAE_EXTCR3);
    CHECK(params.bsd_symtab);
    CHECK(!strcmp(params.loader, "generic"));

    /* Unterminated at the section's end: read up to there. */
    shdr(2, 11, 1, GUEST_INFO_OFF, 14);              /* "GUEST_OS=linux" */
    CHECK_EQ(parse_all(), -EINVAL);
    CHECK(why_is("Xen notes: XEN_VERSION is not \"xen-3.0\""));
    CHECK(!strcmp(params.guest_os, "linux"));
}

TEST(unterminated_string_refused)
{
    use_linux_notes();
    set_note(XEN_ELFNOTE_LOADER, "generic!", 8);     /* no padding to end it either */
    build();
    CHECK_EQ(parse_all(), -EINVAL);
    CHECK(why_is("Xen notes: unterminated string note"));

    set_note(XEN_ELFNOTE_GUEST_VERSION, "", 0);
    set_note(XEN_ELFNOTE_LOADER, "generic", 8);
    build();
    CHECK_EQ(parse_all(), -EINVAL);
    CHECK(why_is("Xen notes: unterminated string note"));
}

TEST(long_string_refused)
{
    static char big[5000];

    memset(big, 'x', sizeof(big) - 1);
    use_linux_notes();
    set_note(XEN_ELFNOTE_GUEST_VERSION, big, sizeof(big));
    build();
    CHECK_EQ(parse_all(), -EINVAL);
    CHECK(why_is("Xen notes: string note too long"));

    big[4096] = 0;                                   /* 4096 characters: as Xen, fine */
    build();
    CHECK_EQ(parse_all(), 0);
    CHECK_EQ(strlen(params.guest_ver), 15);
}

/* Find the first Xen note's header in the built image. */
static size_t first_xen_note(void)
{
    for (size_t off = NOTES_OFF;; ) {
        uint32_t namesz, descsz;

        memcpy(&namesz, img + off, 4);
        memcpy(&descsz, img + off + 4, 4);
        if (!memcmp(img + off + 12, "Xen", 4))
            return off;
        off += 12 + ((namesz + 3) & ~3u) + ((descsz + 3) & ~3u);
    }
}

TEST(bad_note_sizes_refused)
{
    size_t n;

    use_linux_notes();
    build();
    n = first_xen_note();
    put32(n + 4, 0xfffffff0);                        /* descsz */
    CHECK_EQ(parse_all(), -EINVAL);
    CHECK(why_is("ELF: malformed note (sizes run outside its segment or section)"));

    build();
    put32(n, 0xffffffff);                            /* namesz */
    CHECK_EQ(parse_all(), -EINVAL);
    CHECK(why_is("ELF: malformed note (sizes run outside its segment or section)"));

    build();
    put64(phdr_off(2) + 32, 0x100000);               /* PT_NOTE filesz past the file */
    CHECK_EQ(parse_all(), -EINVAL);
    CHECK(why_is("ELF: malformed note (sizes run outside its segment or section)"));

    build();
    put64(phdr_off(2) + 32, 5);                      /* a partial note header */
    CHECK_EQ(parse_all(), -EINVAL);
    CHECK(why_is("ELF: malformed note (sizes run outside its segment or section)"));
}

/* The last note's padding may be outside the area: its size is all that counts. */
TEST(note_area_without_final_padding)
{
    use_linux_notes();
    drop_note(XEN_ELFNOTE_FEATURES);
    set_note(XEN_ELFNOTE_FEATURES, n_features, sizeof(n_features) - 1);   /* now last */
    build();
    put64(phdr_off(2) + 32, notes_len - 3);
    CHECK_EQ(parse_all(), 0);
    CHECK_EQ(params.f_required[0], 1);
}

/* Many note headers over one area: the walk stops at ELF_MAX_NOTES. */
TEST(too_many_notes_refused)
{
    nr_notes = 0;
    build();
    ehdr(0x1000000, 72, 0);
    for (size_t off = 0x10000; off < 0x10000 + 1000 * 12; off += 12)
        put(off, (uint32_t[3]){ 0 }, 12);            /* 1000 empty notes */
    for (unsigned int i = 3; i < 72; i++)
        phdr(i, PT_NOTE, PF_R, 0x10000, 0, 0, 1000 * 12, 0);
    CHECK_EQ(parse_all(), -EINVAL);
    CHECK(why_is("ELF: too many notes"));
}

TEST(header_checks)
{
    use_linux_notes();
    build();
    img[4] = 1;                                      /* ELFCLASS32 */
    CHECK_EQ(parse_elf(), -EINVAL);
    CHECK(why_is("ELF: not a 64-bit image"));

    build();
    img[5] = 2;                                      /* big-endian */
    CHECK_EQ(parse_elf(), -EINVAL);
    CHECK(why_is("ELF: not little-endian"));

    build();
    put16(18, 3);                                    /* EM_386 */
    CHECK_EQ(parse_elf(), -EINVAL);
    CHECK(why_is("ELF: not x86-64"));

    build();
    put16(16, 3);                                    /* ET_DYN */
    CHECK_EQ(parse_elf(), -EINVAL);
    CHECK(why_is("ELF: not an executable (ET_EXEC)"));

    build();
    img[0] = 0;
    CHECK_EQ(parse_elf(), -EINVAL);
    CHECK(why_is("ELF: not an ELF image"));
}

TEST(truncated_headers)
{
    use_linux_notes();
    build();
    img_len = 63;
    CHECK_EQ(parse_elf(), -EINVAL);
    CHECK(why_is("ELF: truncated header"));

    img_len = 64 + 56 * 3;                           /* the 4th program header is cut */
    CHECK_EQ(parse_elf(), -EINVAL);
    CHECK(why_is("ELF: program headers past end of file"));

    build();
    put64(32, ~0ull - 8);                            /* e_phoff near 2^64 */
    CHECK_EQ(parse_elf(), -EINVAL);
    CHECK(why_is("ELF: program headers past end of file"));

    build();
    put16(54, 32);
    CHECK_EQ(parse_elf(), -EINVAL);
    CHECK(why_is("ELF: unexpected program header size"));

    build();
    ehdr(0x1000000, 4, 0x200);                       /* 0x200 sections from 0x4000 */
    CHECK_EQ(parse_elf(), -EINVAL);
    CHECK(why_is("ELF: section headers past end of file"));
}

TEST(segment_checks)
{
    use_linux_notes();
    build();
    put64(phdr_off(1) + 32, IMG_LEN - DATA_OFF + 1); /* filesz one past the file */
    put64(phdr_off(1) + 40, 0x10000);
    CHECK_EQ(parse_elf(), -EINVAL);
    CHECK(why_is("ELF: segment past end of file"));

    build();
    put64(phdr_off(1) + 8, ~0ull - 0x10);            /* offset + filesz wraps */
    CHECK_EQ(parse_elf(), -EINVAL);
    CHECK(why_is("ELF: segment past end of file"));

    build();
    put64(phdr_off(1) + 40, 0x400);                  /* memsz < filesz */
    CHECK_EQ(parse_elf(), -EINVAL);
    CHECK(why_is("ELF: segment file size exceeds its memory size"));

    build();
    put64(phdr_off(1) + 40, ~0ull - 0x1000);         /* paddr + memsz wraps */
    CHECK_EQ(parse_elf(), -EINVAL);
    CHECK(why_is("ELF: segment wraps the address space"));

    build();
    put64(phdr_off(1) + 24, 0x1001fff);              /* data overlaps text's last byte */
    CHECK_EQ(parse_elf(), -EINVAL);
    CHECK(why_is("ELF: loadable segments overlap"));

    build();
    put32(phdr_off(0), PT_NOTE);
    put32(phdr_off(1), PT_NOTE);
    CHECK_EQ(parse_elf(), -EINVAL);
    CHECK(why_is("ELF: no loadable segments"));

    build();
    ehdr(0x1000000, 40, 0);
    for (unsigned int i = 0; i < 40; i++)
        phdr(i, PT_LOAD, PF_R, TEXT_OFF, 0, 0x100000 * (i + 1), 0x10, 0x10);
    CHECK_EQ(parse_elf(), -EINVAL);
    CHECK(why_is("ELF: too many loadable segments"));
}

struct write_log {
    unsigned int n, fail_at;
    struct { uint64_t va; const void *src; size_t len; } w[8];
};

static int log_write(void *ctx, uint64_t va, const void *src, size_t len)
{
    struct write_log *l = ctx;

    if (l->n < ARRAY_SIZE(l->w))
        l->w[l->n] = (typeof(l->w[0])){ va, src, len };
    if (++l->n == l->fail_at)
        return -EFAULT;
    return 0;
}

TEST(load_segments)
{
    struct write_log l = { 0 };

    use_linux_notes();
    build();
    CHECK_EQ(parse_all(), 0);
    CHECK_EQ(elf_load_segments(&elf, &params, log_write, &l), 0);
    CHECK_EQ(l.n, 3);
    CHECK_EQ(l.w[0].va, KTEXT);
    CHECK(l.w[0].src == img + TEXT_OFF);
    CHECK_EQ(l.w[0].len, 0x2000);
    CHECK_EQ(l.w[1].va, KTEXT + 0x2000);
    CHECK(l.w[1].src == img + DATA_OFF);
    CHECK_EQ(l.w[1].len, 0x800);
    CHECK_EQ(l.w[2].va, KTEXT + 0x2800);
    CHECK(l.w[2].src == NULL);
    CHECK_EQ(l.w[2].len, 0x2800);
    CHECK_EQ(l.w[2].va + l.w[2].len, params.virt_kend);

    memset(&l, 0, sizeof(l));
    l.fail_at = 2;
    CHECK_EQ(elf_load_segments(&elf, &params, log_write, &l), -EFAULT);
    CHECK_EQ(l.n, 2);
}

/* A segment with no file bytes gives one zero-fill write only. */
TEST(load_bss_only_segment)
{
    struct write_log l = { 0 };

    use_linux_notes();
    build();
    put64(phdr_off(1) + 32, 0);
    CHECK_EQ(parse_all(), 0);
    CHECK_EQ(elf_load_segments(&elf, &params, log_write, &l), 0);
    CHECK_EQ(l.n, 2);
    CHECK(l.w[1].src == NULL);
    CHECK_EQ(l.w[1].va, KTEXT + 0x2000);
    CHECK_EQ(l.w[1].len, 0x3000);
}

/*
 * Every truncation of a valid image, in an exactly sized heap copy (ASan catches any
 * read past it): accepted exactly when the notes and segment data are all inside.
 */
TEST(every_truncation_is_safe)
{
    size_t need;
    unsigned int wrong = 0;

    use_linux_notes();
    build();
    need = NOTES_OFF + notes_len;
    for (size_t n = 0; n <= IMG_LEN; n++) {
        uint8_t *p = malloc(n ? n : 1);
        int rc;

        memcpy(p, img, n);
        rc = elf_parse(&elf, p, n, &why);
        if (rc == 0)
            rc = xen_elfnotes_parse(&elf, &params, &why);
        if ((rc == 0) != (n >= need))
            wrong++;
        free(p);
    }
    CHECK_EQ(wrong, 0);
}

/* Random byte flips over the headers and notes: no crash, no read outside (ASan). */
TEST(corrupted_images_are_safe)
{
    uint64_t seed = 0x1234567;
    unsigned int accepted = 0;

    for (unsigned int round = 0; round < 20000; round++) {
        use_linux_notes();
        build();
        for (unsigned int k = 0; k < 4; k++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            size_t at = (seed >> 33) % 0x600;

            /* Headers (first 0x100 bytes) or the notes. */
            at = at < 0x100 ? at : NOTES_OFF + at - 0x100;
            img[at] ^= (uint8_t)(seed >> 20) | 1;
        }
        if (elf_parse(&elf, img, img_len, &why) == 0 &&
            xen_elfnotes_parse(&elf, &params, &why) == 0)
            accepted++;
    }
    printf("  %u of 20000 corrupted images still accepted\n", accepted);
    CHECK(accepted < 20000);
}
