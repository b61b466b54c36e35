/* Interrupt vectors and their handlers. */
#ifndef ENSO_IRQ_H
#define ENSO_IRQ_H

#include <enso/types.h>

struct cpu_user_regs;

/* Vector allocation: 0-31 exceptions, 0x20-0x2f legacy ISA IRQs via the IO-APIC. */
#define IRQ_VECTOR_BASE 0x20
#define VECTOR_SPURIOUS 0xff
#define VECTOR_TIMER 0xfd
#define VECTOR_CALL_FUNCTION 0xfc
#define VECTOR_EVENT_CHECK 0xfb
#define VECTOR_INVALIDATE 0xfa
#define VECTOR_ERROR 0xfe

typedef void (*irq_handler_t)(struct cpu_user_regs *regs, unsigned int vector);

/* Handlers run with interrupts off; the local APIC EOI is sent for them afterwards. */
void set_irq_handler(unsigned int vector, irq_handler_t fn);
void do_irq(struct cpu_user_regs *regs);

#endif
