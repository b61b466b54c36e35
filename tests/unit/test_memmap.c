/* Tests of the memory map: sanitising untidy firmware maps, limits and holes. */
#include <enso/errno.h>
#include <enso/memmap.h>
#include "harness.h"

static struct memmap map;

static void reset(void)
{
    memset(&map, 0, sizeof(map));
}

static void add(uint64_t addr, uint64_t size, uint32_t type)
{
    memmap_add(&map, addr, size, type);
}

static bool entry_is(unsigned int i, uint64_t addr, uint64_t end, uint32_t type)
{
    const struct memmap_entry *e = &map.map[i];

    if (i < map.nr && e->addr == addr && e->addr + e->size == end && e->type == type)
        return true;
    printf("  entry %u: want [%#llx-%#llx) type %u, have ", i, (unsigned long long)addr,
           (unsigned long long)end, type);
    if (i < map.nr)
        printf("[%#llx-%#llx) type %u\n", (unsigned long long)e->addr,
               (unsigned long long)(e->addr + e->size), e->type);
    else
        printf("nothing (nr %u)\n", map.nr);
    return false;
}

/* A clean PC-like map: nothing to report, nothing changes, the hole stays. */
TEST(clean_map_unchanged)
{
    reset();
    add(0, 0x9fc00, MEM_RAM);
    add(0x9fc00, 0x400, MEM_RESERVED);
    add(0xf0000, 0x10000, MEM_RESERVED);
    add(0x100000, 0x7ff00000, MEM_RAM);
    CHECK_EQ(memmap_sanitize(&map), 0);
    CHECK_EQ(map.nr, 4);
    CHECK(entry_is(1, 0x9fc00, 0xa0000, MEM_RESERVED));
    CHECK(entry_is(2, 0xf0000, 0x100000, MEM_RESERVED)); /* [0xa0000, 0xf0000) a hole */
    CHECK(entry_is(3, 0x100000, 0x80000000, MEM_RAM));
    CHECK(!strcmp(unit_log(), ""));
    CHECK_EQ(memmap_ram_bytes(&map), 0x9fc00 + 0x7ff00000);
    CHECK_EQ(memmap_ram_end(&map), 0x80000000);
}

TEST(add_until_full)
{
    reset();
    for (unsigned int i = 0; i < MEMMAP_MAX; i++)
        CHECK_EQ(memmap_add(&map, i * 0x2000ULL, 0x1000, MEM_RAM), 0);
    CHECK_EQ(memmap_add(&map, 1ULL << 40, 0x1000, MEM_RAM), -ENOSPC);
    CHECK_EQ(map.nr, MEMMAP_MAX);
}

TEST(unsorted_input_is_sorted)
{
    reset();
    add(0x100000, 0x100000, MEM_RAM);
    add(0x300000, 0x1000, MEM_ACPI);
    add(0, 0x1000, MEM_RESERVED);
    CHECK_EQ(memmap_sanitize(&map), 0);
    CHECK_EQ(map.nr, 3);
    CHECK(entry_is(0, 0, 0x1000, MEM_RESERVED));
    CHECK(entry_is(1, 0x100000, 0x200000, MEM_RAM));
    CHECK(entry_is(2, 0x300000, 0x301000, MEM_ACPI));
}

TEST(adjacent_same_type_merged)
{
    reset();
    add(0x2000, 0x1000, MEM_RAM);
    add(0, 0x1000, MEM_RAM);
    add(0x1000, 0x1000, MEM_RAM);
    add(0x3000, 0x1000, MEM_RESERVED); /* adjacent but different: kept apart */
    CHECK_EQ(memmap_sanitize(&map), 0);
    CHECK_EQ(map.nr, 2);
    CHECK(entry_is(0, 0, 0x3000, MEM_RAM));
    CHECK(entry_is(1, 0x3000, 0x4000, MEM_RESERVED));
}

TEST(ram_overlapping_reserved)
{
    reset();
    add(0, 0x10000, MEM_RAM);
    add(0x8000, 0x10000, MEM_RESERVED);
    CHECK_EQ(memmap_sanitize(&map), 1);
    CHECK_EQ(map.nr, 2);
    CHECK(entry_is(0, 0, 0x8000, MEM_RAM));
    CHECK(entry_is(1, 0x8000, 0x18000, MEM_RESERVED));
    CHECK(strstr(unit_log(), "memmap: [0x0-0x10000) type 1 overlaps [0x8000-0x18000) type 2, "
                             "keeping type 2\n"));
}

TEST(reserved_inside_ram_splits_it)
{
    reset();
    add(0, 0x100000, MEM_RAM);
    add(0x40000, 0x1000, MEM_NVS);
    CHECK_EQ(memmap_sanitize(&map), 1);
    CHECK_EQ(map.nr, 3);
    CHECK(entry_is(0, 0, 0x40000, MEM_RAM));
    CHECK(entry_is(1, 0x40000, 0x41000, MEM_NVS));
    CHECK(entry_is(2, 0x41000, 0x100000, MEM_RAM));
    CHECK(strstr(unit_log(), "[0x0-0x100000) type 1 overlaps [0x40000-0x41000) type 4, "
                             "keeping type 4"));
}

TEST(ram_inside_reserved_vanishes)
{
    reset();
    add(0x1000, 0x1000, MEM_RAM);
    add(0, 0x10000, MEM_RESERVED);
    CHECK_EQ(memmap_sanitize(&map), 1);
    CHECK_EQ(map.nr, 1);
    CHECK(entry_is(0, 0, 0x10000, MEM_RESERVED));
    CHECK_EQ(memmap_ram_bytes(&map), 0);
    CHECK_EQ(memmap_ram_end(&map), 0);
}

TEST(higher_non_ram_type_wins)
{
    reset();
    add(0, 0x3000, MEM_ACPI);
    add(0x1000, 0x1000, MEM_RESERVED);
    add(0x2000, 0x2000, MEM_UNUSABLE);
    CHECK_EQ(memmap_sanitize(&map), 2);
    CHECK_EQ(map.nr, 2);
    CHECK(entry_is(0, 0, 0x2000, MEM_ACPI));
    CHECK(entry_is(1, 0x2000, 0x4000, MEM_UNUSABLE));
    CHECK(strstr(unit_log(), "type 3 overlaps [0x1000-0x2000) type 2, keeping type 3"));
    CHECK(strstr(unit_log(), "type 3 overlaps [0x2000-0x4000) type 5, keeping type 5"));
}

TEST(identical_duplicates)
{
    reset();
    add(0x100000, 0x100000, MEM_RAM);
    add(0x100000, 0x100000, MEM_RAM);
    add(0, 0x1000, MEM_RESERVED);
    add(0, 0x1000, MEM_RESERVED);
    CHECK_EQ(memmap_sanitize(&map), 2);
    CHECK_EQ(map.nr, 2);
    CHECK(entry_is(0, 0, 0x1000, MEM_RESERVED));
    CHECK(entry_is(1, 0x100000, 0x200000, MEM_RAM));
    CHECK(strstr(unit_log(), "memmap: duplicate entry [0x100000-0x200000) type 1"));
    CHECK(strstr(unit_log(), "memmap: duplicate entry [0x0-0x1000) type 2"));
}

TEST(same_type_overlap_merges)
{
    reset();
    add(0, 0x3000, MEM_RAM);
    add(0x2000, 0x3000, MEM_RAM);
    CHECK_EQ(memmap_sanitize(&map), 1);
    CHECK_EQ(map.nr, 1);
    CHECK(entry_is(0, 0, 0x5000, MEM_RAM));
    CHECK(strstr(unit_log(), "overlaps [0x2000-0x5000) type 1, keeping type 1"));
}

TEST(zero_size_dropped)
{
    reset();
    add(0x5000, 0, MEM_RAM);
    add(0, 0x1000, MEM_RAM);
    CHECK_EQ(memmap_sanitize(&map), 1);
    CHECK_EQ(map.nr, 1);
    CHECK(entry_is(0, 0, 0x1000, MEM_RAM));
    CHECK(strstr(unit_log(), "memmap: dropping empty entry at 0x5000 type 1"));
}

TEST(wraparound_cut)
{
    reset();
    add(0xfffffffffff00000ULL, 0x200000, MEM_RESERVED);
    add(0, 0x1000, MEM_RAM);
    add(UINT64_MAX, 5, MEM_RAM); /* nothing left once cut */
    CHECK_EQ(memmap_sanitize(&map), 3);
    CHECK_EQ(map.nr, 2);
    CHECK(entry_is(1, 0xfffffffffff00000ULL, UINT64_MAX, MEM_RESERVED));
    CHECK(strstr(unit_log(), "memmap: [0xfffffffffff00000+0x200000) type 2 runs past 2^64"));
    CHECK(strstr(unit_log(), "dropping empty entry at 0xffffffffffffffff type 1"));
}

TEST(empty_map)
{
    reset();
    CHECK_EQ(memmap_sanitize(&map), 0);
    CHECK_EQ(map.nr, 0);
    CHECK_EQ(memmap_ram_bytes(&map), 0);
    CHECK_EQ(memmap_ram_end(&map), 0);
}

/* One RAM range pierced by many reserved ones needs more entries than it came with. */
TEST(too_many_fragments)
{
    reset();
    add(0, 1ULL << 30, MEM_RAM);
    for (unsigned int i = 1; i < MEMMAP_MAX; i++)
        add(i * 0x100000ULL, 0x1000, MEM_RESERVED);
    CHECK_EQ(memmap_sanitize(&map), (MEMMAP_MAX - 1) + 1);
    CHECK_EQ(map.nr, MEMMAP_MAX);
    CHECK(strstr(unit_log(), "only 128 fit"));
    for (unsigned int i = 0; i + 1 < map.nr; i++)
        CHECK(map.map[i].addr + map.map[i].size <= map.map[i + 1].addr);
}

TEST(limit_splits_ram)
{
    reset();
    add(0, 0x9f000, MEM_RAM);
    add(0x100000, 0x3ff00000, MEM_RAM);
    add(0x50000000, 0x1000, MEM_RESERVED);
    add(0x100000000ULL, 0x40000000, MEM_RAM);
    memmap_sanitize(&map);
    memmap_limit(&map, 0x20000000);
    CHECK_EQ(map.nr, 3);
    CHECK(entry_is(1, 0x100000, 0x20000000, MEM_RAM));
    CHECK(entry_is(2, 0x50000000, 0x50001000, MEM_RESERVED)); /* non-RAM is kept */
    CHECK_EQ(memmap_ram_end(&map), 0x20000000);
    memmap_limit(&map, 0x100000); /* exactly at an entry's start */
    CHECK_EQ(map.nr, 2);
    CHECK_EQ(memmap_ram_end(&map), 0x9f000);
}

TEST(absurd_limit_changes_nothing)
{
    reset();
    add(0, 0x9f000, MEM_RAM);
    add(0x100000, 0x3ff00000, MEM_RAM);
    memmap_limit(&map, 1ULL << 60);
    CHECK_EQ(map.nr, 2);
    CHECK_EQ(memmap_ram_end(&map), 0x40000000);
    memmap_limit(&map, UINT64_MAX);
    CHECK_EQ(map.nr, 2);
    memmap_limit(&map, 0x40000000); /* exactly the end */
    CHECK_EQ(map.nr, 2);
    CHECK_EQ(memmap_ram_bytes(&map), 0x9f000 + 0x3ff00000);
}

TEST(remove_punches_holes)
{
    reset();
    add(0, 0x100000, MEM_RAM);
    add(0x100000, 0x1000, MEM_RESERVED);
    memmap_remove(&map, 0x10000, 0x2000); /* middle: splits */
    CHECK_EQ(map.nr, 3);
    CHECK(entry_is(0, 0, 0x10000, MEM_RAM));
    CHECK(entry_is(1, 0x12000, 0x100000, MEM_RAM));
    memmap_remove(&map, 0, 0x1000); /* start */
    CHECK(entry_is(0, 0x1000, 0x10000, MEM_RAM));
    memmap_remove(&map, 0xff000, 0x2000); /* end, and over a reserved entry */
    CHECK(entry_is(1, 0x12000, 0xff000, MEM_RAM));
    CHECK(entry_is(2, 0x100000, 0x101000, MEM_RESERVED));
    memmap_remove(&map, 0, 0x11000); /* a whole entry */
    CHECK_EQ(map.nr, 2);
    CHECK(entry_is(0, 0x12000, 0xff000, MEM_RAM));
    memmap_remove(&map, 0x50000, UINT64_MAX); /* size running past 2^64 */
    CHECK(entry_is(0, 0x12000, 0x50000, MEM_RAM));
    CHECK_EQ(memmap_ram_bytes(&map), 0x50000 - 0x12000);
}

TEST(remove_split_when_full_drops_upper_part)
{
    reset();
    for (unsigned int i = 0; i < MEMMAP_MAX; i++)
        add(i * 0x10000ULL, 0x8000, MEM_RAM);
    memmap_remove(&map, 0x2000, 0x1000);
    CHECK_EQ(map.nr, MEMMAP_MAX);
    CHECK(entry_is(0, 0, 0x2000, MEM_RAM));
    CHECK(strstr(unit_log(), "memmap: no room to split RAM, dropping [0x3000-0x8000)"));
}

TEST(print_one_line_per_entry)
{
    reset();
    add(0, 0x1000, MEM_RAM);
    add(0x1000, 0x1000, MEM_NVS);
    add(0x2000, 0x1000, 12);
    memmap_print(&map);
    CHECK(strstr(unit_log(), "memmap: [0x0000000000000000-0x0000000000001000) RAM\n"));
    CHECK(strstr(unit_log(), "[0x0000000000001000-0x0000000000002000) ACPI NVS\n"));
    CHECK(strstr(unit_log(), "[0x0000000000002000-0x0000000000003000) type 12\n"));
}

/* Random maps: the result must be sorted, disjoint, merged, and never RAM where the
 * input had anything else. */
TEST(random_maps_are_sane)
{
    uint64_t seed = 0x1234567;

    for (int round = 0; round < 300; round++) {
        struct memmap orig;

        reset();
        unsigned int n = 1 + (unsigned int)((seed = seed * 6364136223846793005ULL + 1) >> 59);

        for (unsigned int i = 0; i < n; i++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            add((seed >> 40) & 0xff000, (seed >> 20) & 0x3f000, 1 + (uint32_t)(seed >> 61) % 5);
        }
        orig = map;
        memmap_sanitize(&map);
        for (unsigned int i = 0; i < map.nr; i++) {
            const struct memmap_entry *e = &map.map[i];

            CHECK(e->size > 0);
            if (i + 1 < map.nr) {
                CHECK(e->addr + e->size <= map.map[i + 1].addr);
                CHECK(e->addr + e->size < map.map[i + 1].addr || e->type != map.map[i + 1].type);
            }
            for (unsigned int j = 0; j < orig.nr; j++) {
                const struct memmap_entry *o = &orig.map[j];
                bool overlap = o->addr < e->addr + e->size && e->addr < o->addr + o->size;

                if (overlap && o->size && o->type != MEM_RAM)
                    CHECK(e->type != MEM_RAM);
            }
        }
    }
}
