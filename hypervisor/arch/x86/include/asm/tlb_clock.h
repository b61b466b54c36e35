/* Filtering flushes of paging-structure caches (arch/x86/tlb_clock.c). */
#ifndef ASM_TLB_CLOCK_H
#define ASM_TLB_CLOCK_H

#include <enso/types.h>

/* A page table was dropped: the tick to compare CPUs' CR3 loads against. */
uint64_t tlb_clock_tick(void);
/* A CR3 load, or a full local flush, that notes when it happened. */
void load_cr3_noted(unsigned long cr3);
void flush_tlb_local_noted(void);
/* Whether cpu has loaded CR3 (or flushed) since the clock showed tick. */
bool cpu_reloaded_cr3_since(unsigned int cpu, uint64_t tick);

#endif
