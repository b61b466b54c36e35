/*
 * A clock that tells whether a CPU has reloaded CR3 since some moment, so a flush
 * that only has to empty paging-structure caches can skip CPUs that did so already.
 *
 * The case it serves: a guest page table that loses its last use becomes an ordinary
 * frame the guest may map writable. A CPU may still cache directory entries that lead
 * through that frame (the guest need not flush when it unhooks a table), and would
 * then walk through entries the guest writes freely. So the first writable use of a
 * former table must wait until every CPU that may hold the domain's translations has
 * reloaded CR3 since the table was dropped. Linux drops whole hierarchies and then
 * remaps their frames writable one by one: with the clock only the first remap
 * flushes.
 *
 * The clock ticks when a table is dropped; a CPU notes the time read just before each
 * CR3 load. A CPU whose noted time is at or past a drop's tick loaded CR3 after it.
 */
#include <enso/percpu.h>
#include <enso/smp.h>
#include <asm/processor.h>
#include <asm/tlb_clock.h>

static uint64_t tlb_clock = 1;
static DEFINE_PER_CPU(uint64_t, cr3_loaded_at);

uint64_t tlb_clock_tick(void)
{
    return __atomic_add_fetch(&tlb_clock, 1, __ATOMIC_SEQ_CST);
}

void load_cr3_noted(unsigned long cr3)
{
    uint64_t t = __atomic_load_n(&tlb_clock, __ATOMIC_SEQ_CST);

    write_cr3(cr3);
    __atomic_store_n(&this_cpu(cr3_loaded_at), t, __ATOMIC_RELEASE);
}

void flush_tlb_local_noted(void)
{
    uint64_t t = __atomic_load_n(&tlb_clock, __ATOMIC_SEQ_CST);

    flush_tlb_local();
    __atomic_store_n(&this_cpu(cr3_loaded_at), t, __ATOMIC_RELEASE);
}

bool cpu_reloaded_cr3_since(unsigned int cpu, uint64_t tick)
{
    return __atomic_load_n(&per_cpu(cr3_loaded_at, cpu), __ATOMIC_ACQUIRE) >= tick;
}
