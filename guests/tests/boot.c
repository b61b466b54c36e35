/*
 * The state a 64-bit PV domain 0 starts in: start_info, the entry registers, the
 * bootstrap page tables, p2m and M2P, and the loaded image. The runner passes
 * "pages=<nr_pages it asked for> ... cksum=<FNV-1a of everything before cksum=>".
 *
 * p2m.c includes this file with INIT_P2M_VA defined, the address its INIT_P2M note
 * gives: these checks then expect the p2m list there instead of inside the region.
 * Run as an ordinary domain (tests/qemu/domain_tests.py) it is told "domu=1" and
 * expects what Xen's toolstack builds instead of what Xen's dom0 builder does.
 */
#include <guest/test.h>
#include <public/features.h>

#define REGION_ALIGN (4UL << 20)
#define REGION_SLACK (512UL << 10)

static bool as_domu(void)
{
    return cmdline_get_num("domu", 0) != 0;
}

/* Known values in each loaded segment; the ELF puts them there, nothing writes them. */
static volatile uint64_t data_sentinel = 0x5e9711e1da7a0001UL;
static const volatile uint64_t rodata_sentinel = 0x5e9711e1c0de0002UL;

static uint64_t si_va(void)
{
    return (uint64_t)start_info;
}

static uint64_t pt_end(void)
{
    return start_info->pt_base + start_info->nr_pt_frames * PAGE_SIZE;
}

/* The first unmapped page above GUEST_VIRT_BASE: the end of the bootstrap region. */
static uint64_t region_end(void)
{
    uint64_t va = GUEST_VIRT_BASE, leaf;
    int level;

    while (va < GUEST_VIRT_BASE + (1UL << 30) && pt_lookup(va, &leaf, &level))
        va += PAGE_SIZE;
    return va;
}

static bool in_region(uint64_t va, uint64_t len)
{
    return va >= GUEST_VIRT_BASE && va + len <= region_end() && va + len >= va;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

/* Pages from GUEST_VIRT_BASE to the end of the region: pfns 0 up to this are mapped. */
static uint64_t region_pfns(void)
{
    return (region_end() - GUEST_VIRT_BASE) >> PAGE_SHIFT;
}

/* Xen's dom0 builder first allocates a power-of-two block that covers the region. */
static uint64_t dom0_initial_block(void)
{
    uint64_t n = 1;

    while (n < region_pfns())
        n <<= 1;
    return n;
}

static uint32_t fnv1a32(const char *s, size_t n)
{
    uint32_t h = 0x811c9dc5;

    while (n--) {
        h ^= (uint8_t)*s++;
        h *= 0x01000193;
    }
    return h;
}

TEST(magic)
{
    char magic[sizeof(start_info->magic) + 1] = { 0 };

    memcpy(magic, start_info->magic, sizeof(start_info->magic));
    CHECKF(!strcmp(magic, "xen-3.0-x86_64"), "magic \"%s\"", magic);
}

TEST(entry_rsi_is_start_info)
{
    CHECK_EQ(entry_regs.rsi, si_va());
    CHECK_EQ(si_va() & (PAGE_SIZE - 1), 0);
    CHECK(in_region(si_va(), sizeof(struct start_info)));
}

TEST(nr_pages)
{
    CHECK_EQ(start_info->nr_pages, cmdline_get_num("pages", 0));
}

TEST(cmd_line)
{
    const char *cl = (const char *)start_info->cmd_line;
    size_t len = strnlen(cl, MAX_GUEST_CMDLINE);
    const char *ck = strstr(cl, "cksum=");
    const char *end;
    uint32_t want;

    INFO("cmd_line \"%s\"", cl);
    CHECKF(len < MAX_GUEST_CMDLINE, "cmd_line not NUL-terminated");
    CHECKF(ck, "no cksum= in the command line (the runner always passes one)");
    want = (uint32_t)simple_strtoull(ck + 6, &end, 16);
    CHECKF(end == ck + 14 && !*end, "cksum= is not 8 hex digits at the end");
    CHECKF(fnv1a32(cl, (size_t)(ck - cl)) == want,
           "checksum %08x of \"%.*s\" does not match %08x: the command line changed on "
           "the way", fnv1a32(cl, (size_t)(ck - cl)), (int)(ck - cl), cl, want);
    /* The builder clears the whole field before copying the line in. */
    for (size_t i = len; i < MAX_GUEST_CMDLINE; i++)
        CHECKF(!start_info->cmd_line[i], "cmd_line[%lu] = %#x after the NUL",
               (unsigned long)i, (uint8_t)start_info->cmd_line[i]);
}

TEST(flags_dom0)
{
    uint32_t f = start_info->flags;

    INFO("flags %#x (PM bits %#x)", f, (f & SIF_PM_MASK) >> 8);
    if (as_domu())
        CHECK_EQ(f, 0);
    else
        CHECK_EQ(f & ~SIF_PM_MASK, SIF_PRIVILEGED | SIF_INITDOMAIN);
}

TEST(shared_info_maddr)
{
    INFO("shared_info at maddr %#lx", (unsigned long)start_info->shared_info);
    CHECK(start_info->shared_info != 0);
    CHECK_EQ(start_info->shared_info & (PAGE_SIZE - 1), 0);
    /* The library mapped it already; prove it is that page by its contents. */
    CHECK(shared_info != NULL);
}

TEST(upcall_masks_set)
{
    for (unsigned int i = 0; i < XEN_LEGACY_MAX_VCPUS; i++)
        CHECKF(shared_info->vcpu_info[i].evtchn_upcall_mask == 1,
               "vcpu_info[%u].evtchn_upcall_mask = %u", i,
               shared_info->vcpu_info[i].evtchn_upcall_mask);
}

TEST(no_store_for_dom0)
{
    if (as_domu())
        SKIP("a domU has a xenstore page (layout_order_as_xen checks it)");
    CHECK_EQ(start_info->store_mfn, 0);
    CHECK_EQ(start_info->store_evtchn, 0);
}

TEST(console_dom0)
{
    uint32_t off = start_info->console.dom0.info_off;
    uint32_t size = start_info->console.dom0.info_size;
    const struct dom0_vga_console_info *vga;

    if (as_domu())
        SKIP("a domU has a console ring instead");
    INFO("console.dom0 info_off %#x info_size %#x", off, size);
    if (!off && !size)
        return;
    CHECK_EQ(off, sizeof(struct start_info));
    CHECK_EQ(size, sizeof(struct dom0_vga_console_info));
    vga = (const void *)((const char *)start_info + off);
    INFO("video_type %#x", vga->video_type);
    if (vga->video_type == XEN_VGATYPE_TEXT_MODE_3)
        INFO("text mode %ux%u, font height %u, cursor %u,%u",
             vga->u.text_mode_3.columns, vga->u.text_mode_3.rows,
             vga->u.text_mode_3.font_height, vga->u.text_mode_3.cursor_x,
             vga->u.text_mode_3.cursor_y);
    CHECK(vga->video_type == XEN_VGATYPE_TEXT_MODE_3 ||
          vga->video_type == XEN_VGATYPE_VESA_LFB || vga->video_type == XEN_VGATYPE_EFI_LFB);
}

TEST(no_module)
{
    CHECK_EQ(start_info->mod_start, 0);
    CHECK_EQ(start_info->mod_len, 0);
}

TEST(layout_in_region)
{
    uint64_t end = region_end();
    uint64_t p2m = start_info->mfn_list, p2m_len = start_info->nr_pages * 8;
    uint64_t kern = (uint64_t)_text, kern_len = (uint64_t)_end - kern;
    uint64_t pt = start_info->pt_base, pt_len = pt_end() - pt;

    INFO("kernel %#lx-%#lx p2m %#lx-%#lx start_info %#lx page tables %#lx-%#lx "
         "(%lu) stack top %#lx region end %#lx", (unsigned long)kern,
         (unsigned long)(kern + kern_len), (unsigned long)p2m,
         (unsigned long)(p2m + p2m_len), (unsigned long)si_va(), (unsigned long)pt,
         (unsigned long)(pt + pt_len), (unsigned long)start_info->nr_pt_frames,
         (unsigned long)entry_regs.rsp, (unsigned long)end);
    CHECK_EQ(p2m & (PAGE_SIZE - 1), 0);
    CHECK_EQ(pt & (PAGE_SIZE - 1), 0);
#ifdef INIT_P2M_VA
    /* Its own mapping, clear of the region. */
    CHECK(!overlaps(p2m, p2m_len, GUEST_VIRT_BASE, end - GUEST_VIRT_BASE));
#else
    CHECK(in_region(p2m, p2m_len));
#endif
    CHECK(in_region(pt, pt_len));
    CHECK(start_info->nr_pt_frames >= 4);
    CHECK(!overlaps(p2m, p2m_len, kern, kern_len));
    CHECK(!overlaps(pt, pt_len, kern, kern_len));
    CHECK(!overlaps(pt, pt_len, p2m, p2m_len));
    CHECK(!overlaps(si_va(), PAGE_SIZE, kern, kern_len));
    CHECK(!overlaps(si_va(), PAGE_SIZE, p2m, p2m_len));
    CHECK(!overlaps(si_va(), PAGE_SIZE, pt, pt_len));
}

/* Xen's order, each part page aligned: kernel, p2m (unless INIT_P2M), start_info (with
 * the dom0 console info after it; a domU's xenstore and console pages follow it), page
 * tables, one page of boot stack. */
TEST(layout_order_as_xen)
{
    uint64_t si_pfn = (si_va() - GUEST_VIRT_BASE) >> PAGE_SHIFT;

#ifdef INIT_P2M_VA
    CHECK_EQ(start_info->mfn_list, INIT_P2M_VA);
    CHECK_EQ(si_va(), ROUNDUP((uint64_t)_end, PAGE_SIZE));
#else
    CHECK_EQ(start_info->mfn_list, ROUNDUP((uint64_t)_end, PAGE_SIZE));
    CHECK_EQ(si_va(), ROUNDUP(start_info->mfn_list + start_info->nr_pages * 8, PAGE_SIZE));
#endif
    if (as_domu()) {
        CHECK_EQ(start_info->store_mfn, pfn_to_mfn(si_pfn + 1));
        CHECK_EQ(start_info->console.domU.mfn, pfn_to_mfn(si_pfn + 2));
        CHECK_EQ(start_info->pt_base, si_va() + 3 * PAGE_SIZE);
    } else {
        CHECK_EQ(start_info->pt_base, si_va() + PAGE_SIZE);
    }
    CHECK_EQ(entry_regs.rsp, pt_end() + PAGE_SIZE);
}

TEST(region_end_and_slack)
{
    uint64_t end = region_end();

    CHECKF((end & (REGION_ALIGN - 1)) == 0, "region ends at %#lx, not on 4 MiB",
           (unsigned long)end);
    CHECKF(end - entry_regs.rsp >= REGION_SLACK, "only %#lx bytes after the boot stack",
           (unsigned long)(end - entry_regs.rsp));
    /* The first such boundary (both builders' arithmetic comes to this). */
    CHECK_EQ(end, ROUNDUP(entry_regs.rsp + REGION_SLACK, REGION_ALIGN));
}

TEST(entry_stack)
{
    uint64_t rsp = entry_regs.rsp;

    CHECK_EQ(rsp & (PAGE_SIZE - 1), 0);
    CHECK(in_region(rsp - PAGE_SIZE, PAGE_SIZE));
    CHECK(rsp - PAGE_SIZE >= pt_end());
    CHECK(!overlaps(rsp - PAGE_SIZE, PAGE_SIZE, start_info->mfn_list,
                    start_info->nr_pages * 8));
}

TEST(entry_selectors)
{
    CHECK_EQ(entry_regs.cs, FLAT_KERNEL_CS);
    CHECK_EQ(entry_regs.ss, FLAT_KERNEL_SS);
    CHECK_EQ(entry_regs.ds, 0);
    CHECK_EQ(entry_regs.es, 0);
    CHECK_EQ(entry_regs.fs, 0);
    CHECK_EQ(entry_regs.gs, 0);
}

TEST(entry_rflags)
{
    /* pushf in guest kernel mode shows the real flags: IF always on, IOPL 0. */
    CHECK_EQ(entry_regs.rflags, X86_EFLAGS_IF | 0x2);
}

TEST(entry_gprs_zero)
{
    const struct entry_regs *r = &entry_regs;
    const uint64_t v[] = { r->rax, r->rbx, r->rcx, r->rdx, r->rdi, r->rbp, r->r8, r->r9,
                           r->r10, r->r11, r->r12, r->r13, r->r14, r->r15 };
    static const char *const names[] = { "rax", "rbx", "rcx", "rdx", "rdi", "rbp", "r8",
                                         "r9", "r10", "r11", "r12", "r13", "r14", "r15" };

    for (unsigned int i = 0; i < ARRAY_SIZE(v); i++)
        CHECKF(v[i] == 0, "%s = %#lx at entry", names[i], (unsigned long)v[i]);
}

TEST(hypercall_page_filled)
{
    /* Each stub loads its number with "mov $nr, %eax" (b8 imm32); iret's too. */
    for (unsigned int nr = 0; nr < 128; nr++) {
        const unsigned char *stub = hypercall_page + nr * 32;
        bool found = false;

        for (unsigned int i = 0; i + 5 <= 32 && !found; i++) {
            uint32_t imm;

            memcpy(&imm, stub + i + 1, 4);
            found = stub[i] == 0xb8 && imm == nr;
        }
        CHECKF(found, "stub %u has no mov $%u, %%eax", nr, nr);
    }
}

TEST(l4_slots)
{
    const uint64_t *l4 = (const uint64_t *)start_info->pt_base;
    char present[64];
    unsigned int n = 0;

    for (unsigned int i = 256; i < 272 && n + 4 < sizeof(present); i++)
        if (l4[i] & _PAGE_PRESENT)
            n += (unsigned int)snprintf(present + n, sizeof(present) - n, "%x ", i - 256);
    present[n] = 0;
    INFO("hypervisor L4 slots present (256 + ...): %s", present);
    for (unsigned int i = 0; i < 512; i++) {
        if (i >= 256 && i < 272)
            continue;
#ifdef INIT_P2M_VA
        if (i == ((INIT_P2M_VA >> 39) & 511)) {
            CHECKF(l4[i] & _PAGE_PRESENT, "L4[%u] (the p2m list's slot) = %#lx", i,
                   (unsigned long)l4[i]);
            continue;
        }
#endif
        if (i == 511)
            CHECKF((l4[i] & (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER)) ==
                   (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER), "L4[511] = %#lx",
                   (unsigned long)l4[i]);
        else
            CHECKF(l4[i] == 0, "L4[%u] = %#lx: guest slots other than 511 must be empty",
                   i, (unsigned long)l4[i]);
    }
    /* Slot 256 holds the M2P, which every PV guest reads. */
    CHECK(l4[256] & _PAGE_PRESENT);
}

TEST(region_mapped_linearly)
{
    uint64_t end = region_end();

    for (uint64_t va = GUEST_VIRT_BASE; va < end; va += PAGE_SIZE) {
        uint64_t pfn = (va - GUEST_VIRT_BASE) >> PAGE_SHIFT, leaf;
        int level;

        CHECK(pt_lookup(va, &leaf, &level));
        CHECKF(level == 1, "%#lx mapped by a level-%d entry", (unsigned long)va, level);
        if (lib_remapped(va))
            continue;
        CHECKF(PTE_MFN(leaf) == pfn_to_mfn(pfn), "%#lx maps mfn %#lx, p2m[%#lx] = %#lx",
               (unsigned long)va, (unsigned long)PTE_MFN(leaf), (unsigned long)pfn,
               (unsigned long)pfn_to_mfn(pfn));
    }
}

TEST(page_tables_read_only)
{
    uint64_t end = region_end(), pt = start_info->pt_base;
    uint64_t leaf;
    int level;

    CHECK(pt_lookup(GUEST_VIRT_BASE, &leaf, &level));
    INFO("L1 entry of the first kernel page: %#lx", (unsigned long)leaf);
    for (uint64_t va = GUEST_VIRT_BASE; va < end; va += PAGE_SIZE) {
        bool is_pt = va >= pt && va < pt_end();

        CHECK(pt_lookup(va, &leaf, &level));
        if (is_pt)
            CHECKF(!(leaf & _PAGE_RW), "page table %#lx mapped writable (%#lx)",
                   (unsigned long)va, (unsigned long)leaf);
        else
            CHECKF(leaf & _PAGE_RW, "%#lx mapped read-only (%#lx)", (unsigned long)va,
                   (unsigned long)leaf);
    }
}

/* Every table of the bootstrap mappings is one of the nr_pt_frames frames. */
TEST(nr_pt_frames_exact)
{
    const uint64_t *l4 = (const uint64_t *)start_info->pt_base;
    uint64_t end = region_end(), seen[64];
    unsigned int n = 0;

    seen[n++] = pfn_to_mfn((start_info->pt_base - GUEST_VIRT_BASE) >> PAGE_SHIFT);
    for (uint64_t va = GUEST_VIRT_BASE; va < end; va += PAGE_SIZE) {
        const uint64_t *t = l4;

        for (int lvl = 4; lvl > 1; lvl--) {
            uint64_t e = t[(va >> (PAGE_SHIFT + 9 * (lvl - 1))) & 511];
            uint64_t mfn = PTE_MFN(e), pfn = M2P[mfn], tva;
            bool known = false;

            CHECK(e & _PAGE_PRESENT);
            for (unsigned int i = 0; i < n; i++)
                known |= seen[i] == mfn;
            tva = GUEST_VIRT_BASE + (pfn << PAGE_SHIFT);
            CHECKF(tva >= start_info->pt_base && tva < pt_end(),
                   "level-%d table mfn %#lx (pfn %#lx) outside the page-table frames",
                   lvl - 1, (unsigned long)mfn, (unsigned long)pfn);
            if (!known) {
                CHECK(n < ARRAY_SIZE(seen));
                seen[n++] = mfn;
            }
            t = (const uint64_t *)tva;
        }
    }
    CHECK_EQ(n, start_info->nr_pt_frames);
}

/* The table of level lvl (1-3) behind va, as a pfn, reading the bootstrap tables. */
static uint64_t table_pfn(uint64_t va, int lvl)
{
    const uint64_t *t = (const uint64_t *)start_info->pt_base;
    uint64_t pfn = 0;

    for (int l = 4; l > lvl; l--) {
        pfn = M2P[PTE_MFN(t[(va >> (PAGE_SHIFT + 9 * (l - 1))) & 511])];
        t = (const uint64_t *)(GUEST_VIRT_BASE + (pfn << PAGE_SHIFT));
    }
    return pfn;
}

/* The tables after the L4: Xen's dom0 builder takes an L1, then the L2 and L3 it needs,
 * and one L1 per further 2 MiB (a new L2 after its first L1); the toolstack puts the
 * L3s first, then the L2s, then the L1s. */
TEST(bootstrap_table_order)
{
    uint64_t pt_pfn = (start_info->pt_base - GUEST_VIRT_BASE) >> PAGE_SHIFT;
    uint64_t next = pt_pfn + 1, end = region_end();

    for (int pass = 3; pass >= 1; pass--) {
        uint64_t prev[4] = { ~0UL, ~0UL, ~0UL, ~0UL };

        if (!as_domu() && pass != 1)
            continue;
        for (uint64_t va = GUEST_VIRT_BASE; va < end; va += 2UL << 20) {
            for (int i = 1; i <= 3; i++) {
                int lvl = as_domu() ? pass : i;
                uint64_t pfn = table_pfn(va, lvl);

                if (pfn != prev[lvl]) {
                    CHECKF(pfn == next, "the L%d table for %#lx is pfn %#lx, expected %#lx",
                           lvl, (unsigned long)va, (unsigned long)pfn, (unsigned long)next);
                    prev[lvl] = pfn;
                    next++;
                }
                if (as_domu())
                    break;
            }
        }
    }
    CHECK_EQ(next, pt_pfn + start_info->nr_pt_frames);
}

TEST(p2m_m2p_consistent)
{
    for (uint64_t pfn = 0; pfn < start_info->nr_pages; pfn++) {
        uint64_t mfn = pfn_to_mfn(pfn);

        CHECKF(M2P[mfn] == pfn, "p2m[%#lx] = %#lx but m2p[%#lx] = %#lx",
               (unsigned long)pfn, (unsigned long)mfn, (unsigned long)mfn,
               (unsigned long)M2P[mfn]);
    }
}

#ifndef INIT_P2M_VA
TEST(p2m_frames)
{
    INFO("first_p2m_pfn %#lx nr_p2m_frames %#lx", (unsigned long)start_info->first_p2m_pfn,
         (unsigned long)start_info->nr_p2m_frames);
    /* Without an INIT_P2M note the p2m is inside the bootstrap region: no extra frames.
     * Xen's dom0 builder still names the first pfn past its initial power-of-two
     * allocation; the toolstack leaves the field 0. */
    CHECK_EQ(start_info->nr_p2m_frames, 0);
    CHECK_EQ(start_info->first_p2m_pfn, as_domu() ? 0 : dom0_initial_block());
}
#endif

static void write_m2p(void *arg)
{
    *(volatile uint64_t *)arg = 0x1234;
}

TEST(m2p_write_faults)
{
    uint64_t mfn = pfn_to_mfn(0);
    uint64_t addr = MACH2PHYS_VIRT_START + mfn * 8;
    struct trap_record r;
    bool trapped = catch_trap(write_m2p, (void *)addr, &r);

    CHECK_TRAP(trapped, r, 14);
    CHECK_EQ(r.cr2, addr);
    /* present | write; the user bit is cleared for guest kernel mode. */
    CHECK_EQ(r.error, 0x3);
    CHECK_EQ(M2P[mfn], 0); /* still pfn 0 */
}

TEST(sections_loaded)
{
    uint64_t leaf;
    int level;

    CHECK_EQ(data_sentinel, 0x5e9711e1da7a0001UL);
    CHECK_EQ(rodata_sentinel, 0x5e9711e1c0de0002UL);
    for (uint64_t va = (uint64_t)_text; va < (uint64_t)_end; va += PAGE_SIZE) {
        if (lib_remapped(va))
            continue;
        CHECK(pt_lookup(va, &leaf, &level));
        CHECK_EQ(PTE_MFN(leaf), pfn_to_mfn((va - GUEST_VIRT_BASE) >> PAGE_SHIFT));
    }
}

extern uint64_t bss_nonzero_at_entry;

TEST(bss_zeroed_by_builder)
{
    CHECKF(!bss_nonzero_at_entry, "non-zero .bss byte at %#lx",
           (unsigned long)bss_nonzero_at_entry);
}

TEST(features_match_notes)
{
    struct xen_feature_info fi = { .submap_idx = 0 };

    CHECK_EQ(HYPERVISOR_xen_version(XENVER_get_features, &fi), 0);
    CHECK_EQ(!!(fi.submap & (1U << XENFEAT_dom0)), !as_domu());
}

/* Entries of the bootstrap tables: L4-L2 P|RW|U|A|D, L1 P|RW|U|A (RW off for the
 * tables themselves); the guest kernel runs in ring 3, so U is on everywhere. */
TEST(bootstrap_entry_flags)
{
    const uint64_t *t = (const uint64_t *)start_info->pt_base;
    const uint64_t upper = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED |
                           _PAGE_DIRTY;
    uint64_t va = GUEST_VIRT_BASE, leaf;
    int level;

    for (int lvl = 4; lvl > 1; lvl--) {
        uint64_t e = t[(va >> (PAGE_SHIFT + 9 * (lvl - 1))) & 511];

        INFO("L%d entry for %#lx: %#lx", lvl, (unsigned long)va, (unsigned long)e);
        CHECKF((e & 0xfff) == upper, "L%d entry %#lx", lvl, (unsigned long)e);
        CHECK(!(e & _PAGE_NX));
        t = (const uint64_t *)(GUEST_VIRT_BASE + (M2P[PTE_MFN(e)] << PAGE_SHIFT));
    }
    for (; va < (uint64_t)_end; va += PAGE_SIZE) {
        if (lib_remapped(va))
            continue;
        CHECK(pt_lookup(va, &leaf, &level));
        CHECKF((leaf & (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED)) ==
               (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED),
               "L1 entry for %#lx: %#lx", (unsigned long)va, (unsigned long)leaf);
        CHECK(!(leaf & (_PAGE_PSE | _PAGE_NX)));
    }
}

/* Linux divides by tsc_to_system_mul early on: vCPU 0's time must be valid. */
TEST(shared_info_time)
{
    const struct vcpu_time_info *t = &shared_info->vcpu_info[0].time;

    INFO("time version %u system_time %lu mul %u shift %d flags %#x; wc_version %u "
         "wc_sec %u; arch.max_pfn %#lx; upcall_pending %u pending_sel %#lx",
         t->version, (unsigned long)t->system_time, t->tsc_to_system_mul, t->tsc_shift,
         t->flags, shared_info->wc_version, shared_info->wc_sec,
         (unsigned long)shared_info->arch.max_pfn,
         shared_info->vcpu_info[0].evtchn_upcall_pending,
         (unsigned long)shared_info->vcpu_info[0].evtchn_pending_sel);
    CHECK_EQ(t->version & 1, 0);
    CHECK(t->version != 0);
    CHECK(t->tsc_to_system_mul != 0);
    CHECK(t->system_time != 0);
}
