/*
 * Multiboot 1 (QEMU -kernel) and multiboot 2 (GRUB, BIOS or UEFI) information. Runs on
 * the boot page tables, where the loader's structures (all below 4 GiB) are reachable
 * 1:1; everything needed later is copied into boot_info.
 */
#include <enso/lib.h>
#include <enso/printk.h>
#include <asm/bootinfo.h>

#define MB1_BOOT_MAGIC 0x2badb002
#define MB2_BOOT_MAGIC 0x36d76289

struct boot_info boot_info;

static const void *phys(paddr_t pa) { return (const void *)(uintptr_t)pa; }

static void copy_str(char *dst, size_t size, paddr_t src)
{
    if (src)
        strlcpy(dst, phys(src), size);
}

static void add_module(paddr_t start, paddr_t end, paddr_t string)
{
    struct boot_module *m;

    if (boot_info.nr_modules == MAX_BOOT_MODULES) {
        printk(LOG_WARNING "boot: more than %d modules; the rest are ignored\n", MAX_BOOT_MODULES);
        return;
    }
    m = &boot_info.modules[boot_info.nr_modules++];
    m->start = start;
    m->end = end;
    copy_str(m->string, sizeof(m->string), string);
}

/* Multiboot 1 */
struct mb1_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
    uint32_t syms[4], mmap_length, mmap_addr, drives_length, drives_addr, config_table;
    uint32_t boot_loader_name;
} __packed;
struct mb1_module { uint32_t start, end, string, reserved; } __packed;
struct mb1_mmap { uint32_t size; uint64_t addr, len; uint32_t type; } __packed;

static void parse_mb1(const struct mb1_info *mbi)
{
    boot_info.protocol = "multiboot1";
    if (mbi->flags & (1 << 2))
        copy_str(boot_info.cmdline, sizeof(boot_info.cmdline), mbi->cmdline);
    if (mbi->flags & (1 << 9))
        copy_str(boot_info.loader, sizeof(boot_info.loader), mbi->boot_loader_name);
    if (mbi->flags & (1 << 3)) {
        const struct mb1_module *m = phys(mbi->mods_addr);
        for (uint32_t i = 0; i < mbi->mods_count; i++)
            add_module(m[i].start, m[i].end, m[i].string);
    }
    if (mbi->flags & (1 << 6)) {
        paddr_t p = mbi->mmap_addr, end = p + mbi->mmap_length;
        while (p < end) {
            const struct mb1_mmap *e = phys(p);
            memmap_add(&boot_info.memmap, e->addr, e->len, e->type);
            p += e->size + 4;
        }
        boot_info.memmap_source = "multiboot1 memory map";
    } else if (mbi->flags & (1 << 0)) {
        /* Only the old lower/upper sizes: RAM below 640 KiB and from 1 MiB up. */
        memmap_add(&boot_info.memmap, 0, (uint64_t)mbi->mem_lower << 10, MEM_RAM);
        memmap_add(&boot_info.memmap, MB(1), (uint64_t)mbi->mem_upper << 10, MEM_RAM);
        boot_info.memmap_source = "multiboot1 mem_lower/mem_upper";
    }
}

/* Multiboot 2 */
struct mb2_tag { uint32_t type, size; };
struct mb2_mmap_entry { uint64_t addr, len; uint32_t type, reserved; };
struct efi_mem_desc { uint32_t type, pad; uint64_t phys, virt, pages, attr; };

enum { EFI_LOADER_CODE = 1, EFI_LOADER_DATA, EFI_BS_CODE, EFI_BS_DATA, EFI_RT_CODE,
       EFI_RT_DATA, EFI_CONVENTIONAL, EFI_UNUSABLE, EFI_ACPI_RECLAIM, EFI_ACPI_NVS };

/* After ExitBootServices, loader and boot-services memory is free RAM too. */
static uint32_t efi_type(uint32_t t)
{
    switch (t) {
    case EFI_LOADER_CODE: case EFI_LOADER_DATA: case EFI_BS_CODE: case EFI_BS_DATA:
    case EFI_CONVENTIONAL:
        return MEM_RAM;
    case EFI_ACPI_RECLAIM:
        return MEM_ACPI;
    case EFI_ACPI_NVS:
        return MEM_NVS;
    case EFI_UNUSABLE:
        return MEM_UNUSABLE;
    default:
        return MEM_RESERVED;
    }
}

static void mb2_mmap(const struct mb2_tag *t, struct memmap *map)
{
    const uint32_t *hdr = (const uint32_t *)(t + 1);
    uint32_t esize = hdr[0];
    const uint8_t *p = (const uint8_t *)(hdr + 2), *end = (const uint8_t *)t + t->size;

    for (; esize && p + esize <= end; p += esize) {
        const struct mb2_mmap_entry *e = (const void *)p;
        memmap_add(map, e->addr, e->len, e->type);
    }
}

static void mb2_efi_mmap(const struct mb2_tag *t, struct memmap *map)
{
    const uint32_t *hdr = (const uint32_t *)(t + 1);
    uint32_t dsize = hdr[0];
    const uint8_t *p = (const uint8_t *)(hdr + 2), *end = (const uint8_t *)t + t->size;

    for (; dsize && p + dsize <= end; p += dsize) {
        const struct efi_mem_desc *d = (const void *)p;
        memmap_add(map, d->phys, d->pages << PAGE_SHIFT, efi_type(d->type));
    }
}

static void parse_mb2(paddr_t info)
{
    static struct memmap efi_map;
    uint32_t total = *(const uint32_t *)phys(info);
    paddr_t p = info + 8, end = info + total;
    bool have_efi_map = false;

    boot_info.protocol = "multiboot2";
    while (p + 8 <= end) {
        const struct mb2_tag *t = phys(p);
        const char *str = (const char *)(t + 1);
        if (t->type == 0)
            break;
        switch (t->type) {
        case 1: strlcpy(boot_info.cmdline, str, sizeof(boot_info.cmdline)); break;
        case 2: strlcpy(boot_info.loader, str, sizeof(boot_info.loader)); break;
        case 3: {
            const uint32_t *m = (const uint32_t *)(t + 1);
            add_module(m[0], m[1], (paddr_t)(uintptr_t)(m + 2));
            break;
        }
        case 6: mb2_mmap(t, &boot_info.memmap); break;
        case 14: case 15:
            memcpy(boot_info.rsdp, t + 1, MIN(sizeof(boot_info.rsdp), t->size - 8));
            boot_info.have_rsdp = true;
            break;
        case 17: mb2_efi_mmap(t, &efi_map); have_efi_map = true; boot_info.efi = true; break;
        case 11: case 12: boot_info.efi = true; break;
        }
        p += ROUNDUP(t->size, 8);
    }
    boot_info.memmap_source = "multiboot2 memory map";
    if (have_efi_map && efi_map.nr) {
        boot_info.memmap = efi_map;
        boot_info.memmap_source = "EFI memory map";
    }
}

/* GRUB 2 reports itself as "GRUB 2.xx" (GRUB legacy as "GNU GRUB 0.xx"). */
static bool loader_is_grub2(const char *name)
{
    for (; *name; name++)
        if (!strncmp(name, "GRUB ", 5))
            return name[5] != '0';
    return false;
}

/*
 * A module string is "<file> <arguments>" from QEMU and most loaders, but GRUB 2 passes
 * the arguments alone (Xen allows for the same). Such strings get a stand-in file word,
 * "module<N>", so that no argument is taken for a file name.
 */
static void name_grub2_modules(void)
{
    char buf[sizeof(boot_info.modules[0].string)];

    if (!loader_is_grub2(boot_info.loader))
        return;
    for (unsigned int i = 0; i < boot_info.nr_modules; i++) {
        struct boot_module *m = &boot_info.modules[i];
        snprintf(buf, sizeof(buf), "module%u %s", i, m->string);
        strlcpy(m->string, buf, sizeof(m->string));
    }
}

bool multiboot_parse(uint32_t magic, paddr_t info)
{
    if (magic == MB1_BOOT_MAGIC) {
        parse_mb1(phys(info));
    } else if (magic == MB2_BOOT_MAGIC) {
        parse_mb2(info);
    } else {
        printk(LOG_ERR "boot: unknown loader magic %#x: not multiboot 1 or 2\n", magic);
        return false;
    }
    name_grub2_modules();
    if (!boot_info.memmap.nr) {
        printk(LOG_ERR "boot: the loader passed no memory map\n");
        return false;
    }
    return true;
}
