#ifndef ASM_PERCPU_H
#define ASM_PERCPU_H
/* Host unit tests run as a single CPU 0 whose per-CPU copy is the link-time one. */
static inline unsigned long arch_percpu_offset(void) { return 0; }
#endif
