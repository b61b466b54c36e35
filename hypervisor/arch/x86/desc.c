/* Per-CPU GDT and TSS, and the IDT shared by all CPUs. */
#include <enso/lib.h>
#include <enso/mm.h>
#include <enso/page_alloc.h>
#include <enso/panic.h>
#include <enso/smp.h>
#include <asm/desc.h>
#include <asm/processor.h>

static struct idt_entry idt[256] __aligned(16);
/* A whole page per CPU, so PV vCPUs can map it at page 14 of their GDT window. */
static DEFINE_PER_CPU(uint64_t *, gdt);
static DEFINE_PER_CPU(struct tss64, tss);

struct __packed desc_ptr {
    uint16_t limit;
    uint64_t base;
};

/* A 16-byte system descriptor; access 0x89 = available 64-bit TSS, 0x82 = LDT. */
static void set_system_desc(uint64_t *slot, uint64_t base, uint64_t limit, uint64_t access)
{
    slot[0] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (access << 40) |
              (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    slot[1] = base >> 32;
}

static void set_tss_desc(uint64_t *slot, const struct tss64 *tss)
{
    set_system_desc(slot, (uint64_t)tss, sizeof(*tss) - 1, 0x89);
}

static void alloc_ist_stacks(struct cpu_info *ci, struct tss64 *tss)
{
    char *ist = alloc_xenheap_pages(2, 0); /* four 4 KiB stacks */

    if (!ist)
        panic("no memory for IST stacks");
    ci->ist_stacks = ist;
    tss->ist[IST_DF - 1] = (uint64_t)ist + 1 * IST_STACK_SIZE;
    tss->ist[IST_NMI - 1] = (uint64_t)ist + 2 * IST_STACK_SIZE;
    tss->ist[IST_MCE - 1] = (uint64_t)ist + 3 * IST_STACK_SIZE;
    tss->ist[IST_DB - 1] = (uint64_t)ist + 4 * IST_STACK_SIZE;
}

/* Runs on the CPU being set up: loads its GDT, segment registers and task register. */
void gdt_tss_init_cpu(unsigned int cpu)
{
    uint64_t *gdt = alloc_xenheap_pages(0, 0);
    struct tss64 *tss = &per_cpu(tss, cpu);
    struct desc_ptr gdtr = {
        .limit = FIRST_RESERVED_GDT_BYTE + GDT_ENSO_ENTRIES * 8 - 1,
        .base = (uint64_t)gdt - FIRST_RESERVED_GDT_BYTE,
    };

    if (!gdt)
        panic("no memory for CPU %u's GDT", cpu);
    per_cpu(gdt, cpu) = gdt;
    gdt[ENSO_CS >> 3 & 0x3ff] = 0x00af9a000000ffffUL;   /* 64-bit code, DPL 0 */
    gdt[ENSO_DS >> 3 & 0x3ff] = 0x00cf92000000ffffUL;   /* data, DPL 0 */
    gdt[ENSO_CS32 >> 3 & 0x3ff] = 0x00cf9a000000ffffUL; /* 32-bit code, DPL 0 */
    gdt[RING3_CS32 >> 3 & 0x3ff] = 0x00cffa000000ffffUL;
    gdt[RING3_DS >> 3 & 0x3ff] = 0x00cff2000000ffffUL;
    gdt[RING3_CS64 >> 3 & 0x3ff] = 0x00affa000000ffffUL;
    memset(tss, 0, sizeof(*tss));
    tss->iomap_base = sizeof(*tss);
    alloc_ist_stacks(&per_cpu(cpu_info, cpu), tss);
    set_tss_desc(&gdt[TSS_SEL >> 3 & 0x3ff], tss);

    __asm__ volatile("lgdt %0" ::"m"(gdtr));
    /* Reload CS with a far return, then the data segments and the task register. */
    __asm__ volatile("pushq %0; lea 1f(%%rip), %%rax; pushq %%rax; lretq; 1:"
                     ::"i"(ENSO_CS) : "rax", "memory");
    __asm__ volatile("mov %0, %%ds; mov %0, %%es; mov %0, %%ss" ::"r"(ENSO_DS));
    __asm__ volatile("ltr %w0" ::"r"(TSS_SEL));
    /* No LDT: a null LDTR, not whatever the firmware left in the register. */
    __asm__ volatile("lldt %w0" ::"r"(0));
}

mfn_t cpu_gdt_mfn(unsigned int cpu)
{
    return virt_to_mfn(per_cpu(gdt, cpu));
}

/* The idle context's GDT: enso's page with the base 0xe000 below it. */
void load_enso_gdt(void)
{
    uint64_t *gdt = this_cpu(gdt);
    struct desc_ptr gdtr = {
        .limit = FIRST_RESERVED_GDT_BYTE + GDT_ENSO_ENTRIES * 8 - 1,
        .base = (uint64_t)gdt - FIRST_RESERVED_GDT_BYTE,
    };

    __asm__ volatile("lgdt %0" ::"m"(gdtr));
}

/* A PV vCPU's GDT window: guest pages 0-13, enso's page 14. */
void load_gdt_window(uint64_t base)
{
    struct desc_ptr gdtr = {
        .limit = FIRST_RESERVED_GDT_BYTE + PAGE_SIZE - 1,
        .base = base,
    };

    __asm__ volatile("lgdt %0" ::"m"(gdtr));
}

/*
 * The LDT register: ents descriptors at base (a vCPU's LDT window), through the LDT
 * descriptor in this CPU's page of enso descriptors; no entries: a null LDTR.
 */
void load_ldt(uint64_t base, unsigned int ents)
{
    if (!ents) {
        __asm__ volatile("lldt %w0" ::"r"(0));
        return;
    }
    set_system_desc(&this_cpu(gdt)[LDT_SEL >> 3 & 0x3ff], base, ents * 8UL - 1, 0x82);
    __asm__ volatile("lldt %w0" ::"r"(LDT_SEL) : "memory");
}

void idt_set_handler(unsigned int vec, void *handler, unsigned int ist, unsigned int dpl)
{
    uint64_t a = (uint64_t)handler;

    idt[vec] = (struct idt_entry){
        .offset_lo = a & 0xffff,
        .selector = ENSO_CS,
        .ist = (uint8_t)ist,
        .type_attr = (uint8_t)(0x8e | (dpl << 5)), /* present, 64-bit interrupt gate */
        .offset_mid = (a >> 16) & 0xffff,
        .offset_hi = (uint32_t)(a >> 32),
    };
}

extern char entry_stubs[];

void idt_init(void)
{
    for (unsigned int v = 0; v < 256; v++)
        idt_set_handler(v, entry_stubs + 16 * v, 0, 0);
    /* Faults that can strike with a bad stack, or at any instant, get known-good stacks. */
    idt_set_handler(2, entry_stubs + 16 * 2, IST_NMI, 0);
    idt_set_handler(8, entry_stubs + 16 * 8, IST_DF, 0);
    idt_set_handler(18, entry_stubs + 16 * 18, IST_MCE, 0);
    /* int3 from a PV guest arrives as #BP, as on bare metal (not as a refused int $3). */
    idt_set_handler(3, entry_stubs + 16 * 3, 0, 3);
    /* int $0x80 goes straight to a PV guest's registered handler, as on Xen. */
    idt_set_handler(0x80, entry_stubs + 16 * 0x80, 0, 3);
}

void idt_load(void)
{
    struct desc_ptr idtr = { sizeof(idt) - 1, (uint64_t)idt };

    __asm__ volatile("lidt %0" ::"m"(idtr));
}

/* The stack the CPU switches to on an interrupt or exception from ring 3. */
void tss_set_rsp0(uint64_t rsp0)
{
    this_cpu(tss).rsp[0] = rsp0;
}
