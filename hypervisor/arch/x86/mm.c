/*
 * enso's own address space. At boot we build the idle page tables: enso's image with
 * per-section permissions, a direct map of machine memory and the frame table, then
 * switch to them (dropping the loader's 1:1 map) and hand all free RAM to the buddy
 * allocator. Page-table pages come from a bump "boot allocator" until the heap exists.
 */
#include <enso/lib.h>
#include <enso/mm.h>
#include <enso/page_alloc.h>
#include <enso/panic.h>
#include <enso/printk.h>
#include <enso/sched.h>
#include <enso/keyhandler.h>
#include <enso/xmalloc.h>
#include <asm/cpufeature.h>
#include <asm/mm.h>
#include <asm/processor.h>

pgentry_t idle_l4[PAGE_TABLE_ENTRIES] __aligned(4096);
pgentry_t trampoline_l4[PAGE_TABLE_ENTRIES] __aligned(4096);
static pgentry_t trampoline_l3[PAGE_TABLE_ENTRIES] __aligned(4096);
static pgentry_t trampoline_l2[PAGE_TABLE_ENTRIES] __aligned(4096);

unsigned long max_page;
paddr_t trampoline_paddr;
unsigned long boot_free_mib, ram_mib;

extern char __image_start[], _end_text[], _end_rodata[], __image_end[];

static bool directmap_live, heap_live;
static paddr_t balloc_cur, balloc_end;
static uint64_t ioremap_next = IOREMAP_VIRT_START;

static paddr_t image_paddr(const void *p) { return (paddr_t)((uintptr_t)p - ENSO_VIRT_START); }

/* Before the switch the loader's 1:1 map reaches the low 4 GiB; after it, the direct map. */
static void *pt_virt(paddr_t pa) { return directmap_live ? maddr_to_virt(pa) : (void *)(uintptr_t)pa; }

static paddr_t boot_alloc(size_t size, size_t align)
{
    paddr_t pa = ROUNDUP(balloc_cur, align);

    if (pa + size > balloc_end)
        panic("boot allocator exhausted (%zu bytes wanted)", size);
    balloc_cur = pa + size;
    return pa;
}

static paddr_t alloc_pt_page(void)
{
    paddr_t pa;

    if (heap_live) {
        void *v = alloc_xenheap_pages(0, 0);
        if (!v)
            panic("out of memory for page tables");
        pa = virt_to_maddr(v);
    } else {
        pa = boot_alloc(PAGE_SIZE, PAGE_SIZE);
    }
    memset(pt_virt(pa), 0, PAGE_SIZE);
    return pa;
}

/* The table one level down from *e, created if absent; NULL if *e maps a large page. */
static pgentry_t *next_table_flags(pgentry_t *e, uint64_t table_flags)
{
    if (!pte_present(*e))
        *e = pte_make(alloc_pt_page(), table_flags);
    else if (*e & _PAGE_PSE)
        return NULL;
    return pt_virt(pte_paddr(*e));
}

static pgentry_t *next_table(pgentry_t *e)
{
    return next_table_flags(e, PTE_TABLE);
}

static unsigned int leaf_level(uint64_t va, paddr_t pa, uint64_t left)
{
    if (cpu_has_page1gb && !((va | pa) & (GB(1) - 1)) && left >= GB(1))
        return 3;
    if (!((va | pa) & (MB(2) - 1)) && left >= MB(2))
        return 2;
    return 1;
}

/*
 * Map [va, va+size) to [pa, pa+size) with flags, using the largest pages alignment allows.
 * Parts already covered by a large page are left as they are.
 */
static void map_range(pgentry_t *l4, uint64_t va, paddr_t pa, uint64_t size, uint64_t flags)
{
    mm_map(l4, va, pa, size, flags, PTE_TABLE);
}

void mm_map(pgentry_t *l4, uint64_t va, paddr_t pa, uint64_t size, uint64_t flags,
            uint64_t table_flags)
{
    while (size) {
        unsigned int level = leaf_level(va, pa, size);
        uint64_t step = 1UL << (L1_SHIFT + 9 * (level - 1));
        pgentry_t *t = l4;

        for (unsigned int l = 4; l > level && t; l--)
            t = next_table_flags(&t[pt_index(va, l)], table_flags);
        if (t)
            t[pt_index(va, level)] = pte_make(pa, flags | (level > 1 ? _PAGE_PSE : 0));
        va += step;
        pa += step;
        size -= MIN(size, step);
    }
}

bool mm_lookup(uint64_t va, paddr_t *pa, pgentry_t *leaf)
{
    pgentry_t *t = maddr_to_virt(read_cr3() & PADDR_MASK);

    for (unsigned int l = 4; l >= 1; l--) {
        pgentry_t e = t[pt_index(va, l)];
        if (!pte_present(e))
            return false;
        if (l == 1 || (e & _PAGE_PSE)) {
            uint64_t mask = (1UL << (L1_SHIFT + 9 * (l - 1))) - 1;
            *pa = (pte_paddr(e) & ~mask) | (va & mask);
            *leaf = e;
            return true;
        }
        t = maddr_to_virt(pte_paddr(e));
    }
    return false;
}

static void map_image(void)
{
    uint64_t s = (uint64_t)__image_start, t = (uint64_t)_end_text, r = (uint64_t)_end_rodata;
    uint64_t e = ROUNDUP((uint64_t)__image_end, PAGE_SIZE);

    map_range(idle_l4, s, image_paddr(__image_start), t - s, PTE_ENSO_TEXT);
    map_range(idle_l4, t, image_paddr(_end_text), r - t, PTE_ENSO_RO);
    map_range(idle_l4, r, image_paddr(_end_rodata), e - r, PTE_ENSO_RW);
}

static bool directmap_type(uint32_t type)
{
    return type == MEM_RAM || type == MEM_ACPI || type == MEM_NVS;
}

static void map_directmap(const struct memmap *map)
{
    for (unsigned int i = 0; i < map->nr; i++) {
        const struct memmap_entry *m = &map->map[i];
        paddr_t s = ROUNDDOWN(m->addr, PAGE_SIZE), e = ROUNDUP(m->addr + m->size, PAGE_SIZE);

        if (directmap_type(m->type) && e <= DIRECTMAP_VIRT_END - DIRECTMAP_VIRT_START)
            map_range(idle_l4, DIRECTMAP_VIRT_START + s, s, e - s, PTE_ENSO_RW);
    }
}

static void map_frame_table(void)
{
    uint64_t bytes = ROUNDUP(max_page * sizeof(struct page_info), MB(2));
    paddr_t pa = boot_alloc(bytes, MB(2));

    map_range(idle_l4, FRAMETABLE_VIRT_START, pa, bytes, PTE_ENSO_RW);
}

/*
 * The AP trampoline runs with paging on at a low physical address before it can jump
 * high, so its page tables are enso's plus a 1:1 map of the first 2 MiB.
 */
static void build_trampoline_tables(void)
{
    memcpy(trampoline_l4, idle_l4, sizeof(idle_l4));
    trampoline_l2[0] = pte_make(0, PTE_TABLE | _PAGE_PSE);
    trampoline_l3[0] = pte_make(image_paddr(trampoline_l2), PTE_TABLE);
    trampoline_l4[0] = pte_make(image_paddr(trampoline_l3), PTE_TABLE);
}

/* The largest RAM range below 4 GiB free of every reserved range feeds the boot allocator. */
static void choose_boot_region(const struct memmap *free_map)
{
    uint64_t best = 0;

    for (unsigned int i = 0; i < free_map->nr; i++) {
        const struct memmap_entry *m = &free_map->map[i];
        paddr_t s = ROUNDUP(m->addr, MB(2)), e = MIN(m->addr + m->size, GB(4));

        if (m->type == MEM_RAM && e > s && e - s > best) {
            best = e - s;
            balloc_cur = s;
            balloc_end = e;
        }
    }
    if (!best)
        panic("no RAM below 4 GiB for enso's page tables");
}

static void choose_trampoline(const struct memmap *free_map)
{
    for (unsigned int i = 0; i < free_map->nr; i++) {
        const struct memmap_entry *m = &free_map->map[i];
        paddr_t top = ROUNDDOWN(MIN(m->addr + m->size, 0x9f000UL), PAGE_SIZE);

        if (m->type == MEM_RAM && top >= 0x2000 && top - PAGE_SIZE >= m->addr)
            trampoline_paddr = top - PAGE_SIZE;
    }
    if (!trampoline_paddr)
        panic("no RAM page below 640 KiB for the AP trampoline");
}

static void init_frame_table(void)
{
    memset(FRAME_TABLE_BASE, 0, max_page * sizeof(struct page_info));
}

/* Every frame the allocator did not get (holes, enso, modules, firmware) is reserved. */
static void mark_reserved_frames(void)
{
    struct page_info *ft = FRAME_TABLE_BASE;

    for (unsigned long i = 0; i < max_page; i++)
        if (!(ft[i].count_info & PGC_free))
            ft[i].count_info = PGC_reserved;
}

static void give_free_ram(struct memmap *free_map)
{
    for (unsigned int i = 0; i < free_map->nr; i++) {
        const struct memmap_entry *m = &free_map->map[i];
        unsigned long s = PFN_UP(m->addr), e = PFN_DOWN(m->addr + m->size);

        if (m->type == MEM_RAM && e > s)
            heap_add_pages(_mfn(s), e - s);
    }
}

void mm_init(struct memmap *map, const paddr_t (*reserved)[2], unsigned int nr_reserved)
{
    static struct memmap free_map;
    paddr_t balloc_start;

    free_map = *map;
    memmap_remove(&free_map, 0, MB(1));
    for (unsigned int i = 0; i < nr_reserved; i++)
        memmap_remove(&free_map, reserved[i][0], reserved[i][1] - reserved[i][0]);
    choose_trampoline(map);
    choose_boot_region(&free_map);
    balloc_start = balloc_cur;

    max_page = PFN_UP(memmap_ram_end(map));
    if (max_page > (FRAMETABLE_VIRT_END - FRAMETABLE_VIRT_START) / sizeof(struct page_info))
        panic("too much memory for the frame table");
    map_image();
    map_directmap(map);
    map_frame_table();
    build_trampoline_tables();
    write_cr3(image_paddr(idle_l4));
    directmap_live = true;

    init_frame_table();
    memmap_remove(&free_map, balloc_start, balloc_cur - balloc_start);
    give_free_ram(&free_map);
    mark_reserved_frames();
    heap_live = true;
    ram_mib = memmap_ram_bytes(map) >> 20;
    printk("mem: %lu MiB RAM, frame table for %lu frames, boot tables used %lu KiB\n",
           ram_mib, max_page, (unsigned long)((balloc_cur - balloc_start) >> 10));
}

void *ioremap(paddr_t pa, size_t size, bool cached)
{
    paddr_t base = ROUNDDOWN(pa, PAGE_SIZE);
    uint64_t len = ROUNDUP(pa + size, PAGE_SIZE) - base, va = ioremap_next;

    if (va + len > IOREMAP_VIRT_END)
        return NULL;
    ioremap_next += len + PAGE_SIZE; /* an unmapped guard page between mappings */
    for (uint64_t off = 0; off < len; off += PAGE_SIZE) {
        pgentry_t *t = idle_l4;
        for (unsigned int l = 4; l > 1; l--)
            t = next_table(&t[pt_index(va + off, l)]);
        t[pt_index(va + off, 1)] = pte_make(base + off, cached ? PTE_ENSO_RW : PTE_ENSO_UC);
    }
    return (void *)(uintptr_t)(va + (pa - base));
}

/* The L1 entry mapping va in enso's tables, or NULL if va is not mapped with 4 KiB pages. */
pgentry_t *mm_l1_entry(uint64_t va)
{
    pgentry_t *t = idle_l4;

    for (unsigned int l = 4; l > 1; l--) {
        pgentry_t e = t[pt_index(va, l)];
        if (!pte_present(e) || (e & _PAGE_PSE))
            return NULL;
        t = maddr_to_virt(pte_paddr(e));
    }
    return &t[pt_index(va, 1)];
}

static void dump_memory(char key)
{
    printk("'%c' pressed -> memory: %lu MiB RAM, %lu of %lu heap pages free, xmalloc %zu bytes\n",
           key, ram_mib, heap_free_pages(), heap_total_pages(), xmalloc_used_bytes());
    heap_dump();
    domain_dump_memory();
}
register_keyhandler('m', dump_memory, "show memory and allocator state");
