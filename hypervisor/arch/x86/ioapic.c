/*
 * The IO-APICs. Every redirection entry starts masked; enso unmasks only the lines it
 * routes itself (the console UART). The legacy 8259 PICs are remapped and masked.
 */
#include <enso/keyhandler.h>
#include <enso/errno.h>
#include <enso/printk.h>
#include <asm/acpi.h>
#include <asm/apic.h>
#include <asm/mm.h>
#include <asm/processor.h>

#define IOAPIC_REGSEL 0
#define IOAPIC_WINDOW 4
#define IOAPIC_VER 1
#define IOAPIC_REDIR(n) (0x10 + 2 * (n))
#define REDIR_MASKED (1UL << 16)
#define REDIR_LEVEL (1UL << 15)
#define REDIR_ACTIVE_LOW (1UL << 13)

struct ioapic {
    volatile uint32_t *mmio;
    uint32_t gsi_base;
    unsigned int nr_pins;
};

static struct ioapic ioapics[MAX_IOAPICS];
static unsigned int nr_ioapics;

static uint32_t io_read(struct ioapic *a, unsigned int reg)
{
    a->mmio[IOAPIC_REGSEL] = reg;
    return a->mmio[IOAPIC_WINDOW];
}

static void io_write(struct ioapic *a, unsigned int reg, uint32_t v)
{
    a->mmio[IOAPIC_REGSEL] = reg;
    a->mmio[IOAPIC_WINDOW] = v;
}

static void write_redir(struct ioapic *a, unsigned int pin, uint64_t e)
{
    /* Mask first, so the line is never live with a half-written entry. */
    io_write(a, IOAPIC_REDIR(pin), (uint32_t)REDIR_MASKED);
    io_write(a, IOAPIC_REDIR(pin) + 1, (uint32_t)(e >> 32));
    io_write(a, IOAPIC_REDIR(pin), (uint32_t)e);
}

void pic_disable(void)
{
    /* Mask; ICW1-4: vectors 0x20/0x28 (away from exceptions), cascade, 8086 mode; mask. */
    outb(0xff, 0x21); outb(0xff, 0xa1);
    outb(0x11, 0x20); outb(0x11, 0xa0);
    outb(0x20, 0x21); outb(0x28, 0xa1);
    outb(0x04, 0x21); outb(0x02, 0xa1);
    outb(0x01, 0x21); outb(0x01, 0xa1);
    outb(0xff, 0x21); outb(0xff, 0xa1);
}

void ioapic_init(void)
{
    for (unsigned int i = 0; i < acpi_info.nr_ioapics; i++) {
        struct ioapic *a = &ioapics[nr_ioapics];
        a->mmio = ioremap(acpi_info.ioapics[i].addr, 32, false);
        if (!a->mmio)
            continue;
        a->gsi_base = acpi_info.ioapics[i].gsi_base;
        a->nr_pins = ((io_read(a, IOAPIC_VER) >> 16) & 0xff) + 1;
        for (unsigned int pin = 0; pin < a->nr_pins; pin++)
            write_redir(a, pin, REDIR_MASKED);
        printk("ioapic: %u at %#x, GSIs %u-%u, all masked\n", acpi_info.ioapics[i].id,
               acpi_info.ioapics[i].addr, a->gsi_base, a->gsi_base + a->nr_pins - 1);
        nr_ioapics++;
    }
}

static struct ioapic *ioapic_for_gsi(uint32_t gsi, unsigned int *pin)
{
    for (unsigned int i = 0; i < nr_ioapics; i++) {
        if (gsi >= ioapics[i].gsi_base && gsi < ioapics[i].gsi_base + ioapics[i].nr_pins) {
            *pin = gsi - ioapics[i].gsi_base;
            return &ioapics[i];
        }
    }
    return NULL;
}

int ioapic_route_isa_irq(unsigned int irq, unsigned int vector, uint32_t apic_id)
{
    uint32_t gsi = irq;
    uint64_t e = vector;
    unsigned int pin;
    struct ioapic *a;

    /* ISA lines are edge/active-high unless the MADT overrides them. */
    for (unsigned int i = 0; i < acpi_info.nr_overrides; i++) {
        const struct irq_override *o = &acpi_info.overrides[i];
        if (o->isa_irq != irq)
            continue;
        gsi = o->gsi;
        if ((o->flags & 3) == 3)
            e |= REDIR_ACTIVE_LOW;
        if (((o->flags >> 2) & 3) == 3)
            e |= REDIR_LEVEL;
    }
    a = ioapic_for_gsi(gsi, &pin);
    if (!a)
        return -ENODEV;
    /* x2APIC IDs above 255 need interrupt remapping; enso does not route there. */
    if (apic_id > 255)
        return -EINVAL;
    write_redir(a, pin, e | ((uint64_t)apic_id << 56));
    return 0;
}

void ioapic_dump(void)
{
    for (unsigned int i = 0; i < nr_ioapics; i++) {
        for (unsigned int pin = 0; pin < ioapics[i].nr_pins; pin++) {
            uint32_t lo = io_read(&ioapics[i], IOAPIC_REDIR(pin));
            if (!(lo & REDIR_MASKED))
                printk("  GSI %u: vector %#x%s%s\n", ioapics[i].gsi_base + pin, lo & 0xff,
                       lo & REDIR_LEVEL ? " level" : " edge", lo & REDIR_ACTIVE_LOW ? " low" : "");
        }
    }
}
