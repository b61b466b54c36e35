/* Thin wrappers around x86 instructions: ports, MSRs, control registers, CPUID. */
#ifndef ASM_PROCESSOR_H
#define ASM_PROCESSOR_H

#include <enso/types.h>
#include <asm/boot.h>

static inline void outb(uint8_t v, uint16_t port) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outw(uint16_t v, uint16_t port) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outl(uint32_t v, uint16_t port) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* rdtsc is not ordered against earlier loads; lfence makes the sample precise. */
static inline uint64_t rdtsc_ordered(void)
{
    __asm__ volatile("lfence" ::: "memory");
    return rdtsc();
}

static inline void cpuid_count(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}
static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    cpuid_count(leaf, 0, a, b, c, d);
}

#define DEFINE_CR(n)                                                                     \
    static inline unsigned long read_cr##n(void)                                         \
    {                                                                                    \
        unsigned long v;                                                                 \
        __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));                                \
        return v;                                                                        \
    }                                                                                    \
    static inline void write_cr##n(unsigned long v) { __asm__ volatile("mov %0, %%cr" #n ::"r"(v) : "memory"); }
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

static inline void invlpg(const void *va) { __asm__ volatile("invlpg (%0)" ::"r"(va) : "memory"); }
static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void halt(void) { __asm__ volatile("hlt" ::: "memory"); }
static inline void local_irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void local_irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
/* sti;hlt: the interrupt shadow of sti means no wake-up can slip in between. */
static inline void safe_halt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }

static inline unsigned long local_save_flags(void)
{
    unsigned long f;
    __asm__ volatile("pushf; pop %0" : "=r"(f)::"memory");
    return f;
}
#define X86_EFLAGS_IF (1UL << 9)
#define X86_EFLAGS_AC (1UL << 18)
static inline bool local_irq_is_enabled(void) { return local_save_flags() & X86_EFLAGS_IF; }
static inline unsigned long local_irq_save(void)
{
    unsigned long f = local_save_flags();
    local_irq_disable();
    return f;
}
static inline void local_irq_restore(unsigned long f)
{
    if (f & X86_EFLAGS_IF)
        local_irq_enable();
}

/*
 * Drop every TLB entry of this CPU, global ones included: PV guests may set the global
 * bit in their own L1 entries, so a CR3 write alone would leave their translations
 * behind. Toggling CR4.PGE flushes everything.
 */
static inline void flush_tlb_local(void)
{
    unsigned long flags = local_irq_save(), cr4 = read_cr4();

    if (cr4 & (1UL << 7)) {
        write_cr4(cr4 & ~(1UL << 7));
        write_cr4(cr4);
    } else {
        write_cr3(read_cr3());
    }
    local_irq_restore(flags);
}

/* SMAP: enso touches guest memory only between stac and clac. */
static inline void stac(void) { __asm__ volatile(".byte 0x0f,0x01,0xcb" ::: "memory"); }
static inline void clac(void) { __asm__ volatile(".byte 0x0f,0x01,0xca" ::: "memory"); }

#define DEFINE_DR(n)                                                                     \
    static inline unsigned long read_dr##n(void)                                         \
    {                                                                                    \
        unsigned long v;                                                                 \
        __asm__ volatile("mov %%db" #n ", %0" : "=r"(v));                                \
        return v;                                                                        \
    }                                                                                    \
    static inline void write_dr##n(unsigned long v) { __asm__ volatile("mov %0, %%db" #n ::"r"(v)); }
DEFINE_DR(0)
DEFINE_DR(1)
DEFINE_DR(2)
DEFINE_DR(3)
DEFINE_DR(6)
DEFINE_DR(7)
#undef DEFINE_DR

/* CR0.TS: the next FPU/SSE instruction raises #NM (how a guest's virtual TS is honoured). */
static inline void clts(void) { __asm__ volatile("clts" ::: "memory"); }
static inline void stts(void) { write_cr0(read_cr0() | (1UL << 3)); }
static inline void wbinvd(void) { __asm__ volatile("wbinvd" ::: "memory"); }

#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_APIC_BASE 0x1b
#define MSR_TSC_DEADLINE 0x6e0
#define MSR_PAT 0x277

#endif
