/* Local APIC (xAPIC through MMIO, or x2APIC through MSRs) and the IO-APICs. */
#ifndef ASM_APIC_H
#define ASM_APIC_H

#include <enso/types.h>

#define APIC_ID 0x20
#define APIC_VERSION 0x30
#define APIC_TPR 0x80
#define APIC_EOI 0xb0
#define APIC_LDR 0xd0
#define APIC_SVR 0xf0
#define APIC_ESR 0x280
#define APIC_ICR 0x300
#define APIC_ICR2 0x310
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_LVT_ERROR 0x370
#define APIC_TMICT 0x380
#define APIC_TMCCT 0x390
#define APIC_TDCR 0x3e0

#define APIC_LVT_MASKED (1u << 16)
#define APIC_TIMER_TSC_DEADLINE (2u << 17)
#define APIC_DM_NMI (4u << 8)
#define APIC_DM_INIT (5u << 8)
#define APIC_DM_STARTUP (6u << 8)
#define APIC_LEVEL_ASSERT (1u << 14)
#define APIC_DEST_SELF (1u << 18)
#define APIC_DEST_ALLBUT (3u << 18)

extern bool x2apic_enabled;

void apic_init_bsp(void);
void apic_setup_cpu(void);
uint32_t apic_read(unsigned int reg);
void apic_write(unsigned int reg, uint32_t v);
uint32_t apic_current_id(void);
void apic_eoi(void);
void apic_send_ipi(uint32_t apic_id, uint32_t icr_low);
/* INIT, then two STARTUPs pointing at the trampoline page; returns after sending. */
void apic_wakeup_ap(uint32_t apic_id, paddr_t trampoline);

/* IO-APIC */
void ioapic_init(void);
/* Route ISA IRQ `irq` (after overrides) to `vector` on the CPU with apic_id; unmasked. */
int ioapic_route_isa_irq(unsigned int irq, unsigned int vector, uint32_t apic_id);
void ioapic_dump(void);
void pic_disable(void);

#endif
