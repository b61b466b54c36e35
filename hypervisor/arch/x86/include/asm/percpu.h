#ifndef ASM_PERCPU_H
#define ASM_PERCPU_H

/* The first word of the per-CPU block that GS points at is this CPU's offset. */
static inline unsigned long arch_percpu_offset(void)
{
    unsigned long off;
    __asm__("mov %%gs:0, %0" : "=r"(off));
    return off;
}

#endif
