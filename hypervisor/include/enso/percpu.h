/*
 * Per-CPU variables. Each CPU has a copy of the .data.percpu section; the GS base points
 * at that CPU's struct cpu_info, whose first word is the offset from the link-time copy to
 * this CPU's copy, so this_cpu(x) costs one %gs-relative load.
 */
#ifndef ENSO_PERCPU_H
#define ENSO_PERCPU_H

#include <enso/types.h>
#include <asm/percpu.h>

/* Also defined by <enso/bitmap.h>; both guard it so either may come first. */
#ifndef NR_CPUS
#define NR_CPUS 64
#endif

#define DEFINE_PER_CPU(type, name) __section(".data.percpu") __typeof__(type) per_cpu__##name
#define DECLARE_PER_CPU(type, name) extern __typeof__(type) per_cpu__##name

extern unsigned long __per_cpu_offset[NR_CPUS];

#define per_cpu(name, cpu) \
    (*(__typeof__(per_cpu__##name) *)((char *)&per_cpu__##name + __per_cpu_offset[cpu]))
#define this_cpu(name) \
    (*(__typeof__(per_cpu__##name) *)((char *)&per_cpu__##name + arch_percpu_offset()))

#endif
