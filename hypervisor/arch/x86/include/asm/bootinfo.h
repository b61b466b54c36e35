/* What the boot loader told us, copied out of its structures before they can be reused. */
#ifndef ASM_BOOTINFO_H
#define ASM_BOOTINFO_H

#include <enso/memmap.h>

#define MAX_BOOT_MODULES 16

struct boot_module {
    paddr_t start, end;
    char string[256];
};

struct boot_info {
    const char *protocol;   /* "multiboot1" or "multiboot2" */
    char loader[64];
    char cmdline[1024];
    struct memmap memmap;
    const char *memmap_source;
    unsigned int nr_modules;
    struct boot_module modules[MAX_BOOT_MODULES];
    uint8_t rsdp[36];       /* a copy of the ACPI RSDP, if the loader passed one */
    bool have_rsdp, efi;
};

extern struct boot_info boot_info;

/* Parse the loader's information; returns false (with a reason printed) if unusable. */
bool multiboot_parse(uint32_t magic, paddr_t info);

#endif
