/* From a boot module to a guest kernel's ELF image: bzImage and compression unpacking. */
#ifndef ENSO_KERNEL_IMAGE_H
#define ENSO_KERNEL_IMAGE_H

#include <enso/types.h>

/* Largest decompressed kernel accepted. */
#define KERNEL_IMAGE_MAX GB(1)

/*
 * Find the ELF image in a boot module img[0..len). Accepted:
 *  - an ELF image: returned as is (*elf = img, nothing copied);
 *  - a gzip or xz compressed ELF;
 *  - a Linux bzImage ("HdrS" at 0x202, boot protocol 2.08 or later) whose payload is
 *    one of the above (the payload of an uncompressed one is returned in place).
 * The decompressed size is taken from the data: gzip's trailer, the 4-byte size that
 * Linux appends to an xz payload, or the index of a bare .xz stream. The output buffer
 * comes from alloc(ctx, bytes) (NULL => -ENOMEM); on success *allocated is true and
 * the buffer, *elf_len bytes long, is the caller's to release with
 * free_fn(ctx, *elf, *elf_len).
 * On error nothing stays allocated. Returns 0, -ENOMEM, or -EINVAL with *why naming the
 * problem (a truncated bzImage, an unsupported compression such as bzip2 or zstd, a
 * payload that does not decompress or is not an ELF image, ...).
 */
int kernel_image_unpack(const void *img, size_t len,
                        void *(*alloc)(void *ctx, size_t bytes),
                        void (*free_fn)(void *ctx, void *p, size_t bytes), void *ctx,
                        const void **elf, size_t *elf_len, bool *allocated,
                        const char **why);

#endif
