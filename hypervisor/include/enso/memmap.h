/*
 * The machine memory map, as the firmware (e820 / multiboot) describes it. Half-open
 * ranges [addr, addr + size). After memmap_sanitize() entries are sorted, disjoint and
 * adjacent entries differ in type; the other functions expect a sanitised map.
 */
#ifndef ENSO_MEMMAP_H
#define ENSO_MEMMAP_H

#include <enso/types.h>

#define MEM_RAM 1
#define MEM_RESERVED 2
#define MEM_ACPI 3     /* ACPI tables: reclaimable once they have been read */
#define MEM_NVS 4      /* ACPI non-volatile storage: must be preserved */
#define MEM_UNUSABLE 5 /* bad memory */

#define MEMMAP_MAX 128

struct memmap_entry {
    uint64_t addr, size;
    uint32_t type;
};

struct memmap {
    unsigned int nr;
    struct memmap_entry map[MEMMAP_MAX];
};

/* Appends an entry as given (no checks); -ENOSPC when the map is full. */
int memmap_add(struct memmap *m, uint64_t addr, uint64_t size, uint32_t type);
/*
 * Makes the map sorted and disjoint, reporting each problem with a warning: empty
 * entries are dropped, entries running past 2^64 are cut at 2^64 - 1, and where entries
 * overlap the more restrictive type wins (any other type beats RAM; between two non-RAM
 * types the higher number wins). Adjacent entries of one type are merged silently.
 * Returns the number of problems. Uses static scratch space: boot-time, one CPU only.
 */
int memmap_sanitize(struct memmap *m);
/* Drops RAM at and above limit, cutting an entry that straddles it. */
void memmap_limit(struct memmap *m, uint64_t limit);
/* Removes [addr, addr + size) from RAM (other types are kept). */
void memmap_remove(struct memmap *m, uint64_t addr, uint64_t size);
uint64_t memmap_ram_bytes(const struct memmap *m);
/* End of the highest RAM range, 0 if there is no RAM. */
uint64_t memmap_ram_end(const struct memmap *m);
void memmap_print(const struct memmap *m);

#endif
