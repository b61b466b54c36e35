/*
 * The PV domain builder: from a kernel image to a vCPU 0 ready to enter the kernel, as
 * Xen's PV boot protocol ("start of day" in public/xen.h) defines the initial state.
 *
 * The guest's pseudo-physical memory is contiguous from pfn 0 and the bootstrap region
 * [v_start, v_end) maps pfn 0 upward 1:1; where each piece goes is build_layout.c's
 * business (<asm/pv_build_layout.h>). The page tables map the region with 4 KiB pages,
 * read-only where they map page-table frames, and, for a kernel with an INIT_P2M note,
 * the p2m list at that address with tables of its own.
 */
#include <enso/elf.h>
#include <enso/errno.h>
#include <enso/kernel_image.h>
#include <enso/lib.h>
#include <enso/long_work.h>
#include <enso/mm.h>
#include <enso/page_alloc.h>
#include <enso/printk.h>
#include <enso/sched.h>
#include <enso/wallclock.h>
#include <enso/xen_elfnotes.h>
#include <enso/xmalloc.h>
#include <asm/m2p.h>
#include <asm/mm.h>
#include <asm/processor.h>
#include <asm/pv_build.h>
#include <asm/pv_build_layout.h>
#include <asm/pv_mm.h>
#include <public/xen.h>

#define L1_GUEST (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_USER)
#define LN_GUEST (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_USER)
/*
 * A separate p2m list's pages: Xen's dom0 builder writes its kernel-page flags, dirty
 * and its software "guest kernel" bit (52) included; the toolstack writes P RW A and
 * validation adds the user and guest-kernel bits, as it does here.
 */
#define P2M_L1_DOM0 (L1_GUEST | _PAGE_DIRTY | (1UL << 52))
#define P2M_L1_DOMU (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED)
#define ROOT_SLOT_FIRST_ENSO 256
#define ROOT_SLOT_LAST_ENSO 271
#define ROOT_SLOT_PERDOMAIN 260

struct builder {
    struct domain *d;
    const struct pv_build_info *info;
    struct elf_image elf;
    struct xen_guest_params params;
    struct pv_layout lay;
    mfn_t *p2m;
    unsigned long nr_pages;
    const char **why;
};

static uint64_t page_up(uint64_t a) { return ROUNDUP(a, PAGE_SIZE); }

static int compute_layout(struct builder *b)
{
    const struct xen_guest_params *p = &b->params;
    struct pv_layout_req rq = {
        .virt_base = p->virt_base, .kern_start = p->virt_kstart, .kern_end = p->virt_kend,
        .initrd_len = b->info->initrd ? b->info->initrd_len : 0,
        .initrd_by_pfn = p->mod_start_pfn, .has_p2m_base = p->has_p2m_base,
        .p2m_base = p->p2m_base, .nr_pages = b->nr_pages,
        .initial_domain = b->info->initial_domain,
    };
    int rc = pv_layout_compute(&rq, &b->lay, b->why);

    if (!rc && b->lay.p2m_base_ignored)
        printk("domain %u (%s): INIT_P2M %#lx at or above VIRT_BASE ignored (as Xen's "
               "toolstack does): the p2m list stays in the bootstrap region\n",
               b->d->domain_id, b->d->name, p->p2m_base);
    return rc;
}

/* Give the domain its memory, pfn 0 upward, in blocks as large as the heap has. */
static int populate(struct builder *b)
{
    unsigned long pfn = 0;
    unsigned int order = 9;

    b->p2m = xmalloc_array_bytes(sizeof(mfn_t), b->nr_pages, false);
    if (!b->p2m)
        return -ENOMEM;
    while (pfn < b->nr_pages) {
        struct page_info *pg;

        while ((1UL << order) > b->nr_pages - pfn)
            order--;
        pg = alloc_domheap_pages(b->d, order, 0);
        if (!pg) {
            if (order == 0) {
                *b->why = "out of memory";
                return -ENOMEM;
            }
            order--;
            continue;
        }
        for (unsigned long i = 0; i < (1UL << order); i++, pfn++) {
            b->p2m[pfn] = mfn_add(page_to_mfn(pg), i);
            set_gpfn_from_mfn(b->p2m[pfn], pfn);
        }
        long_work_yield(); /* each block was scrubbed: time for others on a rebuild */
    }
    b->d->arch.p2m = b->p2m;
    b->d->arch.p2m_size = b->nr_pages;
    return 0;
}

static unsigned long va_to_pfn(const struct builder *b, uint64_t va)
{
    return (va - b->lay.v_start) >> PAGE_SHIFT;
}

static void *pfn_ptr(const struct builder *b, unsigned long pfn)
{
    return mfn_to_virt(b->p2m[pfn]);
}

/* Copy into (src) or zero (src == NULL) guest memory at a bootstrap virtual address. */
static int write_guest(void *ctx, uint64_t va, const void *src, size_t len)
{
    struct builder *b = ctx;

    if (va < b->lay.v_start || va + len > b->lay.v_end || va + len < va)
        return -EINVAL;
    while (len) {
        size_t off = va & (PAGE_SIZE - 1), n = MIN(len, PAGE_SIZE - off);
        char *dst = (char *)pfn_ptr(b, va_to_pfn(b, va)) + off;

        if (src) {
            memcpy(dst, src, n);
            src = (const char *)src + n;
        } else {
            memset(dst, 0, n);
        }
        va += n;
        len -= n;
    }
    return 0;
}

static void copy_to_pfns(struct builder *b, unsigned long pfn, const void *src, size_t len)
{
    for (size_t off = 0; off < len; off += PAGE_SIZE, pfn++)
        memcpy(pfn_ptr(b, pfn), (const char *)src + off, MIN(PAGE_SIZE, len - off));
}

/* 32-byte stubs: push %rcx; push %r11; mov $nr, %eax; syscall; pop %r11; pop %rcx; ret. */
void pv_write_hypercall_page(uint8_t *page)
{
    memset(page, 0xcc, PAGE_SIZE); /* int3 between stubs */
    for (unsigned int nr = 0; nr < PAGE_SIZE / 32; nr++) {
        uint8_t *p = page + nr * 32;
        if (nr == __HYPERVISOR_iret) {
            /* The iret stub also pushes rax (the frame's first word) and never returns. */
            const uint8_t s[] = { 0x51, 0x41, 0x53, 0x50, 0xb8, nr, 0, 0, 0, 0x0f, 0x05 };
            memcpy(p, s, sizeof(s));
        } else {
            const uint8_t s[] = { 0x51, 0x41, 0x53, 0xb8, nr, 0, 0, 0, 0x0f, 0x05, 0x41, 0x5b,
                                  0x59, 0xc3 };
            memcpy(p, s, sizeof(s));
        }
    }
}

static int layout_mismatch(struct builder *b)
{
    *b->why = "the bootstrap page tables do not match their layout";
    return -EINVAL;
}

/*
 * Map each page a walk yields (<asm/pv_build_layout.h>), with the new tables it names.
 * In the region, page-table frames are mapped read-only; a separate p2m list's pages
 * are filled with their part of the p2m as they are mapped.
 */
static int map_walk(struct builder *b, pgentry_t *l4, struct pv_walk *w, bool list)
{
    unsigned long first_pt = va_to_pfn(b, b->lay.pt_start);
    unsigned long last_pt = first_pt + b->lay.nr_pt_frames;
    struct pv_walk_step s;

    while (pv_walk_next(w, &s)) {
        pgentry_t *t = l4;
        uint64_t flags = L1_GUEST;

        for (unsigned int lvl = 4; lvl > 1; lvl--) {
            pgentry_t *e = &t[pt_index(s.va, lvl)];
            unsigned long pfn = s.table_pfn[lvl - 1];

            if ((pfn != PV_NO_TABLE) == pte_present(*e))
                return layout_mismatch(b);
            if (pfn != PV_NO_TABLE) {
                memset(pfn_ptr(b, pfn), 0, PAGE_SIZE);
                *e = pte_make(mfn_x(b->p2m[pfn]) << PAGE_SHIFT, LN_GUEST);
            }
            t = maddr_to_virt(pte_paddr(*e));
        }
        if (pte_present(t[pt_index(s.va, 1)]))
            return layout_mismatch(b);
        if (list) {
            unsigned long first = (s.va - b->lay.p2m_start) / sizeof(uint64_t);
            uint64_t *page = pfn_ptr(b, s.pfn);

            for (unsigned long i = 0; i < PAGE_SIZE / sizeof(uint64_t); i++)
                page[i] = first + i < b->nr_pages ? mfn_x(b->p2m[first + i]) : 0;
            flags = b->lay.dom0_order ? P2M_L1_DOM0 : P2M_L1_DOMU;
        } else if (s.pfn >= first_pt && s.pfn < last_pt) {
            flags &= ~_PAGE_RW;
        }
        t[pt_index(s.va, 1)] = pte_make(mfn_x(b->p2m[s.pfn]) << PAGE_SHIFT, flags);
    }
    return 0;
}

/*
 * The bootstrap page tables: the region, and a separate p2m list's own mapping. They
 * are then validated like any guest table: the L4 is pinned and is vCPU 0's base
 * pointer, two type references, which give every frame they map or hold its type.
 */
static int build_page_tables(struct builder *b)
{
    unsigned long l4_pfn = va_to_pfn(b, b->lay.pt_start);
    pgentry_t *l4 = pfn_ptr(b, l4_pfn);
    struct pv_walk w;

    memset(l4, 0, PAGE_SIZE);
    pv_walk_region(&w, &b->lay);
    if (map_walk(b, l4, &w, false))
        return -EINVAL;
    if (b->lay.p2m_separate) {
        pv_walk_p2m(&w, &b->lay);
        if (map_walk(b, l4, &w, true))
            return -EINVAL;
    }
    for (unsigned int s = ROOT_SLOT_FIRST_ENSO; s <= ROOT_SLOT_LAST_ENSO; s++)
        l4[s] = idle_l4[s];
    l4[ROOT_SLOT_PERDOMAIN] = pte_make(virt_to_maddr(b->d->arch.perdomain_l3), PTE_TABLE);

    if (get_page_and_type(mfn_to_page(b->p2m[l4_pfn]), b->d, PGT_l4_page_table) ||
        get_page_and_type(mfn_to_page(b->p2m[l4_pfn]), b->d, PGT_l4_page_table)) {
        *b->why = "the bootstrap page tables do not validate";
        return -EINVAL;
    }
    mfn_to_page(b->p2m[l4_pfn])->type_info |= PGT_pinned;
    return 0;
}

static void fill_start_info(struct builder *b, struct start_info *si)
{
    const struct pv_layout *l = &b->lay;

    memset(si, 0, PAGE_SIZE);
    strlcpy(si->magic, "xen-3.0-x86_64", sizeof(si->magic));
    si->nr_pages = b->nr_pages;
    si->shared_info = virt_to_maddr(b->d->shared_info);
    si->flags = b->info->initial_domain ? SIF_PRIVILEGED | SIF_INITDOMAIN : 0;
    si->pt_base = l->pt_start;
    si->nr_pt_frames = l->nr_pt_frames;
    si->mfn_list = l->p2m_start;
    si->first_p2m_pfn = l->first_p2m_pfn;
    si->nr_p2m_frames = l->nr_p2m_frames;
    if (b->info->initrd && b->params.mod_start_pfn) {
        si->flags |= SIF_MOD_START_PFN;
        si->mod_start = l->initrd_pfn;
        si->mod_len = b->info->initrd_len;
    } else if (b->info->initrd) {
        si->mod_start = l->initrd_start;
        si->mod_len = b->info->initrd_len;
    }
    if (!b->info->initial_domain) {
        b->d->console_ring = pfn_ptr(b, va_to_pfn(b, l->cons_start));
        si->store_mfn = mfn_x(b->p2m[va_to_pfn(b, l->store_start)]);
        si->console.domU.mfn = mfn_x(b->p2m[va_to_pfn(b, l->cons_start)]);
        si->console.domU.evtchn = b->d->console_evtchn;
    }
    strlcpy((char *)si->cmd_line, b->info->cmdline ? b->info->cmdline : "",
            sizeof(si->cmd_line));
}

static int alloc_shared_info(struct domain *d)
{
    struct shared_info *s = alloc_xenheap_pages(0, 0);

    if (!s)
        return -ENOMEM;
    d->shared_info = s;
    /* The guest maps it by machine frame: it must look like a frame the domain owns. */
    virt_to_page(s)->u.owner = d;
    virt_to_page(s)->count_info |= 1;
    for (unsigned int i = 0; i < XEN_LEGACY_MAX_VCPUS; i++)
        s->vcpu_info[i].evtchn_upcall_mask = 1;
    for (unsigned int i = 0; i < d->max_vcpus && i < XEN_LEGACY_MAX_VCPUS; i++)
        if (d->vcpu[i])
            d->vcpu[i]->vcpu_info = &s->vcpu_info[i];
    return 0;
}

static void setup_vcpu0(struct builder *b, struct vcpu *v)
{
    struct cpu_user_regs *r = v->arch.regs;

    memset(r, 0, sizeof(*r));
    r->rip = b->params.virt_entry;
    r->rsp = b->lay.stack_start + PAGE_SIZE;
    r->rsi = b->lay.si_start;
    r->rflags = X86_EFLAGS_IF | 2;
    r->cs = FLAT_KERNEL_CS;
    r->ss = FLAT_KERNEL_SS;
    v->arch.guest_table = b->p2m[va_to_pfn(b, b->lay.pt_start)];
    v->arch.kernel_mode = true;
    v->is_initialised = true; /* the others wait for VCPUOP_initialise */
}

static void *unpack_alloc(void *ctx, size_t bytes)
{
    unsigned int order = 0;

    while ((PAGE_SIZE << order) < bytes && order < MAX_ORDER)
        order++;
    return (PAGE_SIZE << order) < bytes ? NULL : alloc_xenheap_pages(order, MEMF_no_scrub);
}

static void unpack_free(void *ctx, void *p, size_t bytes)
{
    unsigned int order = 0;

    while ((PAGE_SIZE << order) < bytes)
        order++;
    free_xenheap_pages(p, order);
}

static int parse_kernel(struct builder *b, const void **elf, size_t *elf_len, bool *allocated)
{
    int rc = kernel_image_unpack(b->info->kernel, b->info->kernel_len, unpack_alloc,
                                 unpack_free, NULL, elf, elf_len, allocated, b->why);
    if (rc)
        return rc;
    rc = elf_parse(&b->elf, *elf, *elf_len, b->why);
    if (!rc)
        rc = xen_elfnotes_parse(&b->elf, &b->params, b->why);
    if (!rc && (b->params.virt_kstart >= HYPERVISOR_VIRT_START &&
                b->params.virt_kstart < HYPERVISOR_VIRT_END)) {
        *b->why = "kernel overlaps the hypervisor's virtual address range";
        rc = -EINVAL;
    }
    return rc;
}

/* (A local function: the address of one in another file would need a GOT entry.) */
static void console_notify(struct domain *d)
{
    guest_console_notify(d);
}

int pv_build_domain(struct domain *d, const struct pv_build_info *info, const char **why)
{
    struct builder b = { .d = d, .info = info, .nr_pages = info->nr_pages, .why = why };
    const void *elf;
    size_t elf_len;
    bool allocated = false;
    struct vcpu *v = d->vcpu[0];
    int rc;

    *why = "";
    rc = parse_kernel(&b, &elf, &elf_len, &allocated);
    if (!rc)
        rc = compute_layout(&b);
    if (!rc && (rc = alloc_shared_info(d)))
        *why = "out of memory";
    if (!rc)
        rc = populate(&b);
    if (!rc && elf_load_segments(&b.elf, &b.params, write_guest, &b)) {
        *why = "a kernel segment lies outside the bootstrap region";
        rc = -EINVAL;
    }
    if (allocated)
        unpack_free(NULL, (void *)elf, elf_len);
    if (rc)
        return rc;

    if (b.lay.initrd_start)
        write_guest(&b, b.lay.initrd_start, info->initrd, info->initrd_len);
    else if (info->initrd)
        copy_to_pfns(&b, b.lay.initrd_pfn, info->initrd, info->initrd_len);
    for (unsigned long pfn = 0; pfn < b.nr_pages && !b.lay.p2m_separate; pfn++) {
        uint64_t mfn = mfn_x(b.p2m[pfn]);
        write_guest(&b, b.lay.p2m_start + pfn * sizeof(uint64_t), &mfn, sizeof(mfn));
    }
    if (b.params.has_hypercall_page) {
        if (b.params.virt_hypercall < b.lay.kern_start ||
            b.params.virt_hypercall + PAGE_SIZE > page_up(b.lay.kern_end)) {
            *why = "hypercall page outside the kernel";
            return -EINVAL;
        }
        pv_write_hypercall_page(pfn_ptr(&b, va_to_pfn(&b, b.params.virt_hypercall)));
    }
    rc = build_page_tables(&b);
    if (rc)
        return rc;
    if (!info->initial_domain) {
        /*
         * The console ring's event channel. Xen's toolstack allocates it unbound for
         * the console daemon's domain, which binds to it; here the back end is enso,
         * so the port starts out connected (interdomain, to DOMID_XEN).
         */
        rc = evtchn_alloc_enso_port(d, console_notify);
        if (rc < 0) {
            *why = "cannot allocate the console event channel";
            return rc;
        }
        d->console_evtchn = (evtchn_port_t)rc;
    }
    fill_start_info(&b, pfn_ptr(&b, va_to_pfn(&b, b.lay.si_start)));
    d->shared_info->arch.max_pfn = b.nr_pages;
    wallclock_publish(d);
    if (v)
        setup_vcpu0(&b, v);
    printk("domain %u (%s): kernel %016lx-%016lx entry %016lx, %lu MiB, region "
           "%016lx-%016lx%s\n", d->domain_id, d->name, b.lay.kern_start, b.lay.kern_end,
           b.params.virt_entry, b.nr_pages >> (20 - PAGE_SHIFT), b.lay.v_start, b.lay.v_end,
           b.params.has_hypercall_page ? ", hypercall page" : "");
    if (b.lay.p2m_separate)
        printk("domain %u (%s): p2m list %016lx-%016lx (INIT_P2M), pfns %#lx-%#lx\n",
               d->domain_id, d->name, b.lay.p2m_start, b.lay.p2m_end, b.lay.first_p2m_pfn,
               b.lay.first_p2m_pfn + b.lay.nr_p2m_frames - 1);
    return 0;
}
