#ifndef ASM_PERCPU_H
#define ASM_PERCPU_H

/*
 * The first word of the per-CPU block that GS points at is this CPU's offset. Read
 * afresh at every use: code running on a vCPU's stack may be switched out and resumed
 * on another CPU (inside do_softirq, context_switch), so the compiler must not keep
 * an earlier value across anything.
 */
static inline unsigned long arch_percpu_offset(void)
{
    unsigned long off;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(off) : : "memory");
    return off;
}

#endif
