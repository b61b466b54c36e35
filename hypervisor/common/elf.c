/*
 * ELF64 guest kernels. Every offset and size read from the image is checked against the
 * buffer before it is used, with the sums arranged so that they cannot wrap. Headers are
 * copied out with memcpy: a crafted image need not keep them aligned.
 */
#include <enso/elf.h>
#include <enso/errno.h>
#include <enso/lib.h>

/* The on-file layouts of the ELF-64 object file format. */
struct elf64_ehdr {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

struct elf64_shdr {
    uint32_t name, type;
    uint64_t flags, addr, offset, size;
    uint32_t link, info;
    uint64_t addralign, entsize;
};

/* Note header; ELF64 notes keep ELF32's 4-byte fields and 4-byte padding. */
struct elf_note {
    uint32_t namesz, descsz, type;
};

BUILD_BUG_ON(sizeof(struct elf64_ehdr) != 64);
BUILD_BUG_ON(sizeof(struct elf64_phdr) != 56);
BUILD_BUG_ON(sizeof(struct elf64_shdr) != 64);

#define EI_CLASS 4
#define EI_DATA 5
#define ELFCLASS64 2
#define ELFDATA2LSB 1

static int fail(const char **why, const char *msg)
{
    if (why)
        *why = msg;
    return -EINVAL;
}

/* [off, off + len) lies inside a buffer of size bytes. */
static bool in_buffer(uint64_t off, uint64_t len, size_t size)
{
    return off <= size && len <= size - off;
}

bool elf_is_elf(const void *buf, size_t len)
{
    return len >= 4 && !memcmp(buf, "\177ELF", 4);
}

static void read_phdr(const struct elf_image *img, unsigned int i, struct elf64_phdr *ph)
{
    memcpy(ph, img->data + img->phoff + (uint64_t)i * sizeof(*ph), sizeof(*ph));
}

static void read_shdr(const struct elf_image *img, unsigned int i, struct elf64_shdr *sh)
{
    memcpy(sh, img->data + img->shoff + (uint64_t)i * sizeof(*sh), sizeof(*sh));
}

static int check_ehdr(const struct elf64_ehdr *eh, const char **why)
{
    if (eh->ident[EI_CLASS] != ELFCLASS64)
        return fail(why, "ELF: not a 64-bit image");
    if (eh->ident[EI_DATA] != ELFDATA2LSB)
        return fail(why, "ELF: not little-endian");
    if (eh->machine != EM_X86_64)
        return fail(why, "ELF: not x86-64");
    if (eh->type != ET_EXEC)
        return fail(why, "ELF: not an executable (ET_EXEC)");
    return 0;
}

/* The header tables must be whole and inside the file; an empty one is absent. */
static int find_tables(struct elf_image *img, const struct elf64_ehdr *eh, const char **why)
{
    if (eh->phnum) {
        if (eh->phentsize != sizeof(struct elf64_phdr))
            return fail(why, "ELF: unexpected program header size");
        if (!in_buffer(eh->phoff, (uint64_t)eh->phnum * eh->phentsize, img->size))
            return fail(why, "ELF: program headers past end of file");
        img->phoff = eh->phoff;
        img->phnum = eh->phnum;
    }
    if (eh->shnum) {
        if (eh->shentsize != sizeof(struct elf64_shdr))
            return fail(why, "ELF: unexpected section header size");
        if (!in_buffer(eh->shoff, (uint64_t)eh->shnum * eh->shentsize, img->size))
            return fail(why, "ELF: section headers past end of file");
        img->shoff = eh->shoff;
        img->shnum = eh->shnum;
        img->shstrndx = eh->shstrndx;
    }
    return 0;
}

/* Zero-sized ranges overlap nothing. Neither range wraps (checked before). */
static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return alen && blen && a < b + blen && b < a + alen;
}

static int add_segment(struct elf_image *img, const struct elf64_phdr *ph, const char **why)
{
    struct elf_segment *s;

    if (img->nr_segments == ELF_MAX_SEGMENTS)
        return fail(why, "ELF: too many loadable segments");
    if (ph->filesz > ph->memsz)
        return fail(why, "ELF: segment file size exceeds its memory size");
    if (!in_buffer(ph->offset, ph->filesz, img->size))
        return fail(why, "ELF: segment past end of file");
    if (ph->memsz > UINT64_MAX - ph->paddr)
        return fail(why, "ELF: segment wraps the address space");
    /* Overlaps would have the loader write the same guest memory twice (or more). */
    for (unsigned int i = 0; i < img->nr_segments; i++)
        if (overlap(ph->paddr, ph->memsz, img->seg[i].paddr, img->seg[i].memsz))
            return fail(why, "ELF: loadable segments overlap");

    s = &img->seg[img->nr_segments++];
    *s = (struct elf_segment){ .offset = ph->offset, .vaddr = ph->vaddr,
                               .paddr = ph->paddr, .filesz = ph->filesz,
                               .memsz = ph->memsz, .flags = ph->flags };
    if (img->nr_segments == 1 || s->paddr < img->pstart)
        img->pstart = s->paddr;
    if (img->nr_segments == 1 || s->paddr + s->memsz > img->pend)
        img->pend = s->paddr + s->memsz;
    return 0;
}

/* Like Xen's loader, PT_LOAD entries without any of R/W/X are not loaded. */
static int find_segments(struct elf_image *img, const char **why)
{
    struct elf64_phdr ph;
    int rc;

    for (unsigned int i = 0; i < img->phnum; i++) {
        read_phdr(img, i, &ph);
        if (ph.type != PT_LOAD || !(ph.flags & (PF_R | PF_W | PF_X)))
            continue;
        rc = add_segment(img, &ph, why);
        if (rc)
            return rc;
    }
    if (!img->nr_segments)
        return fail(why, "ELF: no loadable segments");
    return 0;
}

int elf_parse(struct elf_image *img, const void *data, size_t size, const char **why)
{
    struct elf64_ehdr eh;
    int rc;

    memset(img, 0, sizeof(*img));
    if (!elf_is_elf(data, size))
        return fail(why, "ELF: not an ELF image");
    if (size < sizeof(eh))
        return fail(why, "ELF: truncated header");
    memcpy(&eh, data, sizeof(eh));
    rc = check_ehdr(&eh, why);
    if (rc)
        return rc;

    img->data = data;
    img->size = size;
    img->entry = eh.entry;
    rc = find_tables(img, &eh, why);
    if (!rc)
        rc = find_segments(img, why);
    if (rc)
        memset(img, 0, sizeof(*img));
    return rc;
}

struct note_walk {
    const struct elf_image *img;
    const char *owner;
    size_t owner_len;
    int (*fn)(void *ctx, uint32_t type, const void *desc, size_t len);
    void *ctx;
    int matched;
    unsigned int visited;
};

/* namesz counts the name's NUL; a few producers pad the name with more NULs. */
static bool owner_is(const struct note_walk *w, const uint8_t *name, uint32_t namesz)
{
    return namesz > w->owner_len && !memcmp(name, w->owner, w->owner_len) &&
           name[w->owner_len] == 0;
}

/*
 * The name and descriptor must lie inside the area. The descriptor's padding may run
 * past the area's end (some areas are sized without the last note's padding) but not
 * past the file, so that callers may read it: a string descriptor can be terminated
 * there (Linux's FEATURES note is).
 */
static int walk_area(struct note_walk *w, uint64_t off, uint64_t len)
{
    const struct elf_image *img = w->img;
    uint64_t end;

    if (!in_buffer(off, len, img->size))
        return -EINVAL;
    end = off + len;
    while (off < end) {
        struct elf_note n;
        uint64_t name, desc, next;
        int rc;

        if (end - off < sizeof(n))
            return -EINVAL;
        if (w->visited++ >= ELF_MAX_NOTES)
            return -E2BIG;
        memcpy(&n, img->data + off, sizeof(n));
        name = off + sizeof(n);
        desc = name + ROUNDUP((uint64_t)n.namesz, 4);
        next = desc + ROUNDUP((uint64_t)n.descsz, 4);
        if (desc > end || n.descsz > end - desc || next > img->size)
            return -EINVAL;
        if (owner_is(w, img->data + name, n.namesz)) {
            w->matched++;
            rc = w->fn(w->ctx, n.type, img->data + desc, n.descsz);
            if (rc)
                return rc;
        }
        off = next;
    }
    return 0;
}

static int walk_segments(struct note_walk *w)
{
    struct elf64_phdr ph;
    int rc;

    for (unsigned int i = 0; i < w->img->phnum; i++) {
        read_phdr(w->img, i, &ph);
        /* p_offset 0 is the ELF header: a linker that did not fill the field in. */
        if (ph.type != PT_NOTE || ph.offset == 0)
            continue;
        rc = walk_area(w, ph.offset, ph.filesz);
        if (rc)
            return rc;
    }
    return 0;
}

static int walk_sections(struct note_walk *w)
{
    struct elf64_shdr sh;
    int rc;

    for (unsigned int i = 1; i < w->img->shnum; i++) {
        read_shdr(w->img, i, &sh);
        if (sh.type != SHT_NOTE)
            continue;
        rc = walk_area(w, sh.offset, sh.size);
        if (rc)
            return rc;
    }
    return 0;
}

int elf_for_each_note(const struct elf_image *img, const char *owner,
                      int (*fn)(void *ctx, uint32_t type, const void *desc, size_t len),
                      void *ctx)
{
    struct note_walk w = { .img = img, .owner = owner, .owner_len = strlen(owner),
                           .fn = fn, .ctx = ctx };
    int rc;

    rc = walk_segments(&w);
    if (!rc && !w.matched)
        rc = walk_sections(&w);
    return rc ? rc : w.matched;
}

int elf_load(const struct elf_image *img, uint64_t va_offset,
             int (*write)(void *ctx, uint64_t va, const void *src, size_t len), void *ctx)
{
    int rc;

    for (unsigned int i = 0; i < img->nr_segments; i++) {
        const struct elf_segment *s = &img->seg[i];
        uint64_t va = s->paddr + va_offset;

        if (s->filesz) {
            rc = write(ctx, va, img->data + s->offset, s->filesz);
            if (rc)
                return rc;
        }
        if (s->memsz > s->filesz) {
            rc = write(ctx, va + s->filesz, NULL, s->memsz - s->filesz);
            if (rc)
                return rc;
        }
    }
    return 0;
}

const void *elf_section_by_name(const struct elf_image *img, const char *name,
                                size_t *len)
{
    struct elf64_shdr names, sh;
    size_t want = strlen(name) + 1;

    if (img->shstrndx == 0 || img->shstrndx >= img->shnum)
        return NULL;
    read_shdr(img, img->shstrndx, &names);
    if (names.type == SHT_NOBITS || !in_buffer(names.offset, names.size, img->size))
        return NULL;
    for (unsigned int i = 1; i < img->shnum; i++) {
        read_shdr(img, i, &sh);
        if (sh.name >= names.size || want > names.size - sh.name ||
            memcmp(img->data + names.offset + sh.name, name, want))
            continue;
        if (sh.type == SHT_NOBITS || !in_buffer(sh.offset, sh.size, img->size))
            return NULL;
        *len = sh.size;
        return img->data + sh.offset;
    }
    return NULL;
}
