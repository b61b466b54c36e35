/*
 * The machine memory map. Firmware maps are often untidy (unsorted, overlapping,
 * duplicated, zero-sized), and handing out reserved memory as RAM corrupts firmware
 * state in ways that surface much later, so memmap_sanitize() resolves every conflict
 * towards "not RAM" and says what it did.
 *
 * There is no heap at the time this runs: all the work is done in fixed arrays.
 */
#include <enso/memmap.h>
#include <enso/errno.h>
#include <enso/printk.h>

typedef unsigned long long ull;

/* Scratch for memmap_sanitize: 2 boundaries per entry, at most 2n - 1 ranges out. */
static uint64_t bounds[2 * MEMMAP_MAX];
static struct memmap_entry out[2 * MEMMAP_MAX];

static uint64_t end_of(const struct memmap_entry *e)
{
    return e->addr + e->size;
}

/* Higher wins an overlap: RAM loses to everything, otherwise the higher type number. */
static uint64_t rank(uint32_t type)
{
    return type == MEM_RAM ? 0 : (uint64_t)type + 1;
}

static void remove_at(struct memmap *m, unsigned int i)
{
    for (m->nr--; i < m->nr; i++)
        m->map[i] = m->map[i + 1];
}

static int insert_at(struct memmap *m, unsigned int i, struct memmap_entry e)
{
    if (m->nr >= MEMMAP_MAX)
        return -ENOSPC;
    for (unsigned int j = m->nr++; j > i; j--)
        m->map[j] = m->map[j - 1];
    m->map[i] = e;
    return 0;
}

int memmap_add(struct memmap *m, uint64_t addr, uint64_t size, uint32_t type)
{
    struct memmap_entry e = { .addr = addr, .size = size, .type = type };

    return insert_at(m, m->nr, e);
}

/* Drops empty entries and cuts those that wrap; returns the number of problems. */
static int drop_bad_entries(struct memmap *m)
{
    int problems = 0;

    for (unsigned int i = 0; i < m->nr;) {
        struct memmap_entry *e = &m->map[i];

        if (e->size > UINT64_MAX - e->addr) {
            printk(LOG_WARNING "memmap: [0x%llx+0x%llx) type %u runs past 2^64, "
                   "cutting it at 0x%llx\n", (ull)e->addr, (ull)e->size, e->type,
                   (ull)UINT64_MAX);
            e->size = UINT64_MAX - e->addr;
            problems++;
        }
        if (e->size == 0) {
            printk(LOG_WARNING "memmap: dropping empty entry at 0x%llx type %u\n",
                   (ull)e->addr, e->type);
            remove_at(m, i);
            problems++;
            continue;
        }
        i++;
    }
    return problems;
}

/* Insertion sort: n is at most MEMMAP_MAX and firmware maps are nearly sorted. */
static void sort_entries(struct memmap *m)
{
    for (unsigned int i = 1; i < m->nr; i++) {
        struct memmap_entry e = m->map[i];
        unsigned int j = i;

        for (; j > 0 && m->map[j - 1].addr > e.addr; j--)
            m->map[j] = m->map[j - 1];
        m->map[j] = e;
    }
}

static void report_overlap(const struct memmap_entry *a, const struct memmap_entry *b)
{
    if (a->addr == b->addr && a->size == b->size && a->type == b->type) {
        printk(LOG_WARNING "memmap: duplicate entry [0x%llx-0x%llx) type %u\n",
               (ull)a->addr, (ull)end_of(a), a->type);
        return;
    }
    uint32_t keep = rank(a->type) >= rank(b->type) ? a->type : b->type;

    printk(LOG_WARNING "memmap: [0x%llx-0x%llx) type %u overlaps [0x%llx-0x%llx) type %u, "
           "keeping type %u\n", (ull)a->addr, (ull)end_of(a), a->type, (ull)b->addr,
           (ull)end_of(b), b->type, keep);
}

/* Reports every overlapping pair of a sorted map; returns how many there are. */
static int report_overlaps(const struct memmap *m)
{
    int problems = 0;

    for (unsigned int i = 0; i < m->nr; i++) {
        for (unsigned int j = i + 1; j < m->nr; j++) {
            if (m->map[j].addr >= end_of(&m->map[i]))
                break;
            report_overlap(&m->map[i], &m->map[j]);
            problems++;
        }
    }
    return problems;
}

static unsigned int add_bound(unsigned int n, uint64_t p)
{
    unsigned int j = 0;

    while (j < n && bounds[j] < p)
        j++;
    if (j < n && bounds[j] == p)
        return n;
    for (unsigned int k = n; k > j; k--)
        bounds[k] = bounds[k - 1];
    bounds[j] = p;
    return n + 1;
}

/* Every start and end, sorted, without duplicates; returns how many. */
static unsigned int collect_bounds(const struct memmap *m)
{
    unsigned int n = 0;

    for (unsigned int i = 0; i < m->nr; i++) {
        n = add_bound(n, m->map[i].addr);
        n = add_bound(n, end_of(&m->map[i]));
    }
    return n;
}

/* Finds the winning type among the entries covering addr; false if none does. */
static bool type_at(const struct memmap *m, uint64_t addr, uint32_t *type)
{
    bool covered = false;

    for (unsigned int i = 0; i < m->nr && m->map[i].addr <= addr; i++) {
        const struct memmap_entry *e = &m->map[i];

        if (end_of(e) > addr && (!covered || rank(e->type) > rank(*type))) {
            *type = e->type;
            covered = true;
        }
    }
    return covered;
}

/*
 * Between two consecutive boundaries the set of covering entries cannot change, so each
 * such range gets one winning type; holes stay holes. Returns the number of ranges.
 */
static unsigned int sweep(const struct memmap *m, unsigned int nb)
{
    unsigned int n = 0;

    for (unsigned int k = 0; k + 1 < nb; k++) {
        uint64_t lo = bounds[k], hi = bounds[k + 1];
        uint32_t type = 0;

        if (!type_at(m, lo, &type))
            continue;
        if (n && out[n - 1].type == type && end_of(&out[n - 1]) == lo) {
            out[n - 1].size += hi - lo;
        } else {
            out[n].addr = lo;
            out[n].size = hi - lo;
            out[n].type = type;
            n++;
        }
    }
    return n;
}

int memmap_sanitize(struct memmap *m)
{
    int problems = drop_bad_entries(m);
    unsigned int n;

    sort_entries(m);
    problems += report_overlaps(m);
    n = sweep(m, collect_bounds(m));
    if (n > MEMMAP_MAX) {
        /* Losing the top of the map only loses memory; no reserved range becomes RAM. */
        printk(LOG_WARNING "memmap: map needs %u entries but only %u fit, dropping "
               "[0x%llx-0x%llx)\n", n, MEMMAP_MAX, (ull)out[MEMMAP_MAX].addr,
               (ull)end_of(&out[n - 1]));
        n = MEMMAP_MAX;
        problems++;
    }
    for (unsigned int i = 0; i < n; i++)
        m->map[i] = out[i];
    m->nr = n;
    return problems;
}

void memmap_limit(struct memmap *m, uint64_t limit)
{
    memmap_remove(m, limit, UINT64_MAX - limit);
}

/* Cuts [lo, hi) out of RAM entry i; returns how many entries now stand for it (0-2). */
static unsigned int cut_entry(struct memmap *m, unsigned int i, uint64_t lo, uint64_t hi)
{
    struct memmap_entry *e = &m->map[i];
    uint64_t end = end_of(e);

    if (lo <= e->addr && hi >= end) {
        remove_at(m, i);
        return 0;
    }
    if (lo <= e->addr) {
        e->addr = hi;
        e->size = end - hi;
        return 1;
    }
    e->size = lo - e->addr;
    if (hi >= end)
        return 1;

    struct memmap_entry upper = { .addr = hi, .size = end - hi, .type = MEM_RAM };

    if (insert_at(m, i + 1, upper)) {
        printk(LOG_WARNING "memmap: no room to split RAM, dropping [0x%llx-0x%llx)\n",
               (ull)hi, (ull)end);
        return 1;
    }
    return 2;
}

void memmap_remove(struct memmap *m, uint64_t addr, uint64_t size)
{
    uint64_t hi = size > UINT64_MAX - addr ? UINT64_MAX : addr + size;

    for (unsigned int i = 0; i < m->nr;) {
        const struct memmap_entry *e = &m->map[i];

        if (e->type != MEM_RAM || e->addr >= hi || end_of(e) <= addr)
            i++;
        else
            i += cut_entry(m, i, addr, hi);
    }
}

uint64_t memmap_ram_bytes(const struct memmap *m)
{
    uint64_t total = 0;

    for (unsigned int i = 0; i < m->nr; i++)
        if (m->map[i].type == MEM_RAM)
            total += m->map[i].size;
    return total;
}

uint64_t memmap_ram_end(const struct memmap *m)
{
    uint64_t end = 0;

    for (unsigned int i = 0; i < m->nr; i++)
        if (m->map[i].type == MEM_RAM && end_of(&m->map[i]) > end)
            end = end_of(&m->map[i]);
    return end;
}

static const char *type_name(uint32_t type)
{
    static const char *const names[] = {
        [MEM_RAM] = "RAM",       [MEM_RESERVED] = "reserved", [MEM_ACPI] = "ACPI data",
        [MEM_NVS] = "ACPI NVS",  [MEM_UNUSABLE] = "unusable",
    };

    return type < ARRAY_SIZE(names) && names[type] ? names[type] : NULL;
}

void memmap_print(const struct memmap *m)
{
    for (unsigned int i = 0; i < m->nr; i++) {
        const struct memmap_entry *e = &m->map[i];
        const char *name = type_name(e->type);

        if (name)
            printk("memmap: [0x%016llx-0x%016llx) %s\n", (ull)e->addr, (ull)end_of(e),
                   name);
        else
            printk("memmap: [0x%016llx-0x%016llx) type %u\n", (ull)e->addr,
                   (ull)end_of(e), e->type);
    }
}
