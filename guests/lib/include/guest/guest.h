/*
 * The test-kernel library: what the builder handed over, console output, memory
 * helpers. Test files include <guest/test.h>, which includes this.
 */
#ifndef GUEST_GUEST_H
#define GUEST_GUEST_H

#include <enso/lib.h>
#include <enso/errno.h>
#include <public/xen.h>
#include <guest/layout.h>
#include <guest/hypercall.h>

/* The registers the builder entered _start with (head.S stores them first thing). */
struct entry_regs {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rflags, cs, ss, ds, es, fs, gs;
};
extern struct entry_regs entry_regs;

extern struct start_info *start_info;
/* The shared info page, mapped by the library before any test runs. */
extern struct shared_info *shared_info;

/* Linker symbols (guest.lds). */
extern char _text[], _etext[], _data[], _edata[], __bss_start[], __bss_end[], _end[];

/* The read-only machine-to-phys table every PV guest finds at MACH2PHYS_VIRT_START. */
#define M2P ((const volatile uint64_t *)MACH2PHYS_VIRT_START)

#define X86_EFLAGS_CF 0x00000001UL
#define X86_EFLAGS_TF 0x00000100UL
#define X86_EFLAGS_IF 0x00000200UL
#define X86_EFLAGS_DF 0x00000400UL
#define X86_EFLAGS_IOPL 0x00003000UL
#define X86_EFLAGS_RF 0x00010000UL
#define X86_EFLAGS_AC 0x00040000UL

#define _PAGE_PRESENT 0x001UL
#define _PAGE_RW 0x002UL
#define _PAGE_USER 0x004UL
#define _PAGE_ACCESSED 0x020UL
#define _PAGE_DIRTY 0x040UL
#define _PAGE_PSE 0x080UL
#define _PAGE_NX (1UL << 63)
#define PTE_MFN(pte) (((pte) & 0x000ffffffffff000UL) >> PAGE_SHIFT)

/* Console: console_io for dom0, the console ring otherwise. */
void console_write(const char *s, size_t n);
int printf(const char *fmt, ...) __printf(1, 2);
int vprintf(const char *fmt, va_list ap);

/* SCHEDOP_shutdown with this reason; should it return, spins yielding. */
__noreturn void guest_shutdown(unsigned int reason);

/* p2m lookup through start_info.mfn_list. */
uint64_t pfn_to_mfn(uint64_t pfn);

/*
 * The machine frame behind va in the bootstrap page tables, walking them from the L4 at
 * start_info.pt_base. Returns false if va is not mapped (or a table lies outside the
 * bootstrap page tables, which the walker cannot read); *leaf gets the L1 (or large
 * page) entry, *level its level (1..4).
 */
bool pt_lookup(uint64_t va, uint64_t *leaf, int *level);

/* Maps machine frame mfn at the page-aligned va (which must have an L1 already). */
long map_mfn(ulong va, uint64_t mfn, uint64_t flags);

/* Guest command line: the value of "name=..." (up to the next space), or NULL. */
const char *cmdline_get(const char *name, char *buf, size_t size);
unsigned long long cmdline_get_num(const char *name, unsigned long long dflt);

/* A 4 KiB, page-aligned, otherwise unused page in .bss for mapping things at. */
extern char scratch_page[4096];
/*
 * Pages of the image the library maps something else at (shared_info, the console
 * ring): their mapping no longer follows the p2m. Tests that remap scratch_page
 * must account for it themselves.
 */
extern char shared_info_page[4096], console_ring_page[4096];
static inline bool lib_remapped(uint64_t va)
{
    va &= PAGE_MASK;
    return va == (uint64_t)shared_info_page || va == (uint64_t)console_ring_page;
}

#endif
