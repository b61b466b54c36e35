/*
 * ELF64 guest kernels, as the domain builder reads them. The image is hostile:
 * elf_parse checks the headers and every loadable segment against the buffer, so that
 * the segment list it returns can be used without further bounds checks. Only what a
 * 64-bit x86 PV kernel can be is accepted: ELFCLASS64, little-endian, EM_X86_64,
 * ET_EXEC. Header fields are read as stored (little-endian, as x86 itself).
 */
#ifndef ENSO_ELF_H
#define ENSO_ELF_H

#include <enso/types.h>

#define ELF_MAX_SEGMENTS 32
/* Notes visited by one elf_for_each_note, at most: bounds the work a crafted image
   (many note headers pointing at the same big area) can cause. */
#define ELF_MAX_NOTES 65536

#define EM_X86_64 62
#define ET_EXEC 2
#define PT_LOAD 1
#define PT_NOTE 4
#define SHT_NOTE 7
#define SHT_NOBITS 8
#define PF_X 1
#define PF_W 2
#define PF_R 4

struct elf_segment {
    uint64_t offset, vaddr, paddr, filesz, memsz;
    uint32_t flags;
};

struct elf_image {
    const uint8_t *data;
    size_t size;
    uint64_t entry;
    /* Loadable segments (PT_LOAD with any of R/W/X), in header order: each lies inside
       data, has filesz <= memsz, paddr + memsz does not wrap, and no two overlap in
       paddr. pstart/pend: lowest paddr, highest paddr + memsz. */
    unsigned int nr_segments;
    struct elf_segment seg[ELF_MAX_SEGMENTS];
    uint64_t pstart, pend;
    /* Program and section header tables, both checked to lie inside data (a count of 0
       when absent), for the note and section walks. */
    uint64_t phoff, shoff;
    unsigned int phnum, shnum, shstrndx;
};

/* True if buf starts with the ELF magic. */
bool elf_is_elf(const void *buf, size_t len);

/*
 * Check data[0..size) and describe it in *img (which points into data: keep data alive).
 * Returns 0, or -EINVAL with *why naming the problem ("ELF: not x86-64", "ELF: segment
 * past end of file", ...).
 */
int elf_parse(struct elf_image *img, const void *data, size_t size, const char **why);

/*
 * Call fn for every note whose owner is `owner`, in the PT_NOTE segments (those with
 * p_offset 0 are skipped: some linkers leave it unset); if none is found there, in the
 * SHT_NOTE sections instead. This is the order Xen's loader uses. fn gets the note type
 * and its descriptor; desc[0..ROUNDUP(len, 4)) is readable (a string descriptor may end
 * in its padding). A nonzero return from fn stops the walk and is returned.
 * Returns the number of matching notes, -EINVAL if a note area or a note's sizes run
 * outside the image or its area, or -E2BIG after ELF_MAX_NOTES notes.
 */
int elf_for_each_note(const struct elf_image *img, const char *owner,
                      int (*fn)(void *ctx, uint32_t type, const void *desc, size_t len),
                      void *ctx);

/*
 * Copy every loadable segment to guest virtual address p_paddr + va_offset: filesz bytes
 * from the image, then memsz - filesz zeroes (src == NULL). Zero-length pieces are not
 * passed on. Stops at the first nonzero return of write and returns it.
 */
int elf_load(const struct elf_image *img, uint64_t va_offset,
             int (*write)(void *ctx, uint64_t va, const void *src, size_t len), void *ctx);

/* The contents of the section called name (NULL if none, or if it is not in the file). */
const void *elf_section_by_name(const struct elf_image *img, const char *name,
                                size_t *len);

#endif
