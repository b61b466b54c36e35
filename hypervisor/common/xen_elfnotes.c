/*
 * Xen ELF notes to domain-building parameters, by the rules of Xen 4.17's loader:
 * which notes count, how each is read, the defaults, the address arithmetic and the
 * checks. Where Xen would read a string past its note (it reads until a NUL anywhere
 * in the image) or let a malformed note through, enso refuses the image; every image
 * Xen loads without complaint reads the same here.
 */
#include <enso/xen_elfnotes.h>
#include <enso/errno.h>
#include <enso/lib.h>
#include <public/elfnote.h>

/* Xen ignores string notes longer than this; enso refuses them. */
#define NOTE_STR_MAX 4096

/* Notes whose descriptor is a string; the other known ones hold a number. */
#define STRING_NOTES                                                                 \
    (1u << XEN_ELFNOTE_XEN_VERSION | 1u << XEN_ELFNOTE_GUEST_OS |                    \
     1u << XEN_ELFNOTE_GUEST_VERSION | 1u << XEN_ELFNOTE_LOADER |                    \
     1u << XEN_ELFNOTE_PAE_MODE | 1u << XEN_ELFNOTE_FEATURES |                       \
     1u << XEN_ELFNOTE_BSD_SYMTAB)
/* INFO and L1_MFN_VALID are not acted on by Xen 4.17's loader. */
#define KNOWN_NOTES                                                                  \
    (STRING_NOTES | 1u << XEN_ELFNOTE_ENTRY | 1u << XEN_ELFNOTE_HYPERCALL_PAGE |     \
     1u << XEN_ELFNOTE_VIRT_BASE | 1u << XEN_ELFNOTE_PADDR_OFFSET |                  \
     1u << XEN_ELFNOTE_HV_START_LOW | 1u << XEN_ELFNOTE_SUSPEND_CANCEL |             \
     1u << XEN_ELFNOTE_INIT_P2M | 1u << XEN_ELFNOTE_MOD_START_PFN |                  \
     1u << XEN_ELFNOTE_SUPPORTED_FEATURES | 1u << XEN_ELFNOTE_PHYS32_ENTRY)

/* The FEATURES names Xen 4.17 understands; any other is skipped, or refused with '!'. */
static const struct {
    const char *name;
    unsigned int bit;
} features[] = {
    { "writable_page_tables", XENFEAT_writable_page_tables },
    { "writable_descriptor_tables", XENFEAT_writable_descriptor_tables },
    { "auto_translated_physmap", XENFEAT_auto_translated_physmap },
    { "supervisor_mode_kernel", XENFEAT_supervisor_mode_kernel },
    { "pae_pgdir_above_4gb", XENFEAT_pae_pgdir_above_4gb },
    { "hvm_callback_vector", XENFEAT_hvm_callback_vector },
    { "dom0", XENFEAT_dom0 },
};

struct note_ctx {
    struct xen_guest_params *p;
    const char *why;   /* set when take_note refuses a note */
};

static int fail(const char **why, const char *msg)
{
    if (why)
        *why = msg;
    return -EINVAL;
}

/* Keep what fits of src, NUL-terminated (Xen keeps 15 characters too). */
static void copy_str(char dst[XEN_GUEST_STR_LEN], const char *src)
{
    size_t n = 0;

    for (; n < XEN_GUEST_STR_LEN - 1 && src[n]; n++)
        dst[n] = src[n];
    dst[n] = 0;
}

static void set_feature(uint32_t *map, unsigned int bit)
{
    map[bit / 32] |= 1u << (bit % 32);
}

static int feature_bit(const char *name)
{
    for (unsigned int i = 0; i < ARRAY_SIZE(features); i++)
        if (!strcmp(name, features[i].name))
            return (int)features[i].bit;
    return -1;
}

/*
 * "name|!name|...": '!' marks a feature the kernel cannot run without. Xen reads names
 * in pieces of at most 63 characters (a longer one is cut, and its rest read as the
 * next name); enso reads them the same way so that it accepts exactly what Xen does.
 */
static int parse_features(struct xen_guest_params *p, const char *s)
{
    while (*s) {
        char name[64];
        size_t n = 0;
        bool required;
        int bit;

        for (; n < sizeof(name) - 1 && s[n] && s[n] != '|'; n++)
            name[n] = s[n];
        name[n] = 0;
        s += n;
        if (n < sizeof(name) - 1 && *s == '|')
            s++;

        required = name[0] == '!';
        bit = feature_bit(name + required);
        if (bit < 0) {
            if (required)
                return -EINVAL;
            continue;
        }
        set_feature(p->f_supported, (unsigned int)bit);
        if (required)
            set_feature(p->f_required, (unsigned int)bit);
    }
    return 0;
}

/* Little-endian, 1, 2, 4 or 8 bytes; Xen reads any other size as 0. */
static uint64_t note_number(const uint8_t *d, size_t len)
{
    uint64_t v = 0;

    if (len != 1 && len != 2 && len != 4 && len != 8)
        return 0;
    while (len--)
        v = v << 8 | d[len];
    return v;
}

/* The NUL may be in the descriptor's padding: Linux's FEATURES note relies on it. */
static const char *note_string(const uint8_t *d, size_t len, const char **why)
{
    size_t room = ROUNDUP(len, 4), n = 0;

    while (n < room && n <= NOTE_STR_MAX && d[n])
        n++;
    if (n > NOTE_STR_MAX) {
        *why = "Xen notes: string note too long";
        return NULL;
    }
    if (n == room) {
        *why = "Xen notes: unterminated string note";
        return NULL;
    }
    return (const char *)d;
}

static void take_string(struct xen_guest_params *p, uint32_t type, const char *s)
{
    switch (type) {
    case XEN_ELFNOTE_LOADER:
        copy_str(p->loader, s);
        break;
    case XEN_ELFNOTE_GUEST_OS:
        copy_str(p->guest_os, s);
        break;
    case XEN_ELFNOTE_GUEST_VERSION:
        copy_str(p->guest_ver, s);
        break;
    case XEN_ELFNOTE_XEN_VERSION:
        copy_str(p->xen_ver, s);
        break;
    case XEN_ELFNOTE_PAE_MODE:
        if (!strcmp(s, "yes"))
            p->pae = XEN_PAE_EXTCR3;
        if (strstr(s, "bimodal"))
            p->pae = XEN_PAE_BIMODAL;
        break;
    case XEN_ELFNOTE_BSD_SYMTAB:
        if (!strcmp(s, "yes"))
            p->bsd_symtab = true;
        break;
    }
}

static void take_number(struct xen_guest_params *p, uint32_t type, uint64_t v,
                        const uint8_t *desc, size_t len)
{
    switch (type) {
    case XEN_ELFNOTE_ENTRY:
        p->virt_entry = v;
        break;
    case XEN_ELFNOTE_HYPERCALL_PAGE:
        p->virt_hypercall = v;
        break;
    case XEN_ELFNOTE_VIRT_BASE:
        p->virt_base = v;
        break;
    case XEN_ELFNOTE_PADDR_OFFSET:
        p->elf_paddr_offset = v;
        break;
    case XEN_ELFNOTE_HV_START_LOW:
        p->virt_hv_start_low = v;
        break;
    case XEN_ELFNOTE_SUSPEND_CANCEL:
        p->suspend_cancel = v != 0;
        break;
    case XEN_ELFNOTE_INIT_P2M:
        p->p2m_base = v;
        break;
    case XEN_ELFNOTE_MOD_START_PFN:
        p->mod_start_pfn = v != 0;
        break;
    case XEN_ELFNOTE_PHYS32_ENTRY:
        p->phys_entry = (uint32_t)v;
        break;
    case XEN_ELFNOTE_SUPPORTED_FEATURES:
        /* An array of 32-bit submaps; a size not a multiple of 4 counts as empty. */
        for (unsigned int i = 0; i < XENFEAT_NR_SUBMAPS; i++)
            if (len % 4 == 0 && i < len / 4)
                p->f_supported[i] |= (uint32_t)note_number(desc + 4 * i, 4);
        break;
    }
}

static int take_note(void *vctx, uint32_t type, const void *desc, size_t len)
{
    struct note_ctx *c = vctx;
    struct xen_guest_params *p = c->p;
    const char *s;

    if (type >= 32 || !(KNOWN_NOTES & 1u << type))
        return 0;
    p->notes_seen |= 1u << type;
    if (!(STRING_NOTES & 1u << type)) {
        take_number(p, type, note_number(desc, len), desc, len);
        return 0;
    }
    s = note_string(desc, len, &c->why);
    if (!s)
        return -EINVAL;
    if (type == XEN_ELFNOTE_FEATURES && parse_features(p, s)) {
        c->why = "Xen notes: FEATURES requires a feature enso does not know";
        return -EINVAL;
    }
    take_string(p, type, s);
    return 0;
}

/*
 * One NAME=VALUE item of a __xen_guest string, ended by ',' (consumed) or the end.
 * Names keep at most 31 characters and values 127; like Xen, a longer one is cut and
 * its rest read as the next item.
 */
static size_t guest_info_token(const char *s, size_t len, size_t i, char *out, size_t cap,
                               bool name, bool *has_value)
{
    size_t n = 0;

    for (; n < cap - 1 && i < len && s[i]; i++) {
        if (s[i] == ',' || (name && s[i] == '=')) {
            *has_value = name && s[i] == '=';
            i++;
            break;
        }
        out[n++] = s[i];
    }
    out[n] = 0;
    return i;
}

/* Returns false when parsing must stop (an unknown required feature, as in Xen). */
static bool guest_info_item(struct xen_guest_params *p, const char *name, const char *val)
{
    if (!strcmp(name, "LOADER"))
        copy_str(p->loader, val);
    else if (!strcmp(name, "GUEST_OS"))
        copy_str(p->guest_os, val);
    else if (!strcmp(name, "GUEST_VER"))
        copy_str(p->guest_ver, val);
    else if (!strcmp(name, "XEN_VER"))
        copy_str(p->xen_ver, val);
    else if (!strcmp(name, "PAE") && !strcmp(val, "yes[extended-cr3]"))
        p->pae = XEN_PAE_EXTCR3;
    else if (!strcmp(name, "PAE") && !strncmp(val, "yes", 3))
        p->pae = XEN_PAE_YES;
    else if (!strcmp(name, "BSD_SYMTAB"))
        p->bsd_symtab = true;
    else if (!strcmp(name, "VIRT_BASE"))
        p->virt_base = simple_strtoull(val, NULL, 0);
    else if (!strcmp(name, "VIRT_ENTRY"))
        p->virt_entry = simple_strtoull(val, NULL, 0);
    else if (!strcmp(name, "ELF_PADDR_OFFSET"))
        p->elf_paddr_offset = simple_strtoull(val, NULL, 0);
    else if (!strcmp(name, "HYPERCALL_PAGE"))
        p->virt_hypercall = simple_strtoull(val, NULL, 0) << PAGE_SHIFT;
    else if (!strcmp(name, "FEATURES"))
        return parse_features(p, val) == 0;
    return true;
}

/*
 * The pre-notes interface: a "__xen_guest" section holding "NAME=VALUE,...". Xen only
 * looks at it when there are no Xen notes. Its HYPERCALL_PAGE is a page number from
 * VIRT_BASE, and a missing ELF_PADDR_OFFSET defaults to VIRT_BASE (see calc_addresses).
 */
static int read_guest_info(const struct elf_image *img, struct xen_guest_params *p)
{
    size_t len, i = 0;
    const char *s = elf_section_by_name(img, "__xen_guest", &len);

    if (!s)
        return -ENOENT;
    p->legacy_guest_info = true;
    while (i < len && s[i]) {
        char name[32], val[128];
        bool has_value = false;

        i = guest_info_token(s, len, i, name, sizeof(name), true, &has_value);
        val[0] = 0;
        if (has_value)
            i = guest_info_token(s, len, i, val, sizeof(val), false, &has_value);
        if (!guest_info_item(p, name, val))
            break;
    }
    if (p->virt_base != XEN_UNSET_ADDR && p->virt_hypercall != XEN_UNSET_ADDR)
        p->virt_hypercall += p->virt_base;
    return 0;
}

/* Xen compares prefixes only: "generic-foo" is a generic loader. */
static bool starts_with(const char *s, const char *prefix)
{
    return !strncmp(s, prefix, strlen(prefix));
}

static int check_identity(const struct xen_guest_params *p, const char **why)
{
    if (!starts_with(p->loader, "generic") && !starts_with(p->guest_os, "linux"))
        return fail(why, "Xen notes: LOADER is not \"generic\" and GUEST_OS not \"linux\"");
    if (!starts_with(p->xen_ver, "xen-3.0"))
        return fail(why, "Xen notes: XEN_VERSION is not \"xen-3.0\"");
    return 0;
}

static bool in_kernel(const struct xen_guest_params *p, uint64_t va)
{
    return va >= p->virt_kstart && va < p->virt_kend;
}

/*
 * The arithmetic is modulo 2^64 as in Xen: virt_offset may be "negative" (PADDR_OFFSET
 * above VIRT_BASE). A kernel range that crosses 2^64 ends below its start and is
 * refused. Xen lets the entry point equal virt_kend; enso wants it inside the kernel.
 */
static int calc_addresses(const struct elf_image *img, struct xen_guest_params *p,
                          const char **why)
{
    if (p->elf_paddr_offset != XEN_UNSET_ADDR && p->virt_base == XEN_UNSET_ADDR)
        return fail(why, "Xen notes: PADDR_OFFSET given without VIRT_BASE");
    if (p->virt_base == XEN_UNSET_ADDR)
        p->virt_base = 0;
    /* Kernels of the __xen_guest era put virtual addresses in p_paddr. */
    if (p->elf_paddr_offset == XEN_UNSET_ADDR)
        p->elf_paddr_offset = p->legacy_guest_info ? p->virt_base : 0;
    if (p->virt_entry == XEN_UNSET_ADDR)
        p->virt_entry = img->entry;

    p->virt_offset = p->virt_base - p->elf_paddr_offset;
    p->virt_kstart = img->pstart + p->virt_offset;
    p->virt_kend = img->pend + p->virt_offset;

    if (p->virt_kstart >= p->virt_kend)
        return fail(why, "Xen notes: the kernel's address range is empty or wraps");
    if (p->virt_base > p->virt_kstart)
        return fail(why, "Xen notes: VIRT_BASE above the kernel's start");
    if (!in_kernel(p, p->virt_entry))
        return fail(why, "Xen notes: entry outside the kernel");
    if (p->p2m_base != XEN_UNSET_ADDR && in_kernel(p, p->p2m_base))
        return fail(why, "Xen notes: INIT_P2M inside the kernel");
    if (p->virt_hypercall != XEN_UNSET_ADDR && !in_kernel(p, p->virt_hypercall))
        return fail(why, "Xen notes: hypercall page outside the kernel");
    return 0;
}

static void set_defaults(struct xen_guest_params *p)
{
    memset(p, 0, sizeof(*p));
    p->virt_base = XEN_UNSET_ADDR;
    p->elf_paddr_offset = XEN_UNSET_ADDR;
    p->virt_entry = XEN_UNSET_ADDR;
    p->virt_hypercall = XEN_UNSET_ADDR;
    p->virt_hv_start_low = XEN_UNSET_ADDR;
    p->p2m_base = XEN_UNSET_ADDR;
    p->phys_entry = XEN_UNSET_ADDR32;
}

int xen_elfnotes_parse(const struct elf_image *img, struct xen_guest_params *p,
                       const char **why)
{
    struct note_ctx c = { .p = p };
    int rc;

    set_defaults(p);
    rc = elf_for_each_note(img, XEN_ELFNOTE_NAME, take_note, &c);
    if (rc < 0 && c.why)
        return fail(why, c.why);
    if (rc == -E2BIG)
        return fail(why, "ELF: too many notes");
    if (rc < 0)
        return fail(why, "ELF: malformed note (sizes run outside its segment or section)");
    if (rc == 0 && read_guest_info(img, p))
        return fail(why, "kernel has no Xen ELF notes");

    rc = check_identity(p, why);
    if (!rc)
        rc = calc_addresses(img, p, why);
    if (rc)
        return rc;
    p->has_hypercall_page = p->virt_hypercall != XEN_UNSET_ADDR;
    p->has_hv_start_low = p->virt_hv_start_low != XEN_UNSET_ADDR;
    p->has_p2m_base = p->p2m_base != XEN_UNSET_ADDR;
    p->has_phys_entry = p->phys_entry != XEN_UNSET_ADDR32;
    return 0;
}

int elf_load_segments(const struct elf_image *img, const struct xen_guest_params *p,
                      int (*write)(void *ctx, uint64_t va, const void *src, size_t len),
                      void *ctx)
{
    return elf_load(img, p->virt_offset, write, ctx);
}
