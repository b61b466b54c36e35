/* The few ACPI tables enso reads itself: MADT (CPUs, IO-APICs) and HPET. */
#ifndef ASM_ACPI_H
#define ASM_ACPI_H

#include <enso/types.h>

#define MAX_IOAPICS 8
#define MAX_ISO 16

struct ioapic_info {
    uint8_t id;
    uint32_t addr;
    uint32_t gsi_base;
};

struct irq_override {
    uint8_t isa_irq;
    uint32_t gsi;
    uint16_t flags; /* MPS INTI flags: polarity bits 0-1, trigger bits 2-3 */
};

struct acpi_info {
    paddr_t rsdp;
    uint32_t lapic_addr;
    unsigned int nr_ioapics, nr_overrides;
    struct ioapic_info ioapics[MAX_IOAPICS];
    struct irq_override overrides[MAX_ISO];
    paddr_t hpet_addr; /* 0 if no HPET table */
    bool pic_present;  /* MADT PCAT_COMPAT flag */
};

extern struct acpi_info acpi_info;

/* Finds the tables; fills acpi_info, the CPU list (cpu_apic_ids, nr_cpu_ids). */
void acpi_init(void);

#endif
