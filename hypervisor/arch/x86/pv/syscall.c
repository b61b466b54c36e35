/*
 * SYSCALL MSRs. STAR's upper selector base 0xe023 makes SYSRET (unused for now) land on
 * enso's ring-3 descriptors: 0xe023 (32-bit code), 0xe02b (stack), 0xe033 (64-bit code),
 * which are the flat selectors of the Xen ABI. SFMASK clears IF, TF, DF, NT and AC so
 * the entry runs with interrupts off, no single-step and SMAP enforced.
 */
#include <asm/desc.h>
#include <asm/processor.h>
#include <asm/pv.h>

#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SFMASK 0xc0000084

extern char syscall_entry[], syscall32_entry[];

void pv_syscall_init_cpu(void)
{
    wrmsr(MSR_STAR, ((uint64_t)RING3_CS32 << 48) | ((uint64_t)ENSO_CS << 32));
    wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
    wrmsr(MSR_CSTAR, (uint64_t)syscall32_entry);
    wrmsr(MSR_SFMASK, X86_EFLAGS_IF | X86_EFLAGS_TF | X86_EFLAGS_DF | X86_EFLAGS_NT |
                          X86_EFLAGS_AC);
}
